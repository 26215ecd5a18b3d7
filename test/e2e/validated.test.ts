import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agence, CLI, git, json, repo, sandbox } from './helpers.js';

const sb = sandbox();
const dir = repo(sb, 'svc');
expect(agence(sb, dir, ['^init']).code).toBe(0);
const remote = join(sb.dir, 'remote.git');
git(sb, sb.dir, ['init', '-q', '--bare', remote]);
git(sb, dir, ['remote', 'add', 'origin', remote]);
// A shard's own validated command: pushing is T2 by policy whatever the entry's floor says.
const commandsFile = join(dir, '.agence/codex/commands.json');
const commands = JSON.parse(readFileSync(commandsFile, 'utf8'));
commands.commands.push = { description: 'Push a branch to origin', argv: ['git', 'push', 'origin', '{1}'], args: [{ name: 'branch', required: true }], tier: 'T1' };
commands.commands['force-push'] = { description: 'Force-push a branch', argv: ['git', 'push', '--force', 'origin', '{1}'], args: [{ name: 'branch', required: true }], tier: 'T1' };
writeFileSync(commandsFile, JSON.stringify(commands, null, 2));

const AGENT = { AGENCE_AGENT: 'claude' };
const lines = (file: string) => readFileSync(join(dir, '.agence/nexus', file), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const remoteHas = (branch: string) => spawnSync('git', ['rev-parse', '--verify', '-q', `refs/heads/${branch}`], { cwd: remote, env: sb.env }).status === 0;

describe('the / mode', () => {
  it('lists the effective commands.json', () => {
    const run = agence(sb, dir, ['/', '--json']);
    expect(run.code).toBe(0);
    const rows = json<{ name: string; tier: string; usage: string }[]>(run);
    expect(rows).toContainEqual(expect.objectContaining({ name: 'git-status', tier: 'T0' }));
    expect(rows).toContainEqual(expect.objectContaining({ name: 'push', usage: '/push <branch>' }));
    expect(agence(sb, dir, ['run']).stdout).toContain('/terraform-apply');
  });

  it('runs a T0 command without a shell and logs command, tier, actor, exit code and duration', () => {
    const run = agence(sb, dir, ['/git-status', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toMatchObject({ status: 'ran', exit: 0, argv: ['git', 'status', '--short', '--branch'], stdout: expect.stringContaining('## main') });
    const logged = lines('logs/commands.jsonl').at(-1);
    expect(logged).toMatchObject({ command: 'git-status', tier: 'T0', actor: 'test@example.com', outcome: 'ran', exit: 0, duration_ms: expect.any(Number) });
    // the decision before the run, the exit after it
    expect(lines('ledger.jsonl').slice(-2)).toEqual([
      expect.objectContaining({ action: 'command.run', subject: 'git status --short --branch', tier: 'T0', decision: 'allowed', actor: 'test@example.com' }),
      expect.objectContaining({ action: 'command.exit', subject: 'git status --short --branch', tier: 'T0', decision: 'ran', actor: 'test@example.com', data: expect.objectContaining({ exit: 0 }) }),
    ]);
  });

  it('passes the exit code of the command through, arguments stay one word each', () => {
    const run = agence(sb, dir, ['/commit', 'nothing staged; $(touch pwned)']);
    expect(run.code).toBe(1);
    expect(lines('logs/commands.jsonl').at(-1)).toMatchObject({ command: 'commit', argv: ['git', 'commit', '-m', 'nothing staged; $(touch pwned)'], exit: 1 });
    expect(spawnSync('ls', [dir], { encoding: 'utf8' }).stdout).not.toContain('pwned');
  });

  it('refuses /terraform-apply (T3) with exit 2 and logs the refusal', () => {
    const run = agence(sb, dir, ['/terraform-apply']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('T3 and never runs');
    expect(lines('logs/commands.jsonl').at(-1)).toMatchObject({ command: 'terraform-apply', outcome: 'refused', tier: 'T3' });
  });

  it('bad input: unknown command, missing or extra arguments', () => {
    expect(agence(sb, dir, ['/nosuch']).stderr).toContain('no validated command /nosuch');
    expect(agence(sb, dir, ['/commit']).stderr).toContain('/commit needs 1 argument');
    expect(agence(sb, dir, ['/git-status', 'extra']).stderr).toContain('takes at most 0 arguments');
    expect(agence(sb, dir, ['/commit']).code).toBe(1);
  });
});

describe('T2 approvals', () => {
  it('without a terminal an agent gets exit 2 and an approval id; after ^approve the command runs once', () => {
    const first = agence(sb, dir, ['/push', 'main', '--json'], AGENT);
    expect(first.code).toBe(2);
    const { approval } = json<{ approval: string; status: string }>(first);
    expect(approval).toMatch(/^cmd-[0-9a-f]{10}$/);
    expect(first.stderr).toContain(`agence ^approve ${approval}`);
    // Asking again does not pile up requests.
    expect(json<{ approval: string }>(agence(sb, dir, ['/push', 'main', '--json'], AGENT)).approval).toBe(approval);

    const list = json<{ id: string; subject: string; requested_by: string }[]>(agence(sb, dir, ['^approve', '--list', '--json']));
    expect(list).toEqual([expect.objectContaining({ id: approval, subject: 'git push origin main', requested_by: 'claude' })]);

    const byAgent = agence(sb, dir, ['^approve', approval, '--yes'], AGENT);
    expect(byAgent.code).toBe(2);
    expect(byAgent.stderr).toContain('agents cannot approve');
    const noTty = agence(sb, dir, ['^approve', approval]);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('needs a terminal');

    const yes = agence(sb, dir, ['^approve', approval, '--yes']);
    expect(yes.code, yes.stderr).toBe(0);
    expect(lines('ledger.jsonl').at(-1)).toMatchObject({ action: 'approval.approve', decision: 'approved', actor: 'test@example.com' });
    expect(agence(sb, dir, ['^approve', approval, '--yes']).stderr).toContain('already approved');

    const ran = agence(sb, dir, ['/push', 'main'], AGENT);
    expect(ran.code, ran.stderr).toBe(0);
    expect(remoteHas('main')).toBe(true);
    expect(lines('logs/commands.jsonl').at(-1)).toMatchObject({ command: 'push', tier: 'T2', actor: 'claude', outcome: 'ran', approval });

    const again = agence(sb, dir, ['/push', 'main', '--json'], AGENT);
    expect(again.code).toBe(2);
    expect(json<{ approval: string }>(again).approval).not.toBe(approval);
  });

  it('on a terminal a person is asked instead: no runs nothing, yes runs it', () => {
    git(sb, dir, ['branch', 'asked']);
    // `script` gives the command a terminal; what is piped in is typed at it.
    const onTty = (answer: string) =>
      spawnSync('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} /push asked`, '/dev/null'], { cwd: dir, env: { ...sb.env, TERM: 'dumb' }, input: answer, encoding: 'utf8' });
    const no = onTty('n\n');
    expect(no.stdout).toContain('T2: run `git push origin asked`?');
    expect(remoteHas('asked')).toBe(false);
    expect(lines('logs/commands.jsonl').at(-1)).toMatchObject({ command: 'push', outcome: 'declined' });
    onTty('y\n');
    expect(remoteHas('asked')).toBe(true);
    expect(lines('logs/commands.jsonl').at(-1)).toMatchObject({ command: 'push', outcome: 'ran', approval: 'terminal', tier: 'T2' });
  });

  it('a person on a terminal approves without --yes', () => {
    git(sb, dir, ['branch', 'tty-approved']);
    const asked = json<{ approval: string }>(agence(sb, dir, ['/push', 'tty-approved', '--json'], AGENT));
    const tty = spawnSync('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} ^approve ${asked.approval}`, '/dev/null'], { cwd: dir, env: { ...sb.env, TERM: 'dumb' }, encoding: 'utf8' });
    expect(tty.stdout).toContain(`Approved ${asked.approval}`);
    expect(agence(sb, dir, ['/push', 'tty-approved'], AGENT).code).toBe(0);
    expect(remoteHas('tty-approved')).toBe(true);
  });

  it('^deny keeps the command refused', () => {
    git(sb, dir, ['branch', 'denied-branch']);
    const asked = json<{ approval: string }>(agence(sb, dir, ['/push', 'denied-branch', '--json'], AGENT));
    const deny = agence(sb, dir, ['^deny', asked.approval, '--yes', '--json']);
    expect(deny.code).toBe(0);
    expect(json(deny)).toMatchObject({ status: 'denied', decided_by: 'test@example.com' });
    expect(agence(sb, dir, ['/push', 'denied-branch'], AGENT).code).toBe(2);
    expect(remoteHas('denied-branch')).toBe(false);
    expect(agence(sb, dir, ['^deny', 'no-such-id', '--yes']).code).toBe(1);
    expect(agence(sb, dir, ['^deny', '../etc', '--yes']).stderr).toContain('is not an approval id');
  });
});

describe('capability tokens', () => {
  it('an admin grant turns matching T2 into T1 for that agent, counts uses, never lifts T3, and can be revoked', () => {
    git(sb, dir, ['branch', 'feature']);
    const issued = agence(sb, dir, ['^grant', 'claude', 'git push origin *', '--uses', '2', '--ttl', '2h', '--json']);
    expect(issued.code, issued.stderr).toBe(0);
    const token = json<{ id: string; uses: number }>(issued);
    expect(token.id).toMatch(/^g-[0-9a-f]{12}$/);

    // Another agent does not get it.
    expect(agence(sb, dir, ['/push', 'feature'], { AGENCE_AGENT: 'aider' }).code).toBe(2);
    const ran = agence(sb, dir, ['/push', 'feature', '--json'], AGENT);
    expect(ran.code, ran.stderr).toBe(0);
    expect(json(ran)).toMatchObject({ status: 'ran', decision: { tier: 'T1', grants: [token.id] } });
    expect(remoteHas('feature')).toBe(true);

    // The Claude Code hook honours it too (and counts the use); T3 stays denied.
    const hook = (command: string) =>
      JSON.parse(spawnSync(process.execPath, [CLI, '^guard', 'hook', 'claude'], { cwd: dir, env: { ...sb.env, ...AGENT }, input: JSON.stringify({ tool_name: 'Bash', tool_input: { command }, cwd: dir }), encoding: 'utf8' }).stdout).hookSpecificOutput;
    expect(hook('git push --force origin feature').permissionDecision).toBe('deny');
    expect(hook('git push origin feature')).toMatchObject({ permissionDecision: 'allow', permissionDecisionReason: expect.stringContaining(token.id) });
    // Two uses spent: the token is used up.
    expect(hook('git push origin feature').permissionDecision).toBe('ask');
    const listed = json<{ token: { id: string }; used: number; valid: boolean; why: string }[]>(agence(sb, dir, ['^grant', '--list', '--json']));
    expect(listed.find((g) => g.token.id === token.id)).toMatchObject({ used: 2, valid: false, why: 'used up' });

    const second = json<{ id: string }>(agence(sb, dir, ['^grant', 'claude', 'git push origin *', '--json']));
    expect(agence(sb, dir, ['^revoke', second.id]).code).toBe(0);
    expect(hook('git push origin feature').permissionDecision).toBe('ask');
    expect(lines('ledger.jsonl').map((e) => e.action)).toEqual(expect.arrayContaining(['grant.issue', 'grant.revoke', 'guard.hook']));
  });

  it('a token edited on disk counts for nothing', () => {
    const issued = json<{ id: string }>(agence(sb, dir, ['^grant', 'claude', 'git push origin feature', '--json']));
    const file = join(dir, '.agence/nexus/grants', `${issued.id}.json`);
    writeFileSync(file, readFileSync(file, 'utf8').replace('git push origin feature', 'git push *'));
    const listed = json<{ token: { id: string }; valid: boolean; why: string }[]>(agence(sb, dir, ['^grant', '--list', '--json']));
    expect(listed.find((g) => g.token.id === issued.id)).toMatchObject({ valid: false, why: 'signature does not verify' });
    expect(agence(sb, dir, ['/push', 'feature'], AGENT).code).toBe(2);
  });

  it('only admins grant and revoke', () => {
    const asAgent = agence(sb, dir, ['^grant', 'claude', 'npm publish'], AGENT);
    expect(asAgent.code).toBe(2);
    expect(asAgent.stderr).toContain('only an admin');
    const other = { GIT_AUTHOR_EMAIL: 'x', GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'user.email', GIT_CONFIG_VALUE_0: 'intruder@example.com' };
    const asUser = agence(sb, dir, ['^grant', 'claude', 'npm publish'], other);
    expect(asUser.code).toBe(2);
    expect(asUser.stderr).toContain('intruder@example.com is not listed in codex/trust.yaml');
    expect(agence(sb, dir, ['^revoke', 'g-000000000000'], other).code).toBe(2);
    expect(agence(sb, dir, ['^revoke', 'nonsense']).stderr).toContain('is not a token id');
    expect(agence(sb, dir, ['^grant', 'claude', 'x', '--uses', '0']).code).toBe(1);
    expect(agence(sb, dir, ['^grant', 'claude', 'x', '--ttl', 'soon']).code).toBe(1);
  });
});
