import { describe, expect, it } from 'vitest';
import { batchArgv } from '../../src/core/agentBatch.js';
import type { Persona } from '../../src/core/agents.js';
import { AgenceError } from '../../src/core/errors.js';
import { checkTangentName, tangentBranch, tangentOfBranch } from '../../src/core/tangent.js';
import { checkSequentId, type Contestant, type Measured, parseTestCounts, pickWinner, scoreTangent, sequentId } from '../../src/core/tournament.js';

const measured = (over: Partial<Measured> = {}): Measured => ({
  agent: 'a',
  tangent: 'seq-a',
  branch: 'agence/tangent/seq-a',
  session: '00000001',
  head: 'a'.repeat(40),
  exit: 0,
  timed_out: false,
  lost: false,
  error: null,
  duration_ms: 60_000,
  committed_leftovers: false,
  judge: { exit: 0, timed_out: false, duration_ms: 1000, tests: { runner: 'vitest', passed: 3, failed: 0, skipped: 0 } },
  diff: { files: 2, insertions: 40, deletions: 10 },
  cost: 0,
  refusals: 0,
  review: null,
  ...over,
});
const contestant = (over: Partial<Measured> = {}): Contestant => {
  const m = measured(over);
  return { ...m, score: scoreTangent(m, 600_000) };
};

describe('test counts from runners', () => {
  it('reads vitest (the Tests line, not Test Files), with colours', () => {
    const out = ' \u001b[2m Test Files \u001b[22m 1 failed | 2 passed (3)\n\u001b[2m      Tests \u001b[22m 2 failed | 7 passed | 1 skipped (10)\n';
    expect(parseTestCounts(out)).toEqual({ runner: 'vitest', passed: 7, failed: 2, skipped: 1 });
  });
  it('reads jest', () => {
    expect(parseTestCounts('Test Suites: 1 failed, 1 total\nTests:       1 failed, 2 skipped, 3 passed, 6 total\n')).toEqual({ runner: 'jest', passed: 3, failed: 1, skipped: 2 });
  });
  it('reads mocha', () => {
    expect(parseTestCounts('\n  5 passing (12ms)\n  2 pending\n  1 failing\n')).toEqual({ runner: 'mocha', passed: 5, failed: 1, skipped: 2 });
  });
  it('reads TAP and node --test', () => {
    expect(parseTestCounts('ok 1 - a\nnot ok 2 - b\n# tests 2\n# pass 1\n# fail 1\n')).toEqual({ runner: 'tap', passed: 1, failed: 1, skipped: 0 });
    expect(parseTestCounts('ℹ tests 4\nℹ pass 4\nℹ fail 0\nℹ skipped 0\n')).toEqual({ runner: 'tap', passed: 4, failed: 0, skipped: 0 });
  });
  it('reads pytest, errors counted as failures', () => {
    expect(parseTestCounts('...\n===== 1 failed, 3 passed, 2 skipped, 1 error in 0.12s =====\n')).toEqual({ runner: 'pytest', passed: 3, failed: 2, skipped: 2 });
    expect(parseTestCounts('==== 4 passed in 1.01s ====')).toEqual({ runner: 'pytest', passed: 4, failed: 0, skipped: 0 });
  });
  it('says nothing rather than zero when there is no summary', () => {
    expect(parseTestCounts('build ok\n')).toBeNull();
  });
});

