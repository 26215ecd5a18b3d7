import { AgenceError } from '../../core/errors.js';
import { requireShard } from '../../shard/layout.js';
import { shardStatus } from '../../shard/status.js';
import type { Handler } from '../types.js';

export const run: Handler = async (inv) => {
  const status = shardStatus(requireShard(inv.cwd), inv.base);
  const s = inv.style;
  const baseText = {
    none: status.master ? s.yellow('not pulled yet (run agence ^pull)') : 'none',
    current: s.green('in sync with the lock'),
    stale: s.red('out of date (run agence ^pull --locked)'),
    missing: s.red('missing (run agence ^pull --locked)'),
  }[status.base.state];
  const rows = Object.entries(status.layers).map(([layer, n]) => `  ${layer.padEnd(12)} ${String(n.local).padStart(5)} local  ${String(n.base).padStart(5)} base`);
  const text = [
    `${s.bold('shard')}   ${status.shard.name}  (org ${status.shard.org}, id ${status.shard.id})`,
    `${s.bold('path')}    ${status.root}`,
    `${s.bold('master')}  ${status.master ? `${status.master.url} (${status.master.ref})` : 'none'}`,
    `${s.bold('locked')}  ${status.lock ? status.lock.commit.slice(0, 12) : 'none'}`,
    `${s.bold('base')}    ${baseText}`,
    `${s.bold('layers')}`,
    ...rows,
  ].join('\n');
  // The status is still shown when base/ cannot be brought in line; the exit code tells.
  const failure = inv.base instanceof AgenceError ? inv.base : null;
  return { data: status, text, ...(failure ? { exit: failure.exitCode, problem: failure.line } : {}) };
};
