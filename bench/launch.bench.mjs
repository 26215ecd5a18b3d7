// Agent launchers: what `!<agent>` adds to starting the agent itself (session, context pack,
// ledger), against `node -e 0`; and `^buffers --tail` of a full (8 MB) buffer against a small one.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, interleaved, sandbox, sh } from './lib.mjs';

export const name = 'launch';

export function run({ rounds }) {
  const { dir, env } = sandbox();
  const node = process.execPath;
  const shard = join(dir, 'shard');
  sh('git', ['init', '-q', shard], { env });
  sh(node, [CLI, '^init'], { cwd: shard, env });
  // The agent: a script that ends at once, so what is measured is the launch.
  const agent = join(shard, 'agent.sh');
  writeFileSync(agent, '#!/bin/sh\nexit 0\n');
  chmodSync(agent, 0o755);
  writeFileSync(join(shard, '.agence/codex/agents/bench.md'), '---\nname: bench\nmodel: haiku\nprovider: anthropic\nlaunch: ./agent.sh\n---\nYou are a benchmark agent.\n');
  const session = JSON.parse(sh(node, [CLI, '^save', 'bench session', '--json'], { cwd: shard, env })).session.session_id;
  // A buffer at the default cap (8 MB) of terminal lines, and a small one.
  mkdirSync(join(shard, '.agence/nexus/buffers'), { recursive: true });
  const line = '\u001b[32m✓\u001b[0m test/e2e/something.test.ts > a case that passed in 12ms\r\n';
  writeFileSync(join(shard, `.agence/nexus/buffers/${session}.log`), line.repeat(Math.floor((8 * 1024 * 1024) / Buffer.byteLength(line))));
  const small = '0123abcd';
  writeFileSync(join(shard, `.agence/nexus/buffers/${small}.log`), line.repeat(60));
  const at = { cwd: shard, env };
  const cases = [
    { name: 'node -e 0', cmd: node, args: ['-e', '0'], options: at },
    { name: 'agent alone', cmd: agent, args: [], options: at },
    { name: '!bench --no-tmux', cmd: node, args: [CLI, '!bench', '--no-tmux'], options: at },
    { name: '^buffers --tail 50 @4KB', cmd: node, args: [CLI, '^buffers', small, '--tail', '50'], options: at },
    { name: '^buffers --tail 50 @8MB', cmd: node, args: [CLI, '^buffers', session, '--tail', '50'], options: at, pair: '^buffers --tail 50 @4KB', target: 1.2 },
  ];
  const results = interleaved(cases, { rounds });
  const median = Object.fromEntries(results.map((r) => [r.name, r.median_ms]));
  return results.map((r, i) => {
    const c = cases[i];
    const baseline = c.pair ?? 'node -e 0';
    return { ...r, baseline, ratio: i === 0 ? null : r.median_ms / median[baseline], target: c.target ?? null };
  });
}
