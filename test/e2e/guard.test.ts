import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agence, CLI, json, repo, type Run, type Sandbox, sandbox } from './helpers.js';

const sb = sandbox();
const shard = repo(sb, 'app');
expect(agence(sb, shard, ['^init']).code).toBe(0);
const plain = repo(sb, 'plain');

function withStdin(box: Sandbox, cwd: string, args: string[], input: string, env: NodeJS.ProcessEnv = {}): Run {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, env: { ...box.env, ...env }, input, encoding: 'utf8' });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

const payload = (name: string, cwd: string) => readFileSync(join(import.meta.dirname, '../fixtures/claude', `${name}.json`), 'utf8').replaceAll('$CWD', cwd);
type HookOut = { hookSpecificOutput: { hookEventName: string; permissionDecision: string; permissionDecisionReason: string } };

describe('^guard check', () => {
  it('gives the tier and the reasons, with --json', () => {
    const run = agence(sb, shard, ['^guard', 'check', 'git status && git push --force origin main', '--json']);
    expect(run.code).toBe(0);
    const d = json<{ tier: string; reasons: { rule: string | null; part: string }[]; policy: string[] }>(run);
    expect(d.tier).toBe('T4');
    expect(d.reasons[0]).toMatchObject({ rule: 'git-push-force-default-branch', part: 'git push --force origin main' });
    expect(d.policy).toEqual(['.agence/codex/AIPOLICY.yaml']);
  });

  it('reads everyday work as T0/T1 and explains in words', () => {
    const run = agence(sb, shard, ['shared', 'guard', 'check', 'cat README.md | head']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^T0 run: cat README.md \| head/);
    expect(run.stdout).toContain('[cat] read-only');
  });

  it('works outside a shard with the built-in policy', () => {
    const d = json<{ tier: string; policy: string[] }>(agence(sb, plain, ['^guard', 'check', 'rm -rf build', '--json']));
    expect(d).toMatchObject({ tier: 'T3', policy: ['built-in codex/AIPOLICY.yaml'] });
  });

  it('a local policy in the shard raises a tier', () => {
    const box = sandbox();
    const dir = repo(box, 'tight');
    agence(box, dir, ['^init']);
    const file = join(dir, '.agence/codex/AIPOLICY.yaml');
    // The first check caches the merged policy; the edit must still be seen.
    expect(json<{ tier: string }>(agence(box, dir, ['^guard', 'check', 'git status', '--json'])).tier).toBe('T0');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/(- id: git-status\n {4}command: git status\n {4}tier: )T0/, '$1T2'));
    expect(json<{ tier: string }>(agence(box, dir, ['^guard', 'check', 'git status', '--json'])).tier).toBe('T2');
  });

  it('a policy cache that is not what agence wrote is rebuilt from the policy files, never believed', () => {
    const box = sandbox();
    const dir = repo(box, 'cached');
    agence(box, dir, ['^init']);
    const cacheFile = join(dir, '.agence/nexus/cache/guard-policy.json');
    const tier = () => json<{ tier: string }>(agence(box, dir, ['^guard', 'check', 'rm -rf build', '--json'])).tier;
    expect(tier()).toBe('T3');
    const cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as { texts: (string | null)[]; value: { policy: { rules: unknown[] }; sources: string[] } };
    expect(cache.value.policy.rules.length).toBeGreaterThan(100);
    // Stale texts (as after an edit) with a policy that would allow everything: a miss.
    const allowAll = { ...cache.value, policy: { default_tier: 'T0', rules: [] } };
    writeFileSync(cacheFile, JSON.stringify({ ...cache, texts: cache.texts.map((t, i) => (i % 2 === 1 ? `${t}# edited\n` : t)), value: allowAll }));
    expect(tier()).toBe('T3');
    expect(JSON.parse(readFileSync(cacheFile, 'utf8'))).toEqual(cache);
    // The right texts but no policy in it, and a file that is not JSON: rebuilt each time.
    writeFileSync(cacheFile, JSON.stringify({ ...cache, value: { ...cache.value, policy: null } }));
    expect(tier()).toBe('T3');
    writeFileSync(cacheFile, '{"format":');
    expect(tier()).toBe('T3');
    expect(JSON.parse(readFileSync(cacheFile, 'utf8'))).toEqual(cache);
  });

  it('a malformed AIPOLICY.yaml refuses everything with exit 3, naming the file and line', () => {
    const box = sandbox();
    const dir = repo(box, 'broken');
    agence(box, dir, ['^init']);
    const file = join(dir, '.agence/codex/AIPOLICY.yaml');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('  - id: cat\n    command: cat\n    tier: T0', '  - id: cat\n    command: cat\n    tier: T7'));
    const line = text.slice(0, text.indexOf('  - id: cat\n')).split('\n').length;
    const run = agence(box, dir, ['^guard', 'check', 'ls']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`.agence/codex/AIPOLICY.yaml line ${line}: rule`);
    expect(run.stderr).toContain('refuses every command');
    const validated = agence(box, dir, ['/git-status']);
    expect(validated.code).toBe(3);
    expect(validated.stderr).toContain(`AIPOLICY.yaml line ${line}`);

    writeFileSync(file, `${text}\n  - id: [broken\n`);
    const yamlError = agence(box, dir, ['^guard', 'check', 'ls']);
    expect(yamlError.code).toBe(3);
    expect(yamlError.stderr).toMatch(/\.agence\/codex\/AIPOLICY\.yaml line \d+ is not valid YAML/);

    // The hook denies rather than fail: Claude Code would run the command on a failing hook.
    const hook = withStdin(box, dir, ['^guard', 'hook', 'claude'], payload('bash-git-status', dir));
    expect(hook.code).toBe(0);
    const out = JSON.parse(hook.stdout) as HookOut;
    expect(out.hookSpecificOutput.permissionDecision).toBe('deny');
    expect(out.hookSpecificOutput.permissionDecisionReason).toContain('AIPOLICY.yaml line');
  });

  it('needs the command', () => {
    expect(agence(sb, shard, ['^guard', 'check']).code).toBe(1);
    expect(agence(sb, shard, ['^guard']).stderr).toContain('needs a subcommand');
  });
});

