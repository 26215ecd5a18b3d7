// Start-up: `agence --version` and `agence ^status` against `node -e 0`, side by side.
import { join } from 'node:path';
import { CLI, interleaved, sandbox, sh } from './lib.mjs';

export const name = 'startup';

export function run({ rounds }) {
  const { dir, env } = sandbox();
  const node = process.execPath;
  sh(node, [CLI, '^master', 'init', 'master'], { cwd: dir, env });
  const shard = join(dir, 'shard');
  sh('git', ['init', '-q', shard], { env });
  sh(node, [CLI, '^init', '--master', '../master'], { cwd: shard, env });
  sh(node, [CLI, '^pull'], { cwd: shard, env });

  const options = { cwd: shard, env };
  const cases = [
    { name: 'node -e 0', cmd: node, args: ['-e', '0'], options },
    { name: 'agence --version', cmd: node, args: [CLI, '--version'], options, target: 1.3 },
    { name: 'agence ^status', cmd: node, args: [CLI, '^status'], options, target: 1.6 },
  ];
  const results = interleaved(cases, { rounds });
  const baseline = results[0].median_ms;
  return results.map((r, i) => ({ ...r, baseline: 'node -e 0', ratio: i === 0 ? null : r.median_ms / baseline, target: cases[i].target ?? null }));
}
