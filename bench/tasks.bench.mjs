// Tasks at scale: `^task ready` and `^task list` in a shard of 10,000 task files, against `node -e 0`
// (and `^task ready` at 10 tasks, for reference).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, interleaved, sandbox, sh } from './lib.mjs';

export const name = 'tasks';
const COUNT = 10_000;
const STATES = ['todo', 'todo', 'todo', 'doing', 'blocked', 'done', 'done', 'cancelled'];
const PRIORITIES = ['low', 'normal', 'normal', 'high', 'urgent'];
const START = Date.parse('2026-06-01T00:00:00Z');

/** Task i: a mix of states and priorities; one in three waits for an earlier task. */
function task(i, repo = 'big') {
  const at = new Date(START + i * 60_000).toISOString();
  const deps = i > 0 && i % 3 === 0 ? [`T-${(i - 1 - (i % 7)).toString(36)}`] : [];
  return { id: `T-${i.toString(36)}`, repo, title: `benchmark task number ${i}`, state: STATES[i % STATES.length], priority: PRIORITIES[i % PRIORITIES.length], stars: i % 4, heat: i % 3, agent: i % 5 === 0 ? 'claudia' : null, deps, created: at, updated: at };
}

/** A shard whose task folder holds `count` task files, written directly. */
function shardWith(dir, env, label, count) {
  const root = join(dir, label);
  sh('git', ['init', '-q', root], { env });
  sh(process.execPath, [CLI, '^init'], { cwd: root, env });
  const tasks = join(root, '.agence/organic/tasks');
  for (let i = 0; i < count; i++) writeFileSync(join(tasks, `T-${i.toString(36)}.json`), `${JSON.stringify(task(i, label), null, 2)}\n`);
  return root;
}

export function run({ rounds }) {
  const { dir, env } = sandbox();
  const node = process.execPath;
  const shard = shardWith(dir, env, 'big', COUNT);
  const small = shardWith(dir, env, 'small', 10);
  // The first command after the folder changed walks it; wait out the mtime tick so its stamp holds.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1100);
  const first = Date.now();
  sh(node, [CLI, '^task', 'ready'], { cwd: shard, env });
  sh(node, [CLI, '^task', 'ready'], { cwd: small, env });
  console.error(`tasks: first ^task ready over ${COUNT} files (walk and cache) took ${Date.now() - first} ms`);
  const at = { cwd: shard, env };
  const cases = [
    { name: 'node -e 0', cmd: node, args: ['-e', '0'], options: at },
    { name: 'task ready @10k', cmd: node, args: [CLI, '^task', 'ready'], options: at, target: 1.6 },
    { name: 'task list --state doing @10k', cmd: node, args: [CLI, '^task', 'list', '--state', 'doing'], options: at },
    // For reference: the same command in a shard of 10 tasks, so the cost of scale shows apart from start-up.
    { name: 'task ready @10', cmd: node, args: [CLI, '^task', 'ready'], options: { cwd: small, env } },
  ];
  const results = interleaved(cases, { rounds });
  const median = results[0].median_ms;
  return results.map((r, i) => ({ ...r, baseline: 'node -e 0', ratio: i === 0 ? null : r.median_ms / median, target: cases[i].target ?? null }));
}