describe('^guard hook claude (recorded PreToolUse payloads)', () => {
  it('keeps the V8 code caches valid when it runs the bash grammar (its V8 flag is off again at exit)', () => {
    const box = sandbox();
    const dir = repo(box, 'caches');
    agence(box, dir, ['^init']);
    const cacheDir = join(box.env.HOME as string, '.cache/agence/v8');
    const input = JSON.stringify({ session_id: 's', cwd: dir, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: "git log | head -3 && bash -c 'ls'" } });
    const hook = () => expect(withStdin(box, dir, ['^guard', 'hook', 'claude'], input).code).toBe(0);
    const caches = () => Object.fromEntries(readdirSync(cacheDir).filter((f) => /guard/.test(f)).map((f) => [f, statSync(join(cacheDir, f)).ino]));
    hook();
    const first = caches();
    expect(Object.keys(first)).toHaveLength(2);
    // A cache V8 rejects is written again (a new file); one it accepts is left alone.
    hook();
    hook();
    expect(caches()).toEqual(first);
  });

  it('allows T0/T1, asks T2, denies T3/T4, and logs each decision', () => {
    const decide = (name: string) => {
      const run = withStdin(sb, shard, ['^guard', 'hook', 'claude'], payload(name, shard));
      expect(run.code, run.stderr).toBe(0);
      return (JSON.parse(run.stdout) as HookOut).hookSpecificOutput;
    };
    expect(decide('bash-git-status')).toMatchObject({ hookEventName: 'PreToolUse', permissionDecision: 'allow' });
    expect(decide('bash-push')).toMatchObject({ permissionDecision: 'ask', permissionDecisionReason: expect.stringContaining('[git-push]') });
    const push = decide('bash-force-push-main');
    expect(push.permissionDecision).toBe('deny');
    expect(push.permissionDecisionReason).toContain('T4');

    const ledger = readFileSync(join(shard, '.agence/nexus/ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(ledger.map((e) => [e.action, e.decision, e.tier, e.actor, e.data.session])).toEqual([
      ['guard.hook', 'allow', 'T0', 'claude', '0b6f3c52-8d5e-4a3b-9d0e-5a1c7e2f9b10'],
      ['guard.hook', 'ask', 'T2', 'claude', '0b6f3c52-8d5e-4a3b-9d0e-5a1c7e2f9b10'],
      ['guard.hook', 'deny', 'T4', 'claude', '0b6f3c52-8d5e-4a3b-9d0e-5a1c7e2f9b10'],
    ]);
    expect(agence(sb, shard, ['^ledger', 'verify']).code).toBe(0);
  });

  it('leaves other tools to Claude Code (no decision), and denies what it cannot read', () => {
    const write = withStdin(sb, shard, ['^guard', 'hook', 'claude'], payload('write-file', shard));
    expect(write).toMatchObject({ code: 0, stdout: '' });
    const garbage = withStdin(sb, shard, ['^guard', 'hook', 'claude'], 'not json');
    expect(garbage.code).toBe(0);
    expect((JSON.parse(garbage.stdout) as HookOut).hookSpecificOutput.permissionDecision).toBe('deny');
    const noCommand = withStdin(sb, shard, ['^guard', 'hook', 'claude'], '{"tool_name":"Bash","tool_input":{}}');
    expect((JSON.parse(noCommand.stdout) as HookOut).hookSpecificOutput.permissionDecision).toBe('deny');
    expect(agence(sb, shard, ['^guard', 'hook', 'cursor']).code).toBe(1);
  });

  it('uses the payload cwd to find the shard', () => {
    const before = readFileSync(join(shard, '.agence/nexus/ledger.jsonl'), 'utf8').trim().split('\n').length;
    const run = withStdin(sb, plain, ['^guard', 'hook', 'claude'], payload('bash-git-status', shard));
    expect((JSON.parse(run.stdout) as HookOut).hookSpecificOutput.permissionDecision).toBe('allow');
    expect(readFileSync(join(shard, '.agence/nexus/ledger.jsonl'), 'utf8').trim().split('\n')).toHaveLength(before + 1);
  });
});

