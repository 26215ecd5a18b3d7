import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AgenceError } from '../core/errors.js';
import type { RegistryEntry } from '../core/schemas.js';
import {
  assertTaskId,
  assertValidTask,
  assertWorkflowName,
  findPath,
  formatTaskRef,
  instantiateWorkflow,
  newTaskId,
  parseTask,
  parseTaskRef,
  renderTask,
  score,
  type Task,
  type TaskRef,
  type TaskState,
  transitionTask,
  type Workflow,
  WorkflowSchema,
  workflowProblem,
} from '../core/task.js';
import { createFileOnce, writeFileAtomic } from '../store/atomic.js';
import { readJsonFile, readTextFile } from '../store/files.js';
import { withFileLock } from '../store/lockFile.js';
import type { ShardPaths } from '../shard/layout.js';
import { readRegistry } from '../shard/registry.js';
import { type BadTaskFile, type ReadyHeader, readyList, type TaskFolder, taskSnapshot } from './taskIndex.js';

/** The task service (issue 9): `^task add|list|show|set|assign|done|dep|ready`. Decisions: docs/tasks.md. */

export interface TaskContext {
  shard: ShardPaths;
  shardName: string;
  org: string;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  random: () => number;
}

export const tasksDir = (shard: Pick<ShardPaths, 'agence'>) => join(shard.agence, 'organic', 'tasks');
const workflowsDir = (shard: ShardPaths) => join(shard.agence, 'organic', 'workflows');
const taskPath = (dir: string, id: string) => join(dir, `${assertTaskId(id)}.json`);
const shown = (ctx: TaskContext, file: string) => (file.startsWith(`${ctx.shard.root}/`) ? file.slice(ctx.shard.root.length + 1) : file);

function folder(ctx: TaskContext): TaskFolder {
  return { dir: tasksDir(ctx.shard), cacheDir: join(ctx.shard.nexus, 'tasks'), shardName: ctx.shardName };
}

/** One task file, read and validated; where it is names it in every error. */
function readTaskAt(path: string, label: string, what: string): Task | null {
  const text = readTextFile(path, label);
  if (text === null) return null;
  const parsed = parseTask(text);
  const fix = `fix it by hand, or restore it with \`git checkout -- ${label}\``;
  if ('problem' in parsed) throw new AgenceError('corrupt', `${label} is ${parsed.problem}`, { file: path, fix });
  if (`${parsed.task.id}.json` !== path.slice(path.lastIndexOf('/') + 1)) {
    throw new AgenceError('corrupt', `${label} holds task ${parsed.task.id}, not ${what}`, { file: path, fix });
  }
  return parsed.task;
}

/** A task of this shard by id, or of any registered shard by `shard:ID`. */
export function showTask(ctx: TaskContext, name: string): Task {
  return new TaskResolver(ctx).get(parseTaskRef(name, ctx.shardName));
}

/** The registered shard called `name`: this org's first, and refused when the name is ambiguous. */
function shardNamed(ctx: TaskContext, registry: RegistryEntry[], name: string): RegistryEntry {
  const named = registry.filter((s) => s.name === name);
  const ours = named.filter((s) => s.org === ctx.org);
  const candidates = ours.length > 0 ? ours : named;
  if (candidates.length === 0) {
    throw new AgenceError('not_found', `unknown shard "${name}": it is not in your shard registry`, {
      fix: 'run `agence ^init` in a clone of that repository to register it (`agence ^shards` lists the known ones)',
    });
  }
  if (new Set(candidates.map((s) => s.path)).size > 1) {
    throw new AgenceError('conflict', `shard name "${name}" is ambiguous: ${candidates.map((s) => `${s.org}/${s.name} at ${s.path}`).join(', ')}`, {
      fix: 'remove the stale one with `agence ^shards --prune`, or rename one shard',
    });
  }
  return candidates[0] as RegistryEntry;
}

/**
 * Reads tasks of this shard and of registered ones by reference; the registry is read once. A
 * task that does not exist is refused with its qualified name.
 */
