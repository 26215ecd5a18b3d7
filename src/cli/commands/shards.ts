import { isMissing, pruneRegistry, readRegistry } from '../../shard/registry.js';
import type { Handler } from '../types.js';

export const run: Handler = async (inv) => {
  const removed = inv.opts.prune ? pruneRegistry(inv.env) : [];
  const shards = readRegistry(inv.env).shards.map((entry) => ({ ...entry, missing: isMissing(entry) }));
  const s = inv.style;
  const lines = shards.map((e) => `${s.bold(e.name.padEnd(20))} ${e.org.padEnd(12)} ${e.path}${e.master ? `  master ${e.master}` : ''}${e.missing ? s.red('  (missing)') : ''}`);
  if (shards.length === 0) lines.push('No shards registered. Run `agence ^init` in a git repository.');
  if (removed.length > 0) lines.push(`Pruned ${removed.length} missing: ${removed.map((e) => e.path).join(', ')}`);
  else if (!inv.opts.prune && shards.some((e) => e.missing)) lines.push('Some registered shards are missing; `agence ^shards --prune` removes them.');
  return { data: { shards, pruned: removed }, text: lines.join('\n') };
};
