import * as z from './zod.js';
import { AgenceError } from './errors.js';
import { isoTime, NAME_RE } from './schemas.js';
import { PRIORITIES, type Priority } from './session.js';

/**
 * A task of ORGANIC (issue 9): one JSON file per task, `organic/tasks/<id>.json`, shared between
 * clones through git. One schema validates every file read, written or merged, and is exported
 * as JSON Schema to docs/task.schema.json. Decisions: docs/tasks.md.
 */

/**
 * Ids are `PREFIX-suffix`: an upper-case prefix and a lower-case suffix, so no two ids differ only
 * by case (case-insensitive file systems). Generated ids carry the creation time and random
 * digits (two clones adding at once cannot collide); `--id TEST-001` names one by hand.
 */
export const TASK_ID_RE = /^[A-Z][A-Z0-9]{0,11}-[0-9a-z]{1,24}$/;
/** A dependency: a task of this shard (`T-1`) or of another, by qualified name (`api:T-1`). */
export const TASK_REF_RE = /^(?:([a-z0-9][a-z0-9._-]{0,63}):)?([A-Z][A-Z0-9]{0,11}-[0-9a-z]{1,24})$/;

/** Who a task is assigned to: a persona (`claudia`) or a person (`ana@example.com`). */
export const AGENT_RE = /^[A-Za-z0-9][A-Za-z0-9@._+-]{0,99}$/;

export const TASK_STATES = ['todo', 'doing', 'blocked', 'done', 'cancelled'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export { PRIORITIES, type Priority };

const count = () => z.int().check(z.gte(0), z.lte(1_000_000));

export const TaskSchema = z.deferred(() => z.strictObject({
  id: z.string().check(z.regex(TASK_ID_RE, 'PREFIX-suffix, like T-smx3k2a4fz7 or TEST-001')),
  repo: z.string().check(z.regex(NAME_RE, 'a shard name')),
  title: z.string().check(z.minLength(1), z.maxLength(500)),
  state: z.enum(TASK_STATES),
  priority: z.enum(PRIORITIES),
  stars: count(),
  heat: count(),
  agent: z.nullable(z.string().check(z.regex(AGENT_RE, 'an agent name or an email'))),
  deps: z.array(z.string().check(z.regex(TASK_REF_RE, 'a task id or shard:task-id'))),
  created: isoTime(),
  updated: isoTime(),
}));
export type Task = z.infer<typeof TaskSchema>;

/** Field order of a task file: small diffs, and equal tasks are equal bytes. */
const FIELD_ORDER = ['id', 'repo', 'title', 'state', 'priority', 'stars', 'heat', 'agent', 'deps', 'created', 'updated'] as const;

/** A task as its file holds it: fields in order, deps sorted and unique, two-space JSON. */
export function renderTask(task: Task): string {
  const ordered: Record<string, unknown> = {};
  for (const key of FIELD_ORDER) ordered[key] = key === 'deps' ? [...new Set(task.deps)].sort() : task[key];
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** A task file's text as a task, or the reason it is not one. */
export function parseTask(text: string): { task: Task } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: `not valid JSON (${(error as Error).message})` };
  }
  const parsed = TaskSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    return { problem: `not a task (${where}${issue?.message ?? 'invalid'})` };
  }
  return { task: parsed.data };
}

/** A task about to be written: refused (nothing written) when a field is out of bounds. */
export function assertValidTask(task: Task): Task {
  const parsed = TaskSchema.safeParse(task);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new AgenceError('usage', `task ${task.id} would not be valid: ${issue?.path.join('.') || 'record'}: ${issue?.message ?? 'invalid'}; nothing was written`);
}

/** Validate a task id from outside before it names a file. */
export function assertTaskId(id: string, what = 'task id'): string {
  if (!TASK_ID_RE.test(id)) {
    throw new AgenceError('usage', `"${id.length > 40 ? `${id.slice(0, 40)}...` : id}" is not a ${what}`, {
      fix: 'a task id is an upper-case prefix, "-" and lower-case letters or digits, like T-smx3k2a4fz7 or TEST-001 (see `agence ^task list`)',
    });
  }
  return id;
}

export interface TaskRef {
  /** null for a task of the shard itself. */
  shard: string | null;
  id: string;
}

