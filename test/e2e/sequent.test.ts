import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/core/time.js';
import { pickWinner, scoreTangent, type SequentRecord } from '../../src/core/tournament.js';
import { agence, CLI, git, json, repo, type Sandbox } from './helpers.js';
import { agenceAsync, loopback, ok, promptOf } from './llmServer.js';

/**
 * Sequents with scripted agents: shell scripts as the personas' batch commands, run in real git
 * worktrees; an npm-test-style judge (a package.json "test" script printing TAP counts).
 */

const lb = loopback();
const { sb } = lb;

type Sequent = SequentRecord;

const AGENTS: Record<string, string> = {
  // does the task and commits it
  good: 'echo "exports.add = (a, b) => a + b;" > add.js\ngit add add.js && git commit -qm "add: a + b"\n',
  // leaves a wrong answer uncommitted
  sloppy: 'echo "exports.add = (a, b) => a * b;" > add.js\n',
  // gives up
  fails: 'echo "cannot: $1" >&2\nexit 3\n',
  // does the task but never finishes, with a child in its group
  hangs: 'echo "exports.add = (a, b) => a + b; // slow" > add.js\nsleep 3607 &\nsleep 3607\n',
  // tries a T3 command (sudo) through agence's guard, then does the task
  rogue: `echo "sudo ls /root" | "${process.execPath}" "${CLI}" '!bash'\necho "exports.add = (a, b) => a + b;" > add.js\n`,
  // deletes its own worktree
  vandal: 'rm -rf "$PWD"\n',
  // ping and pong each wait (10 s at most) for the other to have started: they pass only when run
  // at the same time; ping asks the model in its session (the tangent's cost)
  ping: `touch "$RENDEZVOUS/ping"\ni=0; while [ ! -e "$RENDEZVOUS/pong" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done\n[ -e "$RENDEZVOUS/pong" ] || { echo "pong never came" >&2; exit 9; }\n"${process.execPath}" "${CLI}" ask "how do I add two numbers?" > answer.txt || exit 8\necho "exports.add = (a, b) => a + b;" > add.js\n`,
  pong: 'touch "$RENDEZVOUS/pong"\ni=0; while [ ! -e "$RENDEZVOUS/ping" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done\n[ -e "$RENDEZVOUS/ping" ] || { echo "ping never came" >&2; exit 9; }\necho "exports.add = (a, b) => b + a;" > add.js\n',
};

/** A shard with a tested function to write and the scripted agents as personas. */
function project(s: Sandbox, name: string): string {
  const dir = repo(s, name);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, scripts: { test: 'node test.js' } }));
  writeFileSync(
    join(dir, 'test.js'),
    [
      "const fs = require('fs');",
      "const mod = fs.existsSync('add.js') ? require('./add.js') : null;",
      'let passed = 0, failed = 0;',
      'for (const [a, b, want] of [[1, 2, 3], [2, 2, 4], [0, 5, 5]]) { if (mod && mod.add(a, b) === want) passed++; else failed++; }',
      'console.log(`# pass ${passed}`); console.log(`# fail ${failed}`);',
      'process.exit(failed ? 1 : 0);',
      '',
    ].join('\n'),
  );
  const scripts = join(s.dir, `${name}-agents`);
  mkdirSync(scripts, { recursive: true });
  ok(agence(s, dir, ['^init']));
  for (const [agent, body] of Object.entries(AGENTS)) {
    const script = join(scripts, `${agent}.sh`);
    writeFileSync(script, `#!/bin/sh\n${body}`);
    chmodSync(script, 0o755);
    writeFileSync(join(dir, '.agence', 'codex', 'agents', `${agent}.md`), `---\nname: ${agent}\nmodel: haiku\nprovider: anthropic\nbatch: sh ${script} {task}\n---\nScripted agent ${agent}.\n`);
  }
  // one whose tool is missing, one with no batch command at all
  writeFileSync(join(dir, '.agence', 'codex', 'agents', 'ghost.md'), '---\nname: ghost\nmodel: haiku\nprovider: anthropic\nbatch: agence-no-such-tool --go {task}\n---\nMissing.\n');
  writeFileSync(join(dir, '.agence', 'codex', 'agents', 'mute.md'), '---\nname: mute\nmodel: haiku\nprovider: anthropic\n---\nNo batch.\n');
  git(s, dir, ['add', '.']);
  git(s, dir, ['commit', '-qm', 'shard with scripted agents']);
  return dir;
}

