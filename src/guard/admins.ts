import { parse } from 'yaml';
import { readEffective } from '../shard/effectiveView.js';
import type { ShardPaths } from '../shard/layout.js';

/** The admins' emails (lower case) in the effective codex/trust.yaml (DESIGN §5). */
export function admins(paths: ShardPaths): string[] {
  const trust = parse(readEffective(paths, 'codex', 'trust.yaml').content) as { admins?: unknown } | null;
  const list = Array.isArray(trust?.admins) ? trust.admins : [];
  return list
    .map((a) => (typeof a === 'object' && a !== null ? (a as { email?: unknown }).email : null))
    .filter((e): e is string => typeof e === 'string')
    .map((e) => e.toLowerCase());
}