/** `T-1`, `api:T-1`; a qualified name of the shard itself is the local task. */
export function parseTaskRef(input: string, ownShard: string): TaskRef {
  const match = TASK_REF_RE.exec(input);
  if (!match) {
    throw new AgenceError('usage', `"${input.length > 80 ? `${input.slice(0, 80)}...` : input}" is not a task`, {
      fix: 'name a task by its id (T-smx3k2a4fz7) or, in another shard, by shard:id (api-services:TEST-001)',
    });
  }
  const shard = match[1] ?? null;
  return { shard: shard === ownShard ? null : shard, id: match[2] as string };
}

export function formatTaskRef(ref: TaskRef): string {
  return ref.shard === null ? ref.id : `${ref.shard}:${ref.id}`;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A new id: the time in base 36 and four random base-32 digits (20 bits; `random` gives 0..1). */
export function newTaskId(prefix: string, now: Date, random: () => number): string {
  let tail = '';
  for (let i = 0; i < 4; i++) tail += BASE32[Math.floor(random() * 32) % 32];
  return assertTaskId(`${prefix}-${Math.floor(now.getTime() / 1000).toString(36)}${tail}`);
}

/**
 * The states a task moves between, each change by `^task set --state`, `^task done`. A finished
 * or cancelled task is reopened to todo; a blocked one must be unblocked before it is done.
 */
const TRANSITIONS: Record<TaskState, readonly TaskState[]> = {
  todo: ['doing', 'blocked', 'done', 'cancelled'],
  doing: ['todo', 'blocked', 'done', 'cancelled'],
  blocked: ['todo', 'doing', 'cancelled'],
  done: ['todo'],
  cancelled: ['todo'],
};

/** The state after asking for `to`; the same state is no change. Illegal moves are refused. */
export function transitionTask(task: Pick<Task, 'id' | 'state'>, to: TaskState): TaskState {
  if (to === task.state || TRANSITIONS[task.state].includes(to)) return to;
  throw new AgenceError('conflict', `task ${task.id} is ${task.state} and cannot become ${to}`, {
    fix: `from ${task.state} it can become: ${TRANSITIONS[task.state].join(', ')}`,
  });
}

export function parseTaskState(input: string): TaskState {
  if ((TASK_STATES as readonly string[]).includes(input)) return input as TaskState;
  throw new AgenceError('usage', `"${input}" is not a task state`, { fix: `use one of ${TASK_STATES.join(', ')}` });
}

export function parsePriority(input: string): Priority {
  if ((PRIORITIES as readonly string[]).includes(input)) return input as Priority;
  throw new AgenceError('usage', `--priority "${input}" is not a priority`, { fix: `use one of ${PRIORITIES.join(', ')}` });
}

/**
 * The ranking of `^task ready`: 10 per priority step (low 0 .. urgent 30), 2 per star, 1 per
 * heat, 1 per day of age. Age is linear, so the order of tasks does not change with the clock:
 * `rankKey` (the score without `now`) sorts them, `score` adds the age for display.
 */
export function rankKey(task: Pick<Task, 'priority' | 'stars' | 'heat' | 'created'>): number {
  return 10 * PRIORITIES.indexOf(task.priority) + 2 * task.stars + task.heat - Date.parse(task.created) / 86_400_000;
}

export function score(key: number, now: Date): number {
  return Math.round((key + now.getTime() / 86_400_000) * 10) / 10;
}

/** Higher key first; then older, then by id, so the order is total and the same on every machine. */
export function compareRank(a: { key: number; created: string; id: string }, b: { key: number; created: string; id: string }): number {
  return b.key - a.key || a.created.localeCompare(b.created) || a.id.localeCompare(b.id);
}

/**
 * A path from `from` to `to` along `edges` (both included), or null. Used to refuse a dependency
 * that would close a cycle: `A waits for B` closes one when A is reachable from B.
 */
export function findPath(from: string, to: string, edges: (node: string) => readonly string[]): string[] | null {
  const parent = new Map<string, string | null>([[from, null]]);
  const stack = [from];
  while (stack.length > 0) {
    const node = stack.pop() as string;
    if (node === to) {
      const path = [node];
      for (let p = parent.get(node); p != null; p = parent.get(p)) path.unshift(p);
      return path;
    }
    for (const next of edges(node)) {
      if (!parent.has(next)) {
        parent.set(next, node);
        stack.push(next);
      }
    }
  }
  return null;
}

/**
 * Every cycle among `nodes` (one per strongly connected component of more than one node, or a
 * node waiting for itself), each as the list of its nodes in path order, closed by its first.
 * Cycles appear only through merges or hand edits, since `^task dep` refuses them.
 */
export function findCycles(nodes: readonly string[], edges: (node: string) => readonly string[]): string[][] {
  // Tarjan's algorithm, iterative so that long chains cannot overflow the stack.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let counter = 0;
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { node: string; next: number; out: readonly string[] }[] = [];
    const enter = (node: string) => {
      index.set(node, counter);
      low.set(node, counter++);
      stack.push(node);
      onStack.add(node);
      work.push({ node, next: 0, out: edges(node) });
    };
    enter(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as (typeof work)[number];
      if (frame.next < frame.out.length) {
        const next = frame.out[frame.next++] as string;
        if (!index.has(next)) enter(next);
        else if (onStack.has(next)) low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(next) as number));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.node);
      const inside = new Set(component);
      const start = [...component].sort()[0] as string;
      const within = (n: string) => edges(n).filter((e) => inside.has(e));
      if (component.length === 1 && !within(start).includes(start)) continue;
      // A closed walk through the component: start, then back to start from its first successor inside.
      const path = findPath(within(start)[0] as string, start, within) as string[];
      cycles.push([start, ...path]);
    }
  }
  return cycles;
}