class TaskResolver {
  private registry: RegistryEntry[] | null = null;
  constructor(private readonly ctx: TaskContext) {}

  private dirOf(shard: string | null): string {
    if (shard === null) return tasksDir(this.ctx.shard);
    this.registry ??= readRegistry(this.ctx.env).shards;
    return tasksDir({ agence: join(shardNamed(this.ctx, this.registry, shard).path, '.agence') });
  }

  /** The task, or null when it does not exist; unknown shards and broken files throw. */
  find(ref: TaskRef): Task | null {
    const path = taskPath(this.dirOf(ref.shard), ref.id);
    return readTaskAt(path, ref.shard === null ? shown(this.ctx, path) : path, ref.id);
  }

  get(ref: TaskRef): Task {
    const task = this.find(ref);
    if (task) return task;
    const where = ref.shard === null ? `in shard ${this.ctx.shardName}` : `in shard ${ref.shard}`;
    throw new AgenceError('not_found', `unknown task ${formatTaskRef(ref)}: there is no such task ${where}`, {
      fix: ref.shard === null ? 'see `agence ^task list`' : `see \`agence ^task list\` in ${ref.shard}; pull it if the task is new`,
    });
  }

  /** Deps of a task named `shard:id` as qualified names, for walks across shards. */
  depsOf(qualified: string): string[] {
    const colon = qualified.indexOf(':');
    const shard = qualified.slice(0, colon);
    let task: Task | null;
    try {
      task = this.find({ shard: shard === this.ctx.shardName ? null : shard, id: qualified.slice(colon + 1) });
    } catch {
      return []; // an unreadable task adds no edge; the command that reads it reports it
    }
    return (task?.deps ?? []).map((d) => {
      const ref = parseTaskRef(d, shard);
      return `${ref.shard ?? shard}:${ref.id}`;
    });
  }
}

/** Read-modify-write of one task under its lock (in NEXUS, never in the versioned folder), read back. */
function updateTask(ctx: TaskContext, id: string, change: (task: Task) => Task): { task: Task; changed: boolean } {
  const path = taskPath(tasksDir(ctx.shard), id);
  return withFileLock(join(ctx.shard.nexus, 'tasks', 'locks', id), () => {
    const before = new TaskResolver(ctx).get({ shard: null, id });
    const after = change(before);
    if (renderTask(after) === renderTask(before)) return { task: before, changed: false };
    // Never backwards, even on a clock behind the clone that wrote it: the merge keeps the later side's title and agent.
    const now = ctx.now().toISOString();
    const task = assertValidTask({ ...after, updated: now > before.updated ? now : before.updated });
    writeFileAtomic(path, renderTask(task));
    return { task: verifyWritten(ctx, path, task), changed: true };
  });
}

function verifyWritten(ctx: TaskContext, path: string, task: Task): Task {
  const back = readTaskAt(path, shown(ctx, path), task.id);
  if (!back || renderTask(back) !== renderTask(task)) throw new AgenceError('corrupt', `${shown(ctx, path)} did not read back as written`, { file: path });
  return back;
}

export interface NewTask {
  title: string;
  id?: string;
  priority: Task['priority'];
  agent: string | null;
  deps: string[];
  stars: number;
  heat: number;
}

/** A dep as stored: a bare id for this shard's tasks, `shard:id` for others'; it must exist. */
function checkedDep(resolver: TaskResolver, ctx: TaskContext, input: string): string {
  const ref = parseTaskRef(input, ctx.shardName);
  resolver.get(ref);
  return formatTaskRef(ref);
}

function createTask(ctx: TaskContext, task: Task): Task {
  const path = taskPath(tasksDir(ctx.shard), task.id);
  if (!createFileOnce(path, renderTask(assertValidTask(task)))) {
    throw new AgenceError('conflict', `task ${task.id} already exists (${shown(ctx, path)})`, { fix: 'pick another --id, or change it with `agence ^task set`' });
  }
  return verifyWritten(ctx, path, task);
}

