import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseDocument } from 'yaml';
import { AgenceError } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import { readEffective } from './effectiveView.js';
import { sshFingerprint } from './keys.js';
import type { ShardPaths } from './layout.js';

/**
 * The `shards:` part of `codex/trust.yaml`: which shards' signing keys this shard accepts. Read
 * through the effective view, so a master can list every shard of its org. An entry is one shard
 * id with one or more keys (`key:` or `keys:`), since every clone of a shard has a key of its own.
 */
export interface TrustedShard {
  id: string;
  name: string;
  keys: string[];
}

function entryKeys(entry: Record<string, unknown>): string[] {
  const keys = Array.isArray(entry.keys) ? entry.keys.filter((k): k is string => typeof k === 'string') : [];
  return typeof entry.key === 'string' ? [entry.key, ...keys] : keys;
}

export async function trustedShards(paths: ShardPaths): Promise<TrustedShard[]> {
  let content: string;
  try {
    content = readEffective(paths, 'codex', 'trust.yaml').content;
  } catch (error) {
    if (error instanceof AgenceError && error.code === 'not_found') return [];
    throw error;
  }
  const doc = parse(content) as { shards?: unknown } | null;
  const list = Array.isArray(doc?.shards) ? (doc.shards as unknown[]) : [];
  return list
    .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && typeof (e as Record<string, unknown>).id === 'string')
    .map((e) => ({ id: e.id as string, name: typeof e.name === 'string' ? e.name : (e.id as string), keys: entryKeys(e) }));
}

/** Whether the effective trust lists `key` (by fingerprint) for shard `id`. */
export function isTrusted(trusted: readonly TrustedShard[], id: string, fingerprint: string): boolean {
  return trusted.some((t) => t.id === id && t.keys.some((k) => sshFingerprint(k) === fingerprint));
}

const NEW_TRUST = `# Trust: which keys sign handoffs and ledger roots (see the master's codex/trust.yaml).
version: 1
shards: []
`;

/**
 * Add `key` for shard `id` to the shard's own `codex/trust.yaml` (comments kept). An entry the
 * effective view already has for `id` (from the master, say) is carried over with its keys, since
 * a local entry replaces the base one. Returns false when the key was already listed.
 */
export async function addTrustedKey(paths: ShardPaths, shard: { id: string; name: string }, key: string): Promise<boolean> {
  const trusted = await trustedShards(paths);
  const fingerprint = sshFingerprint(key);
  if (isTrusted(trusted, shard.id, fingerprint)) return false;
  const file = join(paths.agence, 'codex', 'trust.yaml');
  const doc = parseDocument(existsSync(file) ? readFileSync(file, 'utf8') : NEW_TRUST);
  if (doc.errors[0]) throw new AgenceError('corrupt', `.agence/codex/trust.yaml is not valid YAML (${doc.errors[0].message.split('\n')[0]})`, { file, fix: 'fix the YAML, or restore it with `git checkout -- .agence/codex/trust.yaml`' });
  const local = doc.toJS() as { shards?: unknown } | null;
  const entries = (Array.isArray(local?.shards) ? local.shards : []) as Record<string, unknown>[];
  const known = trusted.find((t) => t.id === shard.id);
  const others = entries.filter((e) => e?.id !== shard.id);
  const keys = [...new Set([...(known?.keys ?? []), key])];
  doc.set('shards', doc.createNode([...others, { id: shard.id, name: known?.name ?? shard.name, keys }]));
  writeFileAtomic(file, doc.toString({ lineWidth: 0 }));
  return true;
}