/**
 * A workflow (`organic/workflows/<name>.json`): a named, ordered list of step templates.
 * `^task add --workflow NAME` makes one task per step; a step's `after` (keys of earlier steps)
 * become its deps, so the steps are done in order where they must be and in parallel elsewhere.
 */
export const WORKFLOW_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const STEP_KEY_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;

export const WorkflowSchema = z.deferred(() => z.strictObject({
  name: z.string().check(z.regex(WORKFLOW_NAME_RE, 'lowercase letters, digits, "_" or "-"')),
  description: z.optional(z.string()),
  steps: z
    .array(
      z.strictObject({
        key: z.string().check(z.regex(STEP_KEY_RE, 'lowercase letters, digits, "_" or "-", at most 32')),
        title: z.string().check(z.minLength(1), z.maxLength(400)),
        priority: z.optional(z.enum(PRIORITIES)),
        agent: z.optional(z.string().check(z.regex(AGENT_RE, 'an agent name or an email'))),
        after: z.optional(z.array(z.string())),
      }),
    )
    .check(z.minLength(1), z.maxLength(200)),
}));
export type Workflow = z.infer<typeof WorkflowSchema>;

export function assertWorkflowName(name: string): string {
  if (!WORKFLOW_NAME_RE.test(name)) {
    throw new AgenceError('usage', `--workflow "${name.slice(0, 64)}" is not a workflow name`, { fix: 'a workflow is named by lowercase letters, digits, "_" or "-" (its file is .agence/organic/workflows/NAME.json)' });
  }
  return name;
}

/** What is wrong with a workflow's steps (duplicate keys, `after` naming no earlier step), or null. */
export function workflowProblem(workflow: Workflow): string | null {
  const seen = new Set<string>();
  for (const step of workflow.steps) {
    if (seen.has(step.key)) return `step "${step.key}" appears twice`;
    for (const before of step.after ?? []) {
      if (!seen.has(before)) return `step "${step.key}" comes after "${before}", which is not an earlier step`;
    }
    seen.add(step.key);
  }
  return null;
}

/**
 * The tasks of one run of a workflow: `ids[i]` for step i, titles prefixed with `label` when
 * given, deps from `after`. Steps may only follow earlier steps, so a workflow has no cycle.
 */
export function instantiateWorkflow(workflow: Workflow, ids: readonly string[], base: Omit<Task, 'id' | 'title' | 'deps' | 'priority' | 'agent'> & Pick<Task, 'priority' | 'agent'>, label: string | null): Task[] {
  const idOf = new Map(workflow.steps.map((step, i) => [step.key, ids[i] as string]));
  return workflow.steps.map((step, i) => ({
    ...base,
    id: ids[i] as string,
    title: label ? `${label}: ${step.title}` : step.title,
    priority: step.priority ?? base.priority,
    agent: step.agent ?? base.agent,
    deps: (step.after ?? []).map((key) => idOf.get(key) as string),
  }));
}
