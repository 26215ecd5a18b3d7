import { AgenceError } from '../../core/errors.js';
import { AGENT_RE, parsePriority, parseTaskState, type Task } from '../../core/task.js';
import { requireShard } from '../../shard/layout.js';
import { readManifest } from '../../shard/manifest.js';
import { ensureTaskMergeDriver } from '../../swarm/taskMergeDriver.js';
import { addDep, addTask, addWorkflow, listTasks, readyTasks, removeDep, setTask, showTask, type TaskChanges, type TaskContext } from '../../swarm/tasks.js';
import { selfCommand } from '../selfCommand.js';
import type { Handler, Invocation, Outcome } from '../types.js';

/** `^task ...`: parsing and formatting over swarm/tasks.ts. */

function taskContext(inv: Invocation): TaskContext {
  const shard = requireShard(inv.cwd);
  const manifest = readManifest(shard);
  return { shard, shardName: manifest.shard.name, org: manifest.shard.org, env: inv.env, now: inv.now, random: Math.random };
}

/** A command that writes a task also makes sure this clone merges task files with the driver. */
async function writing(inv: Invocation, write: (ctx: TaskContext) => Outcome): Promise<Outcome> {
  const ctx = taskContext(inv);
  // Before the write, so that a failure here never follows a task change it would seem to undo.
  const registered = await ensureTaskMergeDriver(ctx.shard, selfCommand(), inv.env);
  if (registered.length > 0) inv.notify(`registered the task merge driver (${registered.join(', ')}; docs/tasks.md)`);
  return write(ctx);
}

function count(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[0-9]{1,7}$/.test(value) || Number(value) > 1_000_000) {
    throw new AgenceError('usage', `${flag} must be a whole number from 0 to 1000000, not "${String(value)}"`);
  }
  return Number(value);
}

function agentName(value: string, flag: string): string | null {
  if (value === '-') return null;
  if (!AGENT_RE.test(value)) throw new AgenceError('usage', `${flag} "${value.slice(0, 100)}" is not an agent name`, { fix: 'use a persona name (claudia) or an email; "-" for nobody' });
  return value;
}

const str = (inv: Invocation, name: string) => (typeof inv.opts[name] === 'string' ? (inv.opts[name] as string) : undefined);

function title(value: string, what: string): string {
  const trimmed = value.trim();
  if (trimmed === '' || trimmed.length > 500) throw new AgenceError('usage', `${what} must be 1 to 500 characters`);
  return trimmed;
}

function line(t: Task): string {
  const extras = [t.stars ? `*${t.stars}` : '', t.heat ? `heat ${t.heat}` : '', t.deps.length ? `after ${t.deps.join(', ')}` : ''].filter(Boolean);
  return `${t.id.padEnd(16)} ${t.state.padEnd(9)} ${t.priority.padEnd(6)} ${(t.agent ?? '-').padEnd(10)} ${t.title}${extras.length ? `  (${extras.join('; ')})` : ''}`;
}

function details(t: Task): string {
  return [
    `${t.repo}:${t.id}  ${t.state}`,
    `title     ${t.title}`,
    `priority  ${t.priority}   stars ${t.stars}   heat ${t.heat}`,
    `agent     ${t.agent ?? '(nobody)'}`,
    `after     ${t.deps.length ? t.deps.join(', ') : '(nothing)'}`,
    `created   ${t.created}`,
    `updated   ${t.updated}`,
  ].join('\n');
}

export const add: Handler = (inv) =>
  writing(inv, (ctx) => {
    const workflow = str(inv, 'workflow');
    const common = {
      priority: parsePriority(str(inv, 'priority') ?? 'normal'),
      agent: str(inv, 'agent') === undefined ? null : agentName(str(inv, 'agent') as string, '--agent'),
      deps: (inv.opts.dep as string[] | undefined) ?? [],
      stars: count(inv.opts.stars, '--stars') ?? 0,
      heat: count(inv.opts.heat, '--heat') ?? 0,
    };
    if (workflow !== undefined) {
      if (str(inv, 'id') !== undefined) throw new AgenceError('usage', '--id names one task; a workflow makes several', { fix: 'drop --id' });
      const tasks = addWorkflow(ctx, workflow, inv.args[0] === undefined ? null : title(inv.args[0], 'the label'), common);
      return { data: { ok: true, tasks }, text: [`Added ${tasks.length} tasks from workflow ${workflow}:`, ...tasks.map(line)].join('\n') };
    }
    if (inv.args[0] === undefined) throw new AgenceError('usage', '^task add needs a TITLE (or --workflow NAME)', { fix: 'e.g. `agence ^task add "write the parser" --priority high`' });
    const id = str(inv, 'id');
    const task = addTask(ctx, { title: title(inv.args[0], 'TITLE'), ...(id !== undefined ? { id } : {}), ...common });
    return { data: { ok: true, task }, text: `Added task ${task.id}: ${task.title}` };
  });