export function addTask(ctx: TaskContext, input: NewTask): Task {
  const resolver = new TaskResolver(ctx);
  const now = ctx.now();
  const id = input.id === undefined ? newTaskId('T', now, ctx.random) : assertTaskId(input.id, '--id');
  const deps = input.deps.map((d) => checkedDep(resolver, ctx, d));
  if (deps.includes(id)) throw new AgenceError('usage', `task ${id} cannot wait for itself`);
  const at = now.toISOString();
  return createTask(ctx, { id, repo: ctx.shardName, title: input.title, state: 'todo', priority: input.priority, stars: input.stars, heat: input.heat, agent: input.agent, deps, created: at, updated: at });
}

function readWorkflow(ctx: TaskContext, name: string): Workflow {
  const path = join(workflowsDir(ctx.shard), `${assertWorkflowName(name)}.json`);
  const label = shown(ctx, path);
  const fix = `fix ${label} (docs/tasks.md shows the format)`;
  const workflow = readJsonFile(path, WorkflowSchema, { shown: label, fix });
  if (!workflow) {
    const known = existsSync(workflowsDir(ctx.shard)) ? readdirSync(workflowsDir(ctx.shard)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)) : [];
    throw new AgenceError('not_found', `no workflow "${name}" in ${shown(ctx, workflowsDir(ctx.shard))}`, { fix: known.length ? `known: ${known.join(', ')}` : 'write one as .agence/organic/workflows/NAME.json (docs/tasks.md)' });
  }
  const problem = workflowProblem(workflow);
  if (problem) throw new AgenceError('corrupt', `${label}: ${problem}`, { file: path, fix });
  if (workflow.name !== name) throw new AgenceError('corrupt', `${label} names itself "${workflow.name}", not "${name}"`, { file: path, fix });
  return workflow;
}

/** One task per step of a workflow, deps between them from the steps' `after`. */
export function addWorkflow(ctx: TaskContext, name: string, label: string | null, input: Omit<NewTask, 'title' | 'id'>): Task[] {
  const workflow = readWorkflow(ctx, name);
  const resolver = new TaskResolver(ctx);
  const extra = input.deps.map((d) => checkedDep(resolver, ctx, d));
  const now = ctx.now();
  const ids = workflow.steps.map(() => newTaskId('T', now, ctx.random));
  if (new Set(ids).size !== ids.length) return addWorkflow(ctx, name, label, input); // 20 random bits each: retry the rare clash
  const at = now.toISOString();
  const tasks = instantiateWorkflow(workflow, ids, { repo: ctx.shardName, state: 'todo', priority: input.priority, stars: input.stars, heat: input.heat, agent: input.agent, created: at, updated: at }, label);
  // The workflow's first steps also wait for the deps given on the command line.
  const first = tasks.map((t) => (t.deps.length === 0 ? { ...t, deps: [...extra] } : t));
  return first.map(assertValidTask).map((t) => createTask(ctx, t)); // all checked before the first is written
}

export interface TaskChanges {
  title?: string;
  state?: TaskState;
  priority?: Task['priority'];
  stars?: number;
  heat?: number;
  agent?: string | null;
}

export function setTask(ctx: TaskContext, id: string, changes: TaskChanges): { task: Task; changed: boolean } {
  const resolver = new TaskResolver(ctx);
  return updateTask(ctx, id, (task) => {
    const state = changes.state === undefined ? task.state : transitionTask(task, changes.state);
    if (state === 'done' && task.state !== 'done') assertDepsDone(ctx, resolver, task);
    return { ...task, ...changes, state };
  });
}

function assertDepsDone(ctx: TaskContext, resolver: TaskResolver, task: Task): void {
  const open = task.deps.map((d) => parseTaskRef(d, ctx.shardName)).map((ref) => ({ ref, dep: resolver.get(ref) })).filter(({ dep }) => dep.state !== 'done');
  if (open.length > 0) {
    throw new AgenceError('conflict', `task ${task.id} waits for ${open.map(({ ref, dep }) => `${formatTaskRef(ref)} (${dep.state})`).join(', ')}`, {
      fix: `finish those first, or drop the dependency with \`agence ^task dep ${task.id} DEP --remove\``,
    });
  }
}