const byAgent = (r: Sequent) => Object.fromEntries(r.tangents.map((t) => [t.agent, t]));

describe('^sequent run, show, list, pick', () => {

  it('runs three scripted agents in parallel, judges each with npm test, picks the right winner and merges it', async () => {
    const dir = project(sb, 'adder');
    const run = await agenceAsync(sb, dir, ['^sequent', 'run', 'write add.js exporting add(a, b)', '--agents', 'sloppy,good,fails', '--judge', 'npm test', '--timeout', '30s', '--json']);
    const r = json<Sequent>(ok(run));
    const t = byAgent(r);
    expect(r.branch).toBe('main');
    expect(r.base).toBe(git(sb, dir, ['rev-parse', 'HEAD']));
    expect(r.winner).toBe(t.good?.tangent);
    expect(t.good).toMatchObject({ exit: 0, committed_leftovers: false, judge: { exit: 0, tests: { passed: 3, failed: 0 } }, score: { eligible: true } });
    // uncommitted work was committed so the tournament (and pick) see it
    expect(t.sloppy).toMatchObject({ exit: 0, committed_leftovers: true, judge: { exit: 1, tests: { passed: 1, failed: 2 } }, score: { eligible: true } });
    expect(git(sb, dir, ['show', `${t.sloppy?.head}:add.js`])).toContain('a * b');
    expect(t.fails).toMatchObject({ exit: 3, score: { eligible: false, reason: 'no changes' } });
    expect(t.good!.score.total).toBeGreaterThan(t.sloppy!.score.total);
    // each tangent from the same base, in its own worktree, with its own session
    for (const c of r.tangents) {
      expect(git(sb, dir, ['merge-base', '--is-ancestor', r.base, c.branch])).toBe('');
      expect(c.session).toMatch(/^[0-9a-f]{8}$/);
    }
    expect(new Set(r.tangents.map((c) => c.session)).size).toBe(3);
    // The divergent record on disk holds every measurement: scoring it again replays the decision.
    const stored = JSON.parse(readFileSync(join(dir, '.agence', 'organic', 'sequents', `${r.id}.json`), 'utf8')) as Sequent;
    const rescored = stored.tangents.map(({ score: _, ...measured }) => ({ ...measured, score: scoreTangent(measured, stored.timeout_ms) }));
    expect(rescored.map((c) => c.score)).toEqual(stored.tangents.map((c) => c.score));
    expect(pickWinner(rescored)).toBe(stored.winner);
    expect(stored).toMatchObject({ base: r.base, winner: t.good?.tangent });
    expect(stored.tangents.map((c) => [c.branch, c.head])).toEqual(r.tangents.map((c) => [c.branch, git(sb, dir, ['rev-parse', c.branch])]));
    // nothing of it shows up as untracked in the main worktree but the record itself
    expect(git(sb, dir, ['status', '--porcelain'])).toBe(`?? .agence/organic/sequents/${r.id}.json`);
    expect(readFileSync(join(dir, '.agence', 'nexus', 'logs', 'sequents', r.id, 'fails.log'), 'utf8')).toContain('cannot: write add.js');

    const shown = ok(agence(sb, dir, ['^sequent', 'show', r.id])).stdout;
    expect(shown).toMatch(/\* good\s+0\s+pass 3\/3/);
    expect(shown).toMatch(/sloppy\s+0\s+fail\(1\) 1\/3/);
    expect(shown).toMatch(/fails\s+3\s+fail\(1\) 0\/3.*no changes/);
    expect(ok(agence(sb, dir, ['^sequent', 'list'])).stdout).toContain(r.id);

    const picked = json<{ commit: string; agent: string }>(ok(agence(sb, dir, ['^sequent', 'pick', r.id, '--json'])));
    expect(picked.agent).toBe('good');
    expect(git(sb, dir, ['rev-list', '--parents', '-n', '1', 'HEAD']).split(' ')).toHaveLength(3); // a merge commit
    expect(readFileSync(join(dir, 'add.js'), 'utf8')).toContain('a + b');
    expect(git(sb, dir, ['status', '--porcelain'])).toBe(''); // the record went in with the merge
    const record = JSON.parse(git(sb, dir, ['show', `HEAD:.agence/organic/sequents/${r.id}.json`])) as Sequent;
    expect(record.picked).toMatchObject({ tangent: t.good?.tangent, squash: false });
    // the merged tangent goes without --force; the others have unmerged work
    ok(agence(sb, dir, ['^tangent', 'destroy', t.good!.tangent]));
    const refused = agence(sb, dir, ['^tangent', 'destroy', t.sloppy!.tangent]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/1 commit not merged into main/);
  }, 60_000);

  it('kills an agent that runs past the timeout with its process group, counts guard refusals, survives a vandal', async () => {
    const dir = project(sb, 'timeouts');
    const run = await agenceAsync(sb, dir, ['^sequent', 'run', 'write add.js exporting add(a, b)', '--agents', 'hangs,rogue,vandal', '--judge', 'npm test', '--timeout', '3s', '--json']);
    const r = json<Sequent>(ok(run));
    const t = byAgent(r);
    expect(t.hangs).toMatchObject({ timed_out: true, exit: null, committed_leftovers: true, judge: { exit: 0 }, score: { eligible: true, parts: { timeout: -20 } } });
    expect(t.rogue).toMatchObject({ exit: 0, refusals: 1, judge: { exit: 0 }, score: { parts: { refusals: -10 } } });
    expect(t.vandal).toMatchObject({ lost: true, head: null, score: { eligible: false, reason: 'the agent deleted its worktree' } });
    expect(run.stderr).toMatch(/vandal deleted its worktree/);
    expect(r.winner).toBe(t.rogue?.tangent); // passes like hangs, without its timeout
    // the hung agent and the child it left in its group are gone
    expect(countSleeps()).toBe(0);
    // the lost worktree left no stray: git forgot it; ^doctor sees the record and prunes it
    expect(git(sb, dir, ['worktree', 'list'])).not.toContain('vandal');
    const doctor = agence(sb, dir, ['^doctor']);
    expect(doctor.stdout).toMatch(/warn\s+tangents\s+tangent seq-.*-vandal: its worktree folder is gone/);
    const repaired = agence(sb, dir, ['^doctor', '--repair']);
    expect(repaired.stdout).toMatch(/tangent seq-.*-vandal: its worktree folder was gone; pruned; branch .* had nothing unmerged and was deleted/);
    expect(agence(sb, dir, ['^doctor']).stdout).not.toMatch(/vandal/);
  }, 60_000);

  it('Ctrl-C stops the agents (their process groups) and leaves their tangents recorded', async () => {
    const dir = project(sb, 'interrupted');
    const child = spawn(process.execPath, [CLI, '^sequent', 'run', 'slow', '--agents', 'hangs', '--timeout', '10m'], { cwd: dir, env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    for (let i = 0; i < 100 && countSleeps() < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(countSleeps()).toBe(2);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted \(SIGINT\): the agents were stopped/);
    for (let i = 0; i < 20 && countSleeps() > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(countSleeps()).toBe(0);
    expect(ok(agence(sb, dir, ['^tangent', 'list'])).stdout).toMatch(/seq-.*-hangs/);
  }, 30_000);

  it("runs the agents at the same time, and takes each tangent's cost from the model calls of its session", async () => {
    const dir = project(sb, 'parallel');
    const rendezvous = join(sb.dir, 'rendezvous');
    mkdirSync(rendezvous);
    lb.server.reply = () => ({ text: 'Use the + operator.' });
    const run = await agenceAsync(sb, dir, ['^sequent', 'run', 'write add.js exporting add(a, b)', '--agents', 'ping,pong', '--judge', 'npm test', '--timeout', '30s', '--json'], { ...lb.env, RENDEZVOUS: rendezvous });
    const r = json<Sequent>(ok(run));
    const t = byAgent(r);
    expect([t.ping?.exit, t.pong?.exit], run.stderr).toEqual([0, 0]);
    const calls = readFileSync(join(dir, '.agence', 'nexus', 'logs', 'llm-calls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { session: string | null; cost: number; agent: string });
    const pings = calls.filter((c) => c.session === t.ping?.session);
    expect(pings).toHaveLength(1);
    expect(pings[0]?.agent).toBe('ping');
    expect(t.ping?.cost).toBeGreaterThan(0);
    expect(t.ping?.cost).toBeCloseTo(pings[0]?.cost as number, 6);
    expect(t.pong?.cost).toBe(0);
    expect(t.ping?.score.parts.cost).toBeLessThan(0);
  }, 60_000);

  it("adds a model's review with --llm-judge (loopback provider), through the call log", async () => {
    const dir = project(sb, 'reviewed');
    lb.server.reply = (req) => ({ text: promptOf(req).last.includes('a * b') ? '{"score": 2, "summary": "multiplies"}' : '{"score": 9, "summary": "adds"}' });
    const run = await agenceAsync(sb, dir, ['^sequent', 'run', 'write add.js exporting add(a, b)', '--agents', 'good,sloppy', '--timeout', '30s', '--llm-judge', 'aiko', '--json'], lb.env);
    const r = json<Sequent>(ok(run));
    const t = byAgent(r);
    expect(t.good?.review).toEqual({ agent: 'aiko', score: 9, summary: 'adds' });
    expect(t.sloppy?.review).toEqual({ agent: 'aiko', score: 2, summary: 'multiplies' });
    expect(t.good?.score.parts.review).toBe(27);
    expect(r.winner).toBe(t.good?.tangent);
    const calls = readFileSync(join(dir, '.agence', 'nexus', 'logs', 'llm-calls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { purpose: string; agent: string });
    expect(calls.filter((c) => c.purpose === 'review' && c.agent === 'aiko')).toHaveLength(2);
  }, 60_000);

  it('pick --squash makes one commit; a dirty tree is refused', async () => {
    const dir = project(sb, 'squashed');
    const r = json<Sequent>(ok(await agenceAsync(sb, dir, ['^sequent', 'run', 'rewrite add.js', '--agents', 'sloppy', '--timeout', '30s', '--json'])));
    writeFileSync(join(dir, 'README.md'), 'dirty\n');
    const dirty = agence(sb, dir, ['^sequent', 'pick', r.id]);
    expect(dirty.code).toBe(1);
    expect(dirty.stderr).toMatch(/uncommitted changes \(README\.md\)/);
    git(sb, dir, ['checkout', '--', 'README.md']);
    const before = git(sb, dir, ['rev-parse', 'HEAD']);
    ok(agence(sb, dir, ['^sequent', 'pick', r.id, 'sloppy', '--squash']));
    expect(git(sb, dir, ['rev-list', '--parents', '-n', '1', 'HEAD']).split(' ')).toEqual([git(sb, dir, ['rev-parse', 'HEAD']), before]);
    expect(readFileSync(join(dir, 'add.js'), 'utf8')).toContain('a * b');
  }, 60_000);

  it('a pick that conflicts is aborted: the tree and the record are as they were', async () => {
    const dir = project(sb, 'conflicting');
    const r = json<Sequent>(ok(await agenceAsync(sb, dir, ['^sequent', 'run', 'write add.js', '--agents', 'good,sloppy', '--timeout', '30s', '--json'])));
    ok(agence(sb, dir, ['^sequent', 'pick', r.id, 'good']));
    const head = git(sb, dir, ['rev-parse', 'HEAD']);
    const run = agence(sb, dir, ['^sequent', 'pick', r.id, 'sloppy']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/seq-.*-sloppy does not merge cleanly into main.*git merge agence\/tangent\/seq-.*-sloppy/);
    expect(git(sb, dir, ['rev-parse', 'HEAD'])).toBe(head);
    expect(git(sb, dir, ['status', '--porcelain'])).toBe('');
    expect(json<Sequent>(ok(agence(sb, dir, ['^sequent', 'show', r.id, '--json']))).picked).toMatchObject({ tangent: byAgent(r).good?.tangent });
  }, 60_000);

  it("the README's sequent run is what the CLI prints: its header, its rows in --agents order, each score from the figures shown", async () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const block = /```sh\n(\$ agence \^sequent run [^\n]*)\n([\s\S]*?)```/.exec(readme);
    expect(block, 'README has a sequent run').not.toBeNull();
    const [command, output] = [block?.[1] as string, block?.[2] as string];
    const agents = (/--agents (\S+)/.exec(command)?.[1] as string).split(',');
    const timeoutMs = parseDuration(/--timeout (\S+)/.exec(command)?.[1] as string, '--timeout');
    const lines = output.split('\n');
    const header = lines.findIndex((l) => l.startsWith('agent '));
    const rows = lines.slice(header + 1, lines.indexOf('', header)).map((l) => ({ mark: l.slice(0, 2), cells: l.slice(2).split(/ {2,}/) }));

    // The header as the CLI prints it (a real sequent, shown).
    const dir = project(sb, 'readme');
    const r = json<Sequent>(ok(await agenceAsync(sb, dir, ['^sequent', 'run', 'write add.js', '--agents', 'good', '--judge', 'npm test', '--timeout', '30s', '--json'])));
    const shown = ok(agence(sb, dir, ['^sequent', 'show', r.id])).stdout.split('\n');
    const columns = (l: string) => l.trim().split(/ {2,}/);
    expect(columns(lines[header] as string)).toEqual(columns(shown.find((l) => l.startsWith('agent ')) as string));
    expect(rows.map((row) => row.cells[0])).toEqual(agents);

    const contestants = rows.map(({ cells }) => {
      const [agent, exit, judge, diff, files, time, cost, refused, review, total] = cells as string[];
      const verdict = /^(pass|fail\((\d+)\)|timeout)(?: (\d+)\/(\d+))?$/.exec(judge as string);
      const changed = /^\+(\d+) -(\d+)$/.exec(diff as string);
      expect(verdict, judge).not.toBeNull();
      expect(review).toBe('-');
      const measured = {
        agent: agent as string,
        tangent: `seq-x-${agent}`,
        branch: `agence/tangent/seq-x-${agent}`,
        session: null,
        head: null,
        exit: exit === 'timeout' ? null : Number(exit),
        timed_out: exit === 'timeout',
        lost: false,
        error: null,
        duration_ms: Math.round(Number((time as string).replace(/s$/, '')) * 1000),
        committed_leftovers: false,
        judge: { exit: verdict?.[1] === 'pass' ? 0 : verdict?.[2] ? Number(verdict[2]) : null, timed_out: verdict?.[1] === 'timeout', duration_ms: 0, tests: verdict?.[3] ? { runner: 'tap', passed: Number(verdict[3]), failed: Number(verdict[4]) - Number(verdict[3]), skipped: 0 } : null },
        diff: { files: Number(files), insertions: Number(changed?.[1]), deletions: Number(changed?.[2]) },
        cost: Number((cost as string).slice(1)),
        refusals: Number(refused),
        review: null,
      };
      const score = scoreTangent(measured, timeoutMs);
      expect(String(score.total), `the score of ${agent}`).toBe(total);
      return { ...measured, score };
    });
    const winner = pickWinner(contestants);
    expect(rows.find((row) => row.mark === '* ')?.cells[0]).toBe(contestants.find((c) => c.tangent === winner)?.agent);
    expect(output).toContain(`resultant: ${winner?.replace('seq-x-', `seq-${/^sequent (\S+)/m.exec(output)?.[1]}-`)}`);
  }, 60_000);

  it('refuses bad input with one clear line each', () => {
    const dir = project(sb, 'refusals');
    const cases: [string[], number, RegExp][] = [
      [['^sequent', 'run', 'x', '--agents', 'good,nobody'], 1, /no agent @nobody/],
      [['^sequent', 'run', 'x', '--agents', 'good,good'], 1, /names good twice/],
      [['^sequent', 'run', 'x'], 1, /needs --agents/],
      [['^sequent', 'run', 'x', '--agents', 'good,ghost'], 1, /agence-no-such-tool, the batch command of agent ghost, is not installed or not on PATH/],
      [['^sequent', 'run', 'x', '--agents', 'mute'], 1, /agent mute has no batch command/],
      [['^sequent', 'run', 'x', '--agents', 'good', '--judge', 'npm test | tee out'], 1, /not plain words/],
      [['^sequent', 'run', 'x', '--agents', 'good', '--judge', 'rm -rf /'], 2, /guard classifies the judge "rm -rf \/" as T4/],
      [['^sequent', 'run', 'x', '--agents', 'good', '--timeout', 'soon'], 1, /--timeout "soon" is not a duration/],
      [['^sequent', 'show', '../../etc'], 1, /not a sequent id/],
      [['^sequent', 'show', '20200101-000000-abcd'], 1, /no sequent 20200101-000000-abcd/],
      [['^sequent', 'pick', '20200101-000000-abcd'], 1, /no sequent 20200101-000000-abcd/],
    ];
    const tangentsBefore = git(sb, dir, ['worktree', 'list']);
    for (const [args, code, message] of cases) {
      const run = agence(sb, dir, args);
      expect(run.code, args.join(' ')).toBe(code);
      expect(run.stderr, args.join(' ')).toMatch(message);
    }
    expect(git(sb, dir, ['worktree', 'list'])).toBe(tangentsBefore); // nothing was created
  });
});

/**
 * Processes still running `sleep 3607` in this sandbox (the hung agent's, had they not been
 * killed); by their folder, so the same test running elsewhere on the machine does not count.
 */
function countSleeps(): number {
  let n = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() === 'sleep 3607' && readlinkSync(`/proc/${pid}/cwd`).startsWith(`${sb.dir}/`)) n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}
