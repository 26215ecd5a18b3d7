import { PRIORITIES } from './session.js';
import { parseTask, renderTask, TASK_STATES, type Task, type TaskState } from './task.js';

/**
 * The rules of the task merge driver (`agence ^merge-driver`): concurrent edits of one task are
 * merged field by field. A field only one side changed takes that side's value (git's own 3-way
 * rule). A field both sides changed differently takes the join of the two values:
 *
 * - state: the later in TASK_STATES (todo < doing < blocked < done < cancelled);
 * - priority: the higher; stars, heat: the larger (counts are never added up or averaged);
 * - deps: per dependency, 3-way: kept if both sides have it or one side added it, gone if one
 *   side removed it and the other did not add it back;
 * - created: the earlier; updated: the later;
 * - title, agent, repo: the value of the side updated later, ties to the larger value.
 *
 * Every join is a maximum over a total order (or a set union), so the merge is commutative
 * (swapping ours and theirs gives the same bytes) and idempotent (merging a change with itself
 * gives it back); `joinTasks` is also associative. Property tests: test/unit/taskMerge.test.ts.
 */

const stateRank = (s: TaskState) => TASK_STATES.indexOf(s);
const priorityRank = (p: Task['priority']) => PRIORITIES.indexOf(p);

function maxBy<T>(a: T, b: T, rank: (v: T) => number): T {
  return rank(b) > rank(a) ? b : a;
}

/** The value of the side updated later; at the same time, the larger value (so no side is favoured). */
function latest<T extends string | null>(a: T, aUpdated: string, b: T, bUpdated: string): T {
  if (aUpdated !== bUpdated) return aUpdated > bUpdated ? a : b;
  return (a ?? '') >= (b ?? '') ? a : b;
}

/** Two versions of a task with no common ancestor to compare with: every field joined. */
export function joinTasks(a: Task, b: Task): Task {
  return {
    id: a.id < b.id ? a.id : b.id,
    repo: latest(a.repo, a.updated, b.repo, b.updated),
    title: latest(a.title, a.updated, b.title, b.updated),
    state: maxBy(a.state, b.state, stateRank),
    priority: maxBy(a.priority, b.priority, priorityRank),
    stars: Math.max(a.stars, b.stars),
    heat: Math.max(a.heat, b.heat),
    agent: latest(a.agent, a.updated, b.agent, b.updated),
    deps: [...new Set([...a.deps, ...b.deps])].sort(),
    created: a.created < b.created ? a.created : b.created,
    updated: a.updated > b.updated ? a.updated : b.updated,
  };
}

function mergeDeps(base: readonly string[], ours: readonly string[], theirs: readonly string[]): string[] {
  const o = new Set(base);
  const a = new Set(ours);
  const b = new Set(theirs);
  return [...new Set([...ours, ...theirs])].filter((d) => (a.has(d) && b.has(d)) || (a.has(d) && !o.has(d)) || (b.has(d) && !o.has(d))).sort();
}

/** The 3-way merge of one task: fields one side changed from `base` come from that side, the rest are joined. */
export function mergeTasks(base: Task, ours: Task, theirs: Task): Task {
  const joined = joinTasks(ours, theirs);
  const merged = { ...joined } as Record<keyof Task, unknown>;
  for (const key of Object.keys(joined) as (keyof Task)[]) {
    if (key === 'deps') continue;
    const [o, a, b] = [base[key], ours[key], theirs[key]];
    if (a === b) merged[key] = a;
    else if (a === o) merged[key] = b;
    else if (b === o) merged[key] = a;
  }
  merged.deps = mergeDeps(base.deps, ours.deps, theirs.deps);
  return merged as Task;
}

export type DriverOutcome = { merged: string } | { conflict: string };

/**
 * What the driver does with the three versions git hands it (the ancestor is empty when both
 * sides added the file). Anything that is not a task, on any side, is a conflict: git then keeps
 * its usual conflict, and nothing invalid is written. So is the same id added on both sides for
 * two different tasks (different creation times): they are not one task to merge.
 */
export function mergeTaskFiles(baseText: string, oursText: string, theirsText: string): DriverOutcome {
  const ours = parseTask(oursText);
  if ('problem' in ours) return { conflict: `ours is ${ours.problem}` };
  const theirs = parseTask(theirsText);
  if ('problem' in theirs) return { conflict: `theirs is ${theirs.problem}` };
  if (ours.task.id !== theirs.task.id) return { conflict: `ours is task ${ours.task.id}, theirs is task ${theirs.task.id}` };
  if (baseText.trim() === '') {
    if (ours.task.created !== theirs.task.created) return { conflict: `both sides added a task ${ours.task.id}, created at different times (${ours.task.created}, ${theirs.task.created})` };
    return { merged: renderTask(joinTasks(ours.task, theirs.task)) };
  }
  const base = parseTask(baseText);
  if ('problem' in base) return { conflict: `the common ancestor is ${base.problem}` };
  return { merged: renderTask(mergeTasks(base.task, ours.task, theirs.task)) };
}