describe('^setup claude', () => {
  it('merges the hook into .claude/settings.local.json, keeps what is there, and is idempotent', () => {
    const box = sandbox();
    const dir = repo(box, 'claude');
    mkdirSync(join(dir, '.claude'));
    const settings = join(dir, '.claude/settings.local.json');
    const mine = { permissions: { allow: ['Bash(npm test)'] }, hooks: { PreToolUse: [{ matcher: 'Write', hooks: [{ type: 'command', command: 'mine.sh' }] }], Stop: [] } };
    writeFileSync(settings, JSON.stringify(mine));
    const first = agence(box, dir, ['^setup', 'claude', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(json(first)).toMatchObject({ change: 'added' });
    const after = JSON.parse(readFileSync(settings, 'utf8'));
    expect(after.permissions).toEqual(mine.permissions);
    expect(after.hooks.Stop).toEqual([]);
    expect(after.hooks.PreToolUse[0]).toEqual(mine.hooks.PreToolUse[0]);
    expect(after.hooks.PreToolUse[1]).toMatchObject({ matcher: 'Bash', hooks: [{ type: 'command', command: expect.stringContaining('shared guard hook claude') }] });

    const again = agence(box, dir, ['^setup', 'claude', '--json']);
    expect(json(again)).toMatchObject({ change: 'unchanged' });
    expect(readFileSync(settings, 'utf8')).toBe(`${JSON.stringify(after, null, 2)}\n`);

    // The installed command line really is the hook: run it as Claude Code would, through a shell.
    const hook = spawnSync('sh', ['-c', after.hooks.PreToolUse[1].hooks[0].command], { cwd: dir, env: box.env, input: payload('bash-git-status', dir), encoding: 'utf8' });
    expect((JSON.parse(hook.stdout) as HookOut).hookSpecificOutput.permissionDecision).toBe('allow');
  });

  it('never overwrites settings it cannot read', () => {
    const box = sandbox();
    const dir = repo(box, 'claude-bad');
    mkdirSync(join(dir, '.claude'));
    writeFileSync(join(dir, '.claude/settings.local.json'), '{ "hooks": ');
    const run = agence(box, dir, ['^setup', 'claude']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('.claude/settings.local.json is not valid JSON');
    expect(readFileSync(join(dir, '.claude/settings.local.json'), 'utf8')).toBe('{ "hooks": ');
  });
});
