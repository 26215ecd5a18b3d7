import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatJson, writeFileAtomic } from '../store/atomic.js';
import { sshFingerprint } from './keys.js';
import { layerDirs } from './layerFiles.js';
import type { ShardPaths } from './layout.js';

/**
 * The shard keys the effective `codex/trust.yaml` trusts, for commands that check signatures
 * (`^inbox`, `^accept`). Parsing YAML costs more than the rest of such a command, so the list is
 * kept in `nexus/cache/trusted-shards.json` under the sha256 of the two files it came from: a
 * cache that is right whenever its digest matches, and rebuilt (through trust.ts) when not.
 */
export interface TrustedShard {
  id: string;
  name: string;
  keys: string[];
}

/** Whether the trust list has a key with this fingerprint for shard `id`. */
export function isTrusted(trusted: readonly TrustedShard[], id: string, fingerprint: string): boolean {
  return trusted.some((t) => t.id === id && t.keys.some((k) => sshFingerprint(k) === fingerprint));
}

function readOrNull(file: string): Buffer | null {
  try {
    return readFileSync(file);
  } catch {
    return null;
  }
}

/** The sha256 of the base and local trust.yaml, each marked present or missing. */
function trustDigest(paths: ShardPaths): string {
  const dirs = layerDirs(paths, 'codex');
  const hash = createHash('sha256');
  for (const file of [join(dirs.base, 'trust.yaml'), join(dirs.local, 'trust.yaml')]) {
    const bytes = readOrNull(file);
    hash.update(bytes === null ? 'missing\0' : `${bytes.length}\0`);
    if (bytes) hash.update(bytes);
  }
  return hash.digest('hex');
}

export async function cachedTrustedShards(paths: ShardPaths): Promise<TrustedShard[]> {
  const cache = join(paths.nexus, 'cache', 'trusted-shards.json');
  const digest = trustDigest(paths);
  try {
    const cached = JSON.parse(readFileSync(cache, 'utf8')) as { digest?: unknown; shards?: unknown };
    if (cached.digest === digest && Array.isArray(cached.shards)) return cached.shards as TrustedShard[];
  } catch {
    // no cache yet, or a damaged one: rebuilt below
  }
  const { trustedShards } = await import('./trust.js');
  const shards = trustedShards(paths);
  writeFileAtomic(cache, formatJson({ digest, shards }));
  return shards;
}
