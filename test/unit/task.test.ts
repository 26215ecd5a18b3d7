import * as z from 'zod/mini';
import { describe, expect, it } from 'vitest';
import { AgenceError } from '../../src/core/errors.js';
import {
  assertTaskId,
  compareRank,
  findCycles,
  findPath,
  instantiateWorkflow,
  newTaskId,
  parseTask,
  parseTaskRef,
  rankKey,
  renderTask,
  score,
  type Task,
  TaskSchema,
  TASK_STATES,
  transitionTask,
  type Workflow,
  workflowProblem,
} from '../../src/core/task.js';

const task = (over: Partial<Task> = {}): Task => ({
  id: 'T-1',
  repo: 'api',
  title: 'a task',
  state: 'todo',
  priority: 'normal',
  stars: 0,
  heat: 0,
  agent: null,
  deps: [],
  created: '2026-11-01T00:00:00.000Z',
  updated: '2026-11-01T00:00:00.000Z',
  ...over,
});

describe('task records', () => {
  it('renders fields in a fixed order with deps sorted and unique, and parses back', () => {
    const text = renderTask(task({ deps: ['T-b', 'T-a', 'T-b'] }));
    expect(Object.keys(JSON.parse(text))).toEqual(['id', 'repo', 'title', 'state', 'priority', 'stars', 'heat', 'agent', 'deps', 'created', 'updated']);
    expect(JSON.parse(text).deps).toEqual(['T-a', 'T-b']);
    expect(parseTask(text)).toEqual({ task: task({ deps: ['T-a', 'T-b'] }) });
  });

  it('says why a file is not a task: garbage, an unknown state, an unknown field, a bad dep', () => {
    expect(parseTask('{"id": ')).toMatchObject({ problem: expect.stringMatching(/^not valid JSON/) });
    expect(parseTask(JSON.stringify({ ...task(), state: 'wip' }))).toMatchObject({ problem: expect.stringMatching(/^not a task \(state: /) });
    expect(parseTask(JSON.stringify({ ...task(), colour: 'red' }))).toMatchObject({ problem: expect.stringMatching(/^not a task/) });
    expect(parseTask(JSON.stringify({ ...task(), deps: ['../etc/passwd'] }))).toMatchObject({ problem: expect.stringMatching(/deps\.0/) });
  });

  it('validates ids before they name a file', () => {
    for (const bad of ['../T-1', 'T-1/..', 't-1', 'T-ABC', 'T_1', 'T-', '-1', 'T-1.json', 'TOOLONGPREFIX1-1', 'T-1 ']) {
      expect(() => assertTaskId(bad)).toThrow(AgenceError);
    }
    expect(assertTaskId('TEST-001')).toBe('TEST-001');
  });

  it('makes ids from the time and random digits', () => {
    const now = new Date('2026-11-25T00:00:00Z');
    const seq = [0, 0.99, 0.5, 0.25];
    let i = 0;
    const id = newTaskId('T', now, () => seq[i++ % seq.length] as number);
    expect(id).toBe(`T-${Math.floor(now.getTime() / 1000).toString(36)}a7qi`);
    const ids = new Set(Array.from({ length: 2000 }, () => newTaskId('T', now, Math.random)));
    expect(ids.size).toBeGreaterThan(1990); // 20 random bits: a clash in the same second is rare, and refused by O_EXCL
  });

  it('reads task references: local, qualified, own shard as local', () => {
    expect(parseTaskRef('T-1', 'api')).toEqual({ shard: null, id: 'T-1' });
    expect(parseTaskRef('web:T-1', 'api')).toEqual({ shard: 'web', id: 'T-1' });
    expect(parseTaskRef('api:T-1', 'api')).toEqual({ shard: null, id: 'T-1' });
    expect(() => parseTaskRef('Web:T-1', 'api')).toThrow(/is not a task/);
    expect(() => parseTaskRef('web:../T-1', 'api')).toThrow(/is not a task/);
  });

  it('is published as JSON Schema in docs/', async () => {
    await expect(`${JSON.stringify(z.toJSONSchema(TaskSchema), null, 2)}\n`).toMatchFileSnapshot('../../docs/task.schema.json');
  });
});

describe('task lifecycle', () => {
  it('allows the documented moves and refuses the rest, naming what is allowed', () => {
    const allowed: Record<string, string[]> = {
      todo: ['todo', 'doing', 'blocked', 'done', 'cancelled'],
      doing: ['todo', 'doing', 'blocked', 'done', 'cancelled'],
      blocked: ['todo', 'doing', 'blocked', 'cancelled'],
      done: ['todo', 'done'],
      cancelled: ['todo', 'cancelled'],
    };
    for (const from of TASK_STATES) {
      for (const to of TASK_STATES) {
        const move = () => transitionTask({ id: 'T-1', state: from }, to);
        if (allowed[from]?.includes(to)) expect(move()).toBe(to);
        else expect(move).toThrow(new RegExp(`T-1 is ${from} and cannot become ${to}`));
      }
    }
  });
});

describe('ranking', () => {
  it('orders by priority, stars, heat and age, the same whatever the clock says', () => {
    const a = task({ id: 'T-a', priority: 'high' });
    const b = task({ id: 'T-b', stars: 4, heat: 1, created: '2026-10-01T00:00:00.000Z' }); // normal 10 + 2*4 stars + 1 heat + 31 days
    const c = task({ id: 'T-c' });
    const ranked = (now: Date) =>
      [a, b, c]
        .map((t) => ({ id: t.id, created: t.created, key: rankKey(t), score: score(rankKey(t), now) }))
        .sort(compareRank);
    const early = ranked(new Date('2026-11-01T00:00:00Z'));
    const late = ranked(new Date('2027-06-01T00:00:00Z'));
    expect(early.map((r) => r.id)).toEqual(['T-b', 'T-a', 'T-c']);
    expect(late.map((r) => r.id)).toEqual(early.map((r) => r.id));
    expect(early.map((r) => r.score)).toEqual([50, 20, 10]);
  });
});

describe('dependency graphs', () => {
  const graph: Record<string, string[]> = { a: ['b'], b: ['c'], c: ['a'], d: ['d'], e: ['a'], f: [] };
  const edges = (n: string) => graph[n] ?? [];

  it('finds a path along deps', () => {
    expect(findPath('a', 'c', edges)).toEqual(['a', 'b', 'c']);
    expect(findPath('f', 'a', edges)).toBeNull();
  });

  it('finds every cycle, self-loops included, and nothing else', () => {
    expect(findCycles(Object.keys(graph), edges)).toEqual([['a', 'b', 'c', 'a'], ['d', 'd']]);
    expect(findCycles(['x', 'y'], (n) => (n === 'x' ? ['y'] : []))).toEqual([]);
  });

  it('walks a chain of 20,000 without overflowing the stack', () => {
    const n = 20_000;
    const chain = (i: string) => (Number(i) + 1 < n ? [String(Number(i) + 1)] : ['0']);
    const cycles = findCycles(['0'], chain);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toHaveLength(n + 1);
  });
});

describe('workflows', () => {
  const workflow: Workflow = {
    name: 'release',
    steps: [
      { key: 'build', title: 'build it' },
      { key: 'test', title: 'test it', after: ['build'], priority: 'high' },
      { key: 'docs', title: 'document it', after: ['build'], agent: 'claudia' },
      { key: 'ship', title: 'ship it', after: ['test', 'docs'] },
    ],
  };

  it('instantiates one task per step with deps from after', () => {
    const base = { repo: 'api', state: 'todo' as const, priority: 'normal' as const, stars: 0, heat: 0, agent: null, created: '2026-11-01T00:00:00.000Z', updated: '2026-11-01T00:00:00.000Z' };
    const tasks = instantiateWorkflow(workflow, ['T-1', 'T-2', 'T-3', 'T-4'], base, 'v2');
    expect(tasks.map((t) => [t.id, t.title, t.deps, t.priority, t.agent])).toEqual([
      ['T-1', 'v2: build it', [], 'normal', null],
      ['T-2', 'v2: test it', ['T-1'], 'high', null],
      ['T-3', 'v2: document it', ['T-1'], 'normal', 'claudia'],
      ['T-4', 'v2: ship it', ['T-2', 'T-3'], 'normal', null],
    ]);
    for (const t of tasks) expect(TaskSchema.safeParse(t).success).toBe(true);
  });

  it('refuses duplicate keys and steps after unknown or later steps', () => {
    expect(workflowProblem(workflow)).toBeNull();
    expect(workflowProblem({ name: 'w', steps: [{ key: 'a', title: 'x' }, { key: 'a', title: 'y' }] })).toMatch(/"a" appears twice/);
    expect(workflowProblem({ name: 'w', steps: [{ key: 'a', title: 'x', after: ['b'] }, { key: 'b', title: 'y' }] })).toMatch(/"a" comes after "b", which is not an earlier step/);
  });
});
