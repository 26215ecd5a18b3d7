// Sessions at scale: stores of 10 and of 100,000 sessions side by side, against `node -e 0`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, interleaved, sandbox, sh } from './lib.mjs';

export const name = 'sessions';
const AGENTS = ['claudia', 'chad', 'aiko', 'sonya', 'ralph', 'olena', 'peers', 'pilot', 'x1', 'x2'];
const START = Date.parse('2026-08-01T00:00:00Z') / 1000;

function record(i, now) {
  const id = (START + i).toString(16).padStart(8, '0');
  const updated = new Date(Date.parse('2026-08-01T00:00:00Z') + Math.floor(((now - Date.parse('2026-08-01T00:00:00Z')) * i) / 100_000)).toISOString();
  return {
    session_id: id,
    rev: 1,
    created_at: updated,
    updated_at: updated,
    status: 'SAVED',
    agent: AGENTS[i % AGENTS.length],
    runstate: { agent_context: '', execution_stack: [], memory_state: {}, cursor_position: null, todo_list: [{ id: '1', title: `step one of task ${i}`, status: 'done' }, { id: '2', title: 'step two', status: 'pending' }] },
    metadata: { task_description: `benchmark task number ${i}`, repo: '/tmp/bench', priority: 'normal', tags: [`t${i % 50}`] },
    git: { branch: 'main', head: null, dirty: [], staged: [] },
    cwd: '/tmp/bench',
    notes: [{ at: updated, author: 'bench@example.com', text: `note for session ${i}` }],
    shell_history: [],
    lineage: { parent: null, from_shard: null, from_agent: null, to_agent: null, handoff_note: null },
  };
}

/** A shard whose session store holds `count` sessions, written directly, then indexed by agence. */
function store(dir, env, label, count) {
  const shard = join(dir, label);
  sh('git', ['init', '-q', shard], { env });
  sh(process.execPath, [CLI, '^init'], { cwd: shard, env });
  const now = Date.now();
  const lines = [];
  for (let i = 0; i < count; i++) lines.push(JSON.stringify(record(i, now)));
  writeFileSync(join(shard, '.agence/nexus/sessions/session-saved.jsonl'), `${lines.join('\n')}\n`);
  sh(process.execPath, [CLI, '^reindex'], { cwd: shard, env });
  return { shard, id: record(count - 1, now).session_id };
}

export function run({ rounds }) {
  const { dir, env } = sandbox();
  const node = process.execPath;
  const small = store(dir, env, 'small', 10);
  const large = store(dir, env, 'large', 100_000);
  const since = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const at = (shard) => ({ cwd: shard, env });
  // Resume makes the session ACTIVE; resuming it again is allowed, so every round resumes the same one.
  const cases = [
    { name: 'node -e 0', cmd: node, args: ['-e', '0'], options: at(small.shard) },
    { name: 'show @10', cmd: node, args: [CLI, '^session', 'show', small.id], options: at(small.shard) },
    { name: 'show @100k', cmd: node, args: [CLI, '^session', 'show', large.id], options: at(large.shard), pair: 'show @10', target: 1.2 },
    { name: 'resume @10', cmd: node, args: [CLI, '^resume', small.id], options: at(small.shard) },
    { name: 'resume @100k', cmd: node, args: [CLI, '^resume', large.id], options: at(large.shard), pair: 'resume @10', target: 1.2 },
    { name: 'sessions --agent --since @100k', cmd: node, args: [CLI, '^sessions', '--agent', 'ralph', '--since', since], options: at(large.shard), target: 1.6 },
    { name: 'save @10', cmd: node, args: [CLI, '^save', 'bench note'], options: at(small.shard), target: 1.5 },
  ];
  const results = interleaved(cases, { rounds });
  const median = Object.fromEntries(results.map((r) => [r.name, r.median_ms]));
  return results.map((r, i) => {
    const c = cases[i];
    const baseline = c.pair ?? 'node -e 0';
    return { ...r, baseline, ratio: i === 0 || !c.target ? null : r.median_ms / median[baseline], target: c.target ?? null };
  });
}