/** `^task dep TASK DEP`: TASK waits for DEP. Refused when DEP is unknown or already waits for TASK. */
export function addDep(ctx: TaskContext, id: string, depInput: string): { task: Task; changed: boolean } {
  const resolver = new TaskResolver(ctx);
  const dep = checkedDep(resolver, ctx, depInput);
  const self = `${ctx.shardName}:${assertTaskId(id)}`;
  const depRef = parseTaskRef(dep, ctx.shardName);
  const target = `${depRef.shard ?? ctx.shardName}:${depRef.id}`;
  const path = findPath(target, self, (n) => resolver.depsOf(n));
  if (path) {
    const short = (q: string) => (q.startsWith(`${ctx.shardName}:`) ? q.slice(ctx.shardName.length + 1) : q);
    throw new AgenceError('conflict', `${id} cannot wait for ${dep}: that would close the cycle ${[self, ...path].map(short).join(' -> ')}`, {
      fix: 'drop one of those dependencies first (`agence ^task dep TASK DEP --remove`)',
    });
  }
  return updateTask(ctx, id, (task) => ({ ...task, deps: [...task.deps, dep] }));
}

export function removeDep(ctx: TaskContext, id: string, depInput: string): { task: Task; changed: boolean } {
  const dep = formatTaskRef(parseTaskRef(depInput, ctx.shardName));
  return updateTask(ctx, id, (task) => {
    if (!task.deps.includes(dep)) throw new AgenceError('not_found', `task ${id} does not wait for ${dep}`, { fix: `its deps: ${task.deps.join(', ') || 'none'}` });
    return { ...task, deps: task.deps.filter((d) => d !== dep) };
  });
}

export interface TaskListing {
  tasks: Task[];
  bad: BadTaskFile[];
}

export function listTasks(ctx: TaskContext, filter: { state?: TaskState; agent?: string }): TaskListing {
  const { tasks, bad } = taskSnapshot(folder(ctx), ctx.now().getTime());
  const picked = tasks.filter((t) => (filter.state === undefined || t.state === filter.state) && (filter.agent === undefined || t.agent === filter.agent));
  picked.sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id));
  return { tasks: picked, bad };
}

export interface ReadyTask {
  id: string;
  title: string;
  priority: Task['priority'];
  stars: number;
  heat: number;
  agent: string | null;
  created: string;
  score: number;
}

export interface ReadyResult {
  ready: ReadyTask[];
  /** Ready tasks beyond the limit are not counted (that would read the whole list). */
  more: boolean;
  header: ReadyHeader;
  /** Cross-shard deps that could not be checked (unknown shard or task, broken file). */
  unresolved: string[];
}

/** Unblocked todo tasks, best first (docs/tasks.md: the score). Cross-shard deps are read live. */
export function readyTasks(ctx: TaskContext, limit: number): ReadyResult {
  const now = ctx.now();
  const resolver = new TaskResolver(ctx);
  const unresolved: string[] = [];
  const done = (qualified: string): boolean => {
    try {
      return resolver.get(parseTaskRef(qualified, ctx.shardName)).state === 'done';
    } catch (error) {
      if (!(error instanceof AgenceError)) throw error;
      unresolved.push(`${qualified}: ${error.message}`);
      return false;
    }
  };
  return readyList(folder(ctx), now.getTime(), (header, next) => {
    const ready: ReadyTask[] = [];
    let more = false;
    for (let row = next(); row !== null; row = next()) {
      const [id, title, priority, stars, heat, agent, created, key, foreign] = row;
      if (!foreign.every(done)) continue;
      if (ready.length === limit) {
        more = true;
        break;
      }
      ready.push({ id, title, priority, stars, heat, agent, created, score: score(key, now) });
    }
    return { ready, more, header, unresolved };
  });
}
