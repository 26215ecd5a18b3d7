import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PRIORITIES } from '../../src/core/session.js';
import { renderTask, type Task, TASK_STATES } from '../../src/core/task.js';
import { joinTasks, mergeTaskFiles, mergeTasks } from '../../src/core/taskMerge.js';

// Small value sets, so that generated versions often share values and collide on ties.
const time = fc.constantFrom('2026-11-01T00:00:00.000Z', '2026-11-02T00:00:00.000Z', '2026-11-03T00:00:00.000Z');
const taskArb: fc.Arbitrary<Task> = fc.record({
  id: fc.constant('T-1'),
  repo: fc.constantFrom('api', 'web'),
  title: fc.constantFrom('a', 'b', 'c'),
  state: fc.constantFrom(...TASK_STATES),
  priority: fc.constantFrom(...PRIORITIES),
  stars: fc.nat(5),
  heat: fc.nat(5),
  agent: fc.constantFrom(null, 'claudia', 'ana@example.com'),
  deps: fc.uniqueArray(fc.constantFrom('T-2', 'T-3', 'web:T-4', 'api:T-5'), { maxLength: 4 }),
  created: time,
  updated: time,
});
const render = (t: Task) => renderTask(t);

describe('task merge rules', () => {
  it('3-way merge is commutative: ours and theirs swapped give the same bytes', () => {
    fc.assert(fc.property(taskArb, taskArb, taskArb, (o, a, b) => {
      expect(render(mergeTasks(o, a, b))).toBe(render(mergeTasks(o, b, a)));
    }), { numRuns: 2000 });
  });

  it('3-way merge is idempotent and keeps a one-sided change', () => {
    fc.assert(
      fc.property(taskArb, taskArb, (o, a) => {
        expect(render(mergeTasks(o, a, a))).toBe(render(a));
        expect(render(mergeTasks(o, o, a))).toBe(render(a));
        expect(render(mergeTasks(o, a, o))).toBe(render(a));
      }),
      { numRuns: 2000 },
    );
  });

  it('the join of two versions is commutative, idempotent and associative', () => {
    fc.assert(
      fc.property(taskArb, taskArb, taskArb, (a, b, c) => {
        expect(render(joinTasks(a, b))).toBe(render(joinTasks(b, a)));
        expect(render(joinTasks(a, a))).toBe(render(a));
        expect(render(joinTasks(joinTasks(a, b), c))).toBe(render(joinTasks(a, joinTasks(b, c))));
      }),
      { numRuns: 2000 },
    );
  });

  it('merges fields both sides changed by the documented rules, never averaging', () => {
    const base: Task = { id: 'T-1', repo: 'api', title: 'old', state: 'todo', priority: 'normal', stars: 1, heat: 1, agent: null, deps: ['T-2', 'T-3'], created: '2026-11-01T00:00:00.000Z', updated: '2026-11-01T00:00:00.000Z' };
    const ours: Task = { ...base, title: 'ours', state: 'doing', priority: 'low', stars: 4, heat: 2, agent: 'claudia', deps: ['T-2', 'T-3', 'T-4'], updated: '2026-11-02T00:00:00.000Z' };
    const theirs: Task = { ...base, title: 'theirs', state: 'done', priority: 'urgent', stars: 2, heat: 7, agent: 'chad', deps: ['T-2', 'T-5'], updated: '2026-11-03T00:00:00.000Z' };
    expect(mergeTasks(base, ours, theirs)).toEqual({
      ...base,
      title: 'theirs', // the later update
      state: 'done', // precedence
      priority: 'urgent',
      stars: 4,
      heat: 7,
      agent: 'chad',
      deps: ['T-2', 'T-4', 'T-5'], // T-3 removed by theirs, T-4 and T-5 added
      updated: '2026-11-03T00:00:00.000Z',
    });
  });

  it('a reopened task stays reopened when only one side changed its state', () => {
    const base: Task = { id: 'T-1', repo: 'api', title: 't', state: 'done', priority: 'normal', stars: 0, heat: 0, agent: null, deps: [], created: '2026-11-01T00:00:00.000Z', updated: '2026-11-01T00:00:00.000Z' };
    expect(mergeTasks(base, { ...base, state: 'todo' }, { ...base, stars: 3 }).state).toBe('todo');
  });
});

describe('the merge driver on file contents', () => {
  const t = (over: Partial<Task> = {}): string =>
    renderTask({ id: 'T-1', repo: 'api', title: 't', state: 'todo', priority: 'normal', stars: 0, heat: 0, agent: null, deps: [], created: '2026-11-01T00:00:00.000Z', updated: '2026-11-01T00:00:00.000Z', ...over });

  it('refuses garbage on any side, so git keeps a normal conflict', () => {
    expect(mergeTaskFiles(t(), '<<<<<<< HEAD\n', t())).toEqual({ conflict: expect.stringMatching(/^ours is not valid JSON/) });
    expect(mergeTaskFiles(t(), t(), JSON.stringify({ id: 'T-1' }))).toEqual({ conflict: expect.stringMatching(/^theirs is not a task/) });
    expect(mergeTaskFiles('garbage', t(), t({ stars: 1 }))).toEqual({ conflict: expect.stringMatching(/^the common ancestor is not valid JSON/) });
    expect(mergeTaskFiles(t(), t(), t({ state: 'wip' as Task['state'] }))).toEqual({ conflict: expect.stringMatching(/state/) });
  });

  it('joins two additions of one task, and refuses two different tasks added under one id', () => {
    expect(mergeTaskFiles('', t({ stars: 2 }), t({ heat: 3 }))).toEqual({ merged: t({ stars: 2, heat: 3 }) });
    expect(mergeTaskFiles('', t(), t({ created: '2026-11-02T00:00:00.000Z' }))).toEqual({ conflict: expect.stringMatching(/both sides added a task T-1/) });
    expect(mergeTaskFiles(t(), t(), t({ id: 'T-2' }))).toEqual({ conflict: 'ours is task T-1, theirs is task T-2' });
  });
});
