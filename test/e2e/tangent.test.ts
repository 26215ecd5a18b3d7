import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TangentState } from '../../src/swarm/tangents.js';
import { agence, git, json, repo, sandbox } from './helpers.js';
import { killServer, pathWithoutTmux, until } from './tmuxHelpers.js';

const sb = sandbox();

const ok = (run: ReturnType<typeof agence>) => {
  expect(run.code, `${run.stderr}\n${run.stdout}`).toBe(0);
  return run;
};

function shard(name: string): string {
  const dir = repo(sb, name);
  ok(agence(sb, dir, ['^init']));
  git(sb, dir, ['add', '.']);
  git(sb, dir, ['commit', '-qm', 'shard']);
  return dir;
}

type State = TangentState;

describe('^tangent', () => {
  it('create, list, status, attach, diff and destroy, with NEXUS shared from inside the tangent', () => {
    const dir = shard('lifecycle');
    // an agent that starts and leaves at once (`true`), so the test can work in its tangent
    writeFileSync(join(dir, '.agence/codex/agents/idle.md'), '---\nname: idle\nmodel: haiku\nprovider: anthropic\nlaunch: "true"\n---\nIdle.\n');
    git(sb, dir, ['add', '.']);
    git(sb, dir, ['commit', '-qm', 'idle persona']);
    const created = json<State & { path: string }>(ok(agence(sb, dir, ['^tangent', 'create', 'fix-login', '--agent', 'idle', '--task', 'fix the login', '--no-tmux', '--json'])));
    expect(created.path).toBe(join(dir, '.agence', 'nexus', 'tangents', 'fix-login'));
    expect(created).toMatchObject({ branch: 'agence/tangent/fix-login', from: 'main', base: git(sb, dir, ['rev-parse', 'HEAD']), agent: 'idle' });
    expect(created.session).toMatch(/^[0-9a-f]{8}$/);
    expect(git(sb, created.path, ['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('agence/tangent/fix-login');
    expect(git(sb, dir, ['status', '--porcelain'])).toBe(''); // not untracked in the main worktree
    // the person's current session is not the tangent's
    expect(existsSync(join(dir, '.agence', 'nexus', 'sessions', 'current'))).toBe(false);
    // the tangent's session carries the task and the agent
    const session = json<{ agent: string; metadata: { task_description: string }; cwd: string }>(ok(agence(sb, dir, ['^session', 'show', created.session as string, '--json'])));
    expect(session).toMatchObject({ agent: 'idle', metadata: { task_description: 'fix the login' }, cwd: created.path });

    // from inside the tangent, agence sees the same NEXUS (the tangent records, the sessions)
    writeFileSync(join(created.path, 'login.txt'), 'fixed\n');
    git(sb, created.path, ['add', 'login.txt']);
    git(sb, created.path, ['commit', '-qm', 'fix login']);
    writeFileSync(join(created.path, 'notes.txt'), 'wip\n');
    const inside = json<State[]>(ok(agence(sb, created.path, ['^tangent', 'list', '--json'])));
    expect(inside.map((t) => t.name)).toEqual(['fix-login']);
    expect(inside[0]).toMatchObject({ commits: 1, unmerged: 1, dirty: ['notes.txt'] });
    expect(ok(agence(sb, dir, ['^tangent', 'status', 'fix-login'])).stdout).toMatch(/commits\s+1 since the start, 1 not in main/);
    expect(ok(agence(sb, dir, ['^tangent', 'attach', 'fix-login'])).stdout).toBe(`cd -- ${created.path}\nexport AGENCE_AGENT=idle\nexport AGENCE_SESSION=${created.session}\n`);
    const diff = ok(agence(sb, dir, ['^tangent', 'diff', 'fix-login'])).stdout;
    expect(diff).toContain('+fixed');
    expect(diff).toContain('untracked (not in the diff until added): notes.txt');

    // destroy refuses unmerged commits, then uncommitted files; --force throws both away
    const unmerged = agence(sb, dir, ['^tangent', 'destroy', 'fix-login']);
    expect(unmerged.code).toBe(1);
    expect(unmerged.stderr).toMatch(/tangent fix-login has 1 commit not merged into main.*--force/);
    git(sb, dir, ['merge', '-q', 'agence/tangent/fix-login']);
    const uncommitted = agence(sb, dir, ['^tangent', 'destroy', 'fix-login']);
    expect(uncommitted.code).toBe(1);
    expect(uncommitted.stderr).toMatch(/1 uncommitted file \(notes\.txt\)/);
    expect(ok(agence(sb, dir, ['^tangent', 'destroy', 'fix-login', '--force'])).stdout).toMatch(/destroyed.*thrown away: 1 uncommitted file/);
    expect(existsSync(created.path)).toBe(false);
    expect(git(sb, dir, ['branch', '--list', 'agence/tangent/*'])).toBe('');
    expect(git(sb, dir, ['worktree', 'list', '--porcelain'])).not.toContain('fix-login');
    expect(ok(agence(sb, dir, ['^tangent', 'list'])).stdout).toMatch(/No tangents/);
  });

  it('--agent starts the agent in the tangent (launchAgent, no tmux here) with its own session; a missing tool or tmux leaves no tangent', () => {
    const dir = shard('launched');
    const script = join(sb.dir, 'worker.sh');
    writeFileSync(script, '#!/bin/sh\necho "agent=$AGENCE_AGENT session=$AGENCE_SESSION task=$AGENCE_TASK pwd=$(pwd)" > report.txt\ngit add report.txt && git commit -qm "worker report"\n');
    chmodSync(script, 0o755);
    const persona = (name: string, launch: string) => writeFileSync(join(dir, `.agence/codex/agents/${name}.md`), `---\nname: ${name}\nmodel: haiku\nprovider: anthropic\nlaunch: ${launch}\n---\nScripted.\n`);
    persona('worker', script);
    persona('broken', join(sb.dir, 'no-such-tool'));
    git(sb, dir, ['add', '.']);
    git(sb, dir, ['commit', '-qm', 'personas']);
    const run = json<State & { launch: { exit: number; session: string; tmux: unknown } }>(ok(agence(sb, dir, ['^tangent', 'create', 'w1', '--agent', 'worker', '--task', 'report in', '--no-tmux', '--json'])));
    expect(run.launch).toMatchObject({ exit: 0, session: run.session, tmux: null });
    expect(git(sb, dir, ['show', 'agence/tangent/w1:report.txt'])).toBe(`agent=worker session=${run.session} task=report in pwd=${run.path}`);
    const before = git(sb, dir, ['worktree', 'list']);
    const missing = agence(sb, dir, ['^tangent', 'create', 'w2', '--agent', 'broken', '--no-tmux']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no-such-tool is not installed/);
    expect(git(sb, dir, ['worktree', 'list'])).toBe(before);
    expect(git(sb, dir, ['branch', '--list', 'agence/tangent/w2'])).toBe('');
    expect(existsSync(join(dir, '.agence', 'nexus', 'tangents', 'w2.json'))).toBe(false);
    // tmux missing: the same, before the agent starts
    const noTmux = agence(sb, dir, ['^tangent', 'create', 'w3', '--agent', 'worker', '--tmux'], { PATH: pathWithoutTmux(sb) });
    expect(noTmux.code).toBe(1);
    expect(noTmux.stderr.trim()).toBe('agence: tmux is not installed (not on PATH): install tmux 3.2 or later (apt install tmux, brew install tmux), or run with --no-tmux');
    expect(git(sb, dir, ['worktree', 'list'])).toBe(before);
    expect(git(sb, dir, ['branch', '--list', 'agence/tangent/w3'])).toBe('');
    expect(existsSync(join(dir, '.agence', 'nexus', 'tangents', 'w3'))).toBe(false);
  });

  it('--agent --tmux starts the agent in a tmux window named after the tangent; attach goes back to it', async () => {
    const dir = shard('windowed');
    const script = join(sb.dir, 'windowed.sh');
    writeFileSync(script, '#!/bin/sh\necho "$AGENCE_SESSION" > session.txt\ngit add session.txt && git commit -qm "from tmux"\n');
    chmodSync(script, 0o755);
    writeFileSync(join(dir, '.agence/codex/agents/worker.md'), `---\nname: worker\nmodel: haiku\nprovider: anthropic\nlaunch: ${script}\n---\nScripted.\n`);
    git(sb, dir, ['add', '.']);
    git(sb, dir, ['commit', '-qm', 'persona']);
    // A detached tmux server on a private socket, as if agence were run from one of its panes.
    const socket = `agence-tangent-${process.pid}`;
    const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8', env: sb.env });
    expect(tmux('new-session', '-d', '-s', 'work', '-x', '160', '-y', '40').status).toBe(0);
    try {
      const inTmux = { TMUX: `${tmux('display-message', '-p', '#{socket_path}').stdout.trim()},1,0`, TMUX_PANE: tmux('display-message', '-p', '#{pane_id}').stdout.trim() };
      const t = json<State & { window: string; launch: { tmux: { target: string } } }>(ok(agence(sb, dir, ['^tangent', 'create', 'in-tmux', '--agent', 'worker', '--tmux', '--json'], inTmux)));
      expect(t.window).toMatch(/^work:\d+$/);
      expect(t.launch.tmux.target).toBe(t.window);
      expect(tmux('list-windows', '-t', 'work', '-F', '#{window_name}').stdout).toContain('tangent-in-tmux');
      // The agent's pane is beside a human pane (a shell started without a command).
      const panes = () => tmux('list-panes', '-t', t.window, '-F', '#{pane_dead} [#{pane_start_command}]').stdout.trim().split('\n');
      await until('the agent to commit', () => git(sb, dir, ['log', '-1', '--format=%s', 'agence/tangent/in-tmux']) === 'from tmux', 10_000, () => JSON.stringify(panes()));
      expect(git(sb, dir, ['show', 'agence/tangent/in-tmux:session.txt'])).toBe(t.session);
      expect(panes().filter((p) => p === '0 []')).toHaveLength(1);
      expect(ok(agence(sb, dir, ['^tangent', 'attach', 'in-tmux'], inTmux)).stdout).toContain(`tmux select-window -t ${t.window}\n`);
      expect(ok(agence(sb, dir, ['^tangent', 'attach', 'in-tmux'])).stdout).not.toContain('tmux select-window'); // outside tmux: just the folder
    } finally {
      await killServer(tmux);
    }
  });

  it('starts --from another branch and measures unmerged work against it', () => {
    const dir = shard('branching');
    git(sb, dir, ['switch', '-qc', 'dev']);
    writeFileSync(join(dir, 'dev.txt'), 'dev\n');
    git(sb, dir, ['add', '.']);
    git(sb, dir, ['commit', '-qm', 'dev work']);
    git(sb, dir, ['switch', '-q', 'main']);
    const t = json<State>(ok(agence(sb, dir, ['^tangent', 'create', 'on-dev', '--from', 'dev', '--json'])));
    expect(t).toMatchObject({ from: 'dev', base: git(sb, dir, ['rev-parse', 'dev']) });
    expect(existsSync(join(t.path, 'dev.txt'))).toBe(true);
    ok(agence(sb, dir, ['^tangent', 'destroy', 'on-dev'])); // nothing of its own: no --force needed
  });

  it('refuses bad input with one clear line each, leaving nothing behind', () => {
    const dir = shard('refusals');
    ok(agence(sb, dir, ['^tangent', 'create', 'taken']));
    git(sb, dir, ['branch', 'agence/tangent/existing']);
    mkdirSync(join(dir, '.agence', 'nexus', 'tangents', 'squatted'), { recursive: true });
    const cases: [string[], RegExp][] = [
      [['^tangent', 'create', 'taken'], /the tangent folder nexus\/tangents\/taken is already taken/],
      [['^tangent', 'create', 'squatted'], /the tangent folder nexus\/tangents\/squatted is already taken/],
      [['^tangent', 'create', 'existing'], /branch agence\/tangent\/existing already exists/],
      [['^tangent', 'create', '../escape'], /"\.\.\/escape" is not a tangent name/],
      [['^tangent', 'create', 'a..b'], /"a\.\.b" is not a tangent name/],
      [['^tangent', 'create', 'x.lock'], /"x\.lock" is not a tangent name/],
      [['^tangent', 'create', 'Upper'], /"Upper" is not a tangent name/],
      [['^tangent', 'create', 'ok-name', '--agent', 'nobody'], /no agent @nobody/],
      [['^tangent', 'create', 'ok-name', '--task', 'x'], /--task needs --agent/],
      [['^tangent', 'create', 'ok-name', '--from', 'no-such-branch'], /--from no-such-branch does not name a commit/],
      [['^tangent', 'create', 'ok-name', '--from=--orphan'], /--from "--orphan" is not a revision/],
      [['^tangent', 'status', 'nothing'], /no tangent named nothing.*tangents here: taken/],
      [['^tangent', 'destroy', '../../x'], /is not a tangent name/],
    ];
    for (const [args, message] of cases) {
      const run = agence(sb, dir, args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(run.stderr, args.join(' ')).toMatch(message);
    }
    expect(git(sb, dir, ['worktree', 'list']).split('\n')).toHaveLength(2); // main and "taken" only
    expect(git(sb, dir, ['for-each-ref', '--format=%(refname:short)', 'refs/heads/agence/tangent/']).split('\n').sort()).toEqual(['agence/tangent/existing', 'agence/tangent/taken']);
  });

  it('^doctor finds a tangent whose worktree was deleted, and a tangent branch without one; --repair prunes and keeps work', () => {
    const dir = shard('strays');
    const kept = json<State>(ok(agence(sb, dir, ['^tangent', 'create', 'with-work', '--json'])));
    writeFileSync(join(kept.path, 'w.txt'), 'w\n');
    git(sb, kept.path, ['add', '.']);
    git(sb, kept.path, ['commit', '-qm', 'work']);
    const empty = json<State>(ok(agence(sb, dir, ['^tangent', 'create', 'empty', '--json'])));
    rmSync(kept.path, { recursive: true, force: true }); // what an agent might do
    rmSync(empty.path, { recursive: true, force: true });
    const found = agence(sb, dir, ['^doctor']);
    expect(found.stdout).toMatch(/warn\s+tangents\s+tangent empty: its worktree folder is gone/);
    expect(found.stdout).toMatch(/warn\s+tangents\s+tangent with-work: its worktree folder is gone/);
    const repaired = agence(sb, dir, ['^doctor', '--repair']);
    expect(repaired.stdout).toMatch(/tangent empty: its worktree folder was gone; pruned; branch agence\/tangent\/empty had nothing unmerged and was deleted/);
    expect(repaired.stdout).toMatch(/tangent with-work: its worktree folder was gone; pruned; branch agence\/tangent\/with-work is kept \(1 commits not merged\)/);
    expect(git(sb, dir, ['worktree', 'list']).split('\n')).toHaveLength(1);
    const after = agence(sb, dir, ['^doctor']);
    expect(after.stdout).toMatch(/warn\s+tangents\s+branch agence\/tangent\/with-work has no tangent worktree/);
    expect(git(sb, dir, ['log', '-1', '--format=%s', 'agence/tangent/with-work'])).toBe('work'); // nothing lost
  });
});