describe('scores', () => {
  it('a passing judge dominates; test counts say how far a failing one got', () => {
    const pass = scoreTangent(measured(), 600_000);
    const fail = scoreTangent(measured({ judge: { exit: 1, timed_out: false, duration_ms: 1, tests: { runner: 'tap', passed: 2, failed: 2, skipped: 0 } } }), 600_000);
    expect(pass.parts.judge).toBe(100);
    expect(pass.parts.tests).toBe(40);
    expect(fail.parts.judge).toBe(0);
    expect(fail.parts.tests).toBe(20);
    expect(pass.total).toBeGreaterThan(fail.total + 100);
  });
  it('penalises timeouts, refusals, size, files, time and cost; rewards a review', () => {
    const s = scoreTangent(measured({ timed_out: true, exit: null, refusals: 2, diff: { files: 30, insertions: 900, deletions: 300 }, duration_ms: 600_000, cost: 0.5, review: { agent: 'r', score: 8, summary: 'good' } }), 600_000);
    expect(s.parts).toMatchObject({ exit: 0, timeout: -20, refusals: -20, size: -10, files: -5, time: -5, cost: -5, review: 24 });
    expect(s.total).toBe(100 + 40 + 0 - 20 - 20 - 10 - 5 - 5 - 5 + 24);
  });
  it('scores survive the record: a score written as JSON and read back is the score', () => {
    // An instant run's time penalty and an empty diff's size penalty are 0, never -0 (JSON writes -0 as 0).
    const s = scoreTangent(measured({ duration_ms: 10, diff: { files: 1, insertions: 0, deletions: 0 } }), 600_000);
    expect(Object.is(s.parts.time, 0)).toBe(true);
    expect(Object.is(s.parts.size, 0)).toBe(true);
    expect(JSON.parse(JSON.stringify(s))).toStrictEqual(s);
  });
  it('a review that failed adds nothing', () => {
    expect(scoreTangent(measured({ review: { agent: 'r', score: null, summary: 'review failed' } }), 600_000).parts.review).toBeUndefined();
  });
  it('a lost worktree, an agent that never started and an empty change are not eligible', () => {
    expect(scoreTangent(measured({ lost: true }), 1000)).toMatchObject({ eligible: false, reason: 'the agent deleted its worktree' });
    expect(scoreTangent(measured({ error: 'x is not installed' }), 1000)).toMatchObject({ eligible: false });
    expect(scoreTangent(measured({ diff: { files: 0, insertions: 0, deletions: 0 } }), 1000)).toMatchObject({ eligible: false, reason: 'no changes' });
  });
  it('picks the best eligible score; ties go to the smaller diff, then the faster run, then the name', () => {
    expect(pickWinner([contestant({ tangent: 'x', judge: null }), contestant({ tangent: 'y' })])).toBe('y');
    const small = contestant({ tangent: 'b', diff: { files: 2, insertions: 1, deletions: 0 } });
    const big = contestant({ tangent: 'a', diff: { files: 2, insertions: 2, deletions: 0 } });
    expect(pickWinner([{ ...big, score: { ...big.score, total: 10 } }, { ...small, score: { ...small.score, total: 10 } }])).toBe('b');
    const fast = contestant({ tangent: 'z', duration_ms: 1 });
    const slow = contestant({ tangent: 'c', duration_ms: 2 });
    expect(pickWinner([{ ...slow, score: { ...slow.score, total: 5 } }, { ...fast, score: { ...fast.score, total: 5 } }])).toBe('z');
    expect(pickWinner([contestant({ tangent: 'q', lost: true })])).toBeNull();
  });
});

describe('names and ids', () => {
  it('tangent names are safe as a ref component and a folder', () => {
    for (const bad of ['', '..', 'a..b', '-x', 'X', 'a/b', 'a b', 'x.lock', 'x.', '.x', 'a'.repeat(65), 'a~1', 'a^', 'a:b', 'a\\b']) {
      expect(() => checkTangentName(bad), bad).toThrow(AgenceError);
    }
    expect(checkTangentName('fix-login_2.b')).toBe('fix-login_2.b');
    expect(tangentBranch('x')).toBe('agence/tangent/x');
    expect(tangentOfBranch('refs/heads/agence/tangent/x')).toBe('x');
    expect(tangentOfBranch('main')).toBeNull();
  });
  it('sequent ids sort by time and are checked before they name a file', () => {
    expect(sequentId(new Date('2026-11-25T02:14:00.500Z'), 'a3f9')).toBe('20261125-021400-a3f9');
    expect(checkSequentId('20261125-021400-a3f9')).toBe('20261125-021400-a3f9');
    for (const bad of ['../x', '20261125-021400-A3F9', '20261125-021400', 'x']) expect(() => checkSequentId(bad)).toThrow(/not a sequent id/);
  });
});

describe('batch commands', () => {
  const persona = (over: Partial<Persona>): Persona => ({ name: 'p', model: 'm', provider: 'x', capabilities: [], context_window: 1, handoff_rules: [], constraints: [], clearance: 'internal', prompt: '', source: 'codex/agents/p.md', ...over });
  it('fills {task} as one argument, never split or expanded', () => {
    const task = "fix it; rm -rf / $(whoami) 'q'";
    expect(batchArgv(persona({ batch: 'sh agent.sh --task={task}' }), task)).toEqual(['sh', 'agent.sh', `--task=${task}`]);
    expect(batchArgv(persona({ batch: ['my tool', '{task}'] }), task)).toEqual(['my tool', task]);
  });
  it('knows the non-interactive form of the tools it launches', () => {
    expect(batchArgv(persona({ launch: 'claude' }), 't')).toEqual(['claude', '-p', 't']);
    expect(batchArgv(persona({ launch: 'codex' }), 't')).toEqual(['codex', 'exec', 't']);
    expect(batchArgv(persona({ launch: 'aider' }), 't')).toEqual(['aider', '--yes-always', '--message', 't']);
  });
  it('says what to add when there is no batch command or it has no {task}', () => {
    const error = (() => {
      try {
        batchArgv(persona({}), 't');
      } catch (e) {
        return e as AgenceError;
      }
    })();
    expect(error?.message).toMatch(/agent p has no batch command/);
    expect(error?.fix).toMatch(/batch: .*\{task\}.*codex\/agents\/p\.md/);
    expect(() => batchArgv(persona({ batch: 'tool --go' }), 't')).toThrow(/no \{task\}/);
  });
});