export const list: Handler = async (inv) => {
  const ctx = taskContext(inv);
  const state = str(inv, 'state');
  const agent = str(inv, 'agent');
  const { tasks, bad } = listTasks(ctx, { ...(state !== undefined ? { state: parseTaskState(state) } : {}), ...(agent !== undefined ? { agent } : {}) });
  const problem = bad.length ? `${bad.length} task file(s) are not valid tasks: ${bad.map((b) => `${b.file} (${b.problem})`).join('; ')}` : undefined;
  return { data: { tasks, bad }, text: tasks.length ? tasks.map(line).join('\n') : 'No tasks.', ...(problem ? { problem } : {}) };
};

export const show: Handler = async (inv) => {
  const ctx = taskContext(inv);
  const task = showTask(ctx, inv.args[0] as string);
  return { data: task, text: details(task) };
};

function changed(result: { task: Task; changed: boolean }): Outcome {
  return { data: { ok: true, changed: result.changed, task: result.task }, text: result.changed ? details(result.task) : `Task ${result.task.id} unchanged.` };
}

export const set: Handler = (inv) =>
  writing(inv, (ctx) => {
    const changes: TaskChanges = {};
    const t = str(inv, 'title');
    if (t !== undefined) changes.title = title(t, '--title');
    if (str(inv, 'state') !== undefined) changes.state = parseTaskState(str(inv, 'state') as string);
    if (str(inv, 'priority') !== undefined) changes.priority = parsePriority(str(inv, 'priority') as string);
    const stars = count(inv.opts.stars, '--stars');
    if (stars !== undefined) changes.stars = stars;
    const heat = count(inv.opts.heat, '--heat');
    if (heat !== undefined) changes.heat = heat;
    if (str(inv, 'agent') !== undefined) changes.agent = agentName(str(inv, 'agent') as string, '--agent');
    if (Object.keys(changes).length === 0) throw new AgenceError('usage', '^task set needs something to change', { fix: 'give --title, --state, --priority, --stars, --heat or --agent' });
    return changed(setTask(ctx, inv.args[0] as string, changes));
  });

export const assign: Handler = (inv) => writing(inv, (ctx) => changed(setTask(ctx, inv.args[0] as string, { agent: agentName(inv.args[1] as string, 'AGENT') })));

export const done: Handler = (inv) => writing(inv, (ctx) => changed(setTask(ctx, inv.args[0] as string, { state: 'done' })));

export const dep: Handler = (inv) =>
  writing(inv, (ctx) => changed((inv.opts.remove === true ? removeDep : addDep)(ctx, inv.args[0] as string, inv.args[1] as string)));

export const ready: Handler = async (inv) => {
  const ctx = taskContext(inv);
  const limit = count(inv.opts.limit, '--limit') ?? 20;
  const result = readyTasks(ctx, limit);
  const { header } = result;
  const problems = [
    ...header.cycles.map((c) => `cycle: ${c.join(' -> ')} (none of these can become ready; drop a dependency with \`agence ^task dep TASK DEP --remove\`)`),
    ...header.stuck,
    ...header.bad.map((b) => `${b.file} is ${b.problem}`),
    ...result.unresolved,
  ];
  const rows = result.ready.map((r) => `${String(r.score).padStart(7)}  ${r.id.padEnd(16)} ${r.priority.padEnd(6)} ${(r.agent ?? '-').padEnd(10)} ${r.title}`);
  const text = rows.length ? [...rows, ...(result.more ? [`(more are ready; --limit N shows more)`] : [])].join('\n') : 'No task is ready.';
  return {
    data: { ready: result.ready, more: result.more, tasks: header.count, cycles: header.cycles, stuck: header.stuck, bad: header.bad, unresolved: result.unresolved },
    text,
    ...(problems.length ? { problem: problems.join('\n') } : {}),
  };
};
