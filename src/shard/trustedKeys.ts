import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from '../core/zod.js';
import { formatJson, writeFileAtomic } from '../store/atomic.js';
import { readOrNull } from '../store/files.js';
import { sshFingerprint } from './keys.js';
import { layerDirs } from './layerFiles.js';
import type { ShardPaths } from './layout.js';

/**
 * The shard keys the effective `codex/trust.yaml` trusts, for commands that check signatures
 * (`^inbox`, `^accept`). Parsing YAML costs more than the rest of such a command, so the list is
 * kept in `nexus/cache/trusted-shards.json` under the sha256 of the two files it came from: a
 * cache that is right whenever its digest matches, and rebuilt (through trust.ts) when not.
 */
const TrustedShardsCacheSchema = z.deferred(() => z.object({
  digest: z.string(),
  shards: z.array(z.object({ id: z.string(), name: z.string(), keys: z.array(z.string()) })),
}));
export type TrustedShard = z.infer<typeof TrustedShardsCacheSchema>['shards'][number];

/** Whether the trust list has a key with this fingerprint for shard `id`. */
export function isTrusted(trusted: readonly TrustedShard[], id: string, fingerprint: string): boolean {
  return trusted.some((t) => t.id === id && t.keys.some((k) => sshFingerprint(k) === fingerprint));
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
    const cached = TrustedShardsCacheSchema.safeParse(JSON.parse(readFileSync(cache, 'utf8')));
    if (cached.success && cached.data.digest === digest) return cached.data.shards;
  } catch {
    // no cache yet, or not JSON: rebuilt below
  }
  const { trustedShards } = await import('./trust.js');
  const shards = trustedShards(paths);
  writeFileAtomic(cache, formatJson({ digest, shards }));
  return shards;
}
