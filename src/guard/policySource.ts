import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Policy } from '../core/layering.js';
import { formatJson, writeFileAtomic } from '../store/atomic.js';
import type { ShardPaths } from '../shard/layout.js';

/**
 * The effective policy the guard runs on, with a cache. Parsing the YAML of a full policy costs
 * far more than classifying a command (about 150 ms against well under 1 ms), and the hook runs
 * before every Bash call of an agent, so the merged policy is kept as JSON keyed by the sha256 of
 * every source file's bytes: any edit, in the shard or in base/, is a miss. The cache is only a
 * cache: unreadable, it is rebuilt.
 */

const FORMAT = 1;

export interface PolicySource {
  policy: Policy;
  sources: string[];
}

function cacheDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(env.HOME || homedir(), '.cache'), 'agence');
}

function fingerprint(files: readonly string[]): string {
  const hash = createHash('sha256').update(`format ${FORMAT}\n`);
  for (const file of files) {
    hash.update(`${file}\n`);
    hash.update(existsSync(file) ? readFileSync(file) : '\0missing');
    hash.update('\n');
  }
  return hash.digest('hex');
}

function readCache(file: string, key: string): PolicySource | null {
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { key?: string; policy?: Policy; sources?: string[] };
    return cached.key === key && cached.policy && Array.isArray(cached.sources) ? { policy: cached.policy, sources: cached.sources } : null;
  } catch {
    return null;
  }
}

export async function loadPolicy(shard: ShardPaths | null, env: NodeJS.ProcessEnv): Promise<PolicySource> {
  let files: string[];
  let cacheFile: string;
  if (shard) {
    const { settledBase } = await import('../shard/manifest.js');
    if (!settledBase(shard)) await (await import('../shard/master.js')).ensureBase(shard);
    files = [join(shard.base, 'codex', 'AIPOLICY.yaml'), join(shard.agence, 'codex', 'AIPOLICY.yaml')];
    cacheFile = join(shard.nexus, 'cache', 'guard-policy.json');
  } else {
    const { templatesRoot } = await import('../shard/templates.js');
    files = [join(templatesRoot(), 'codex', 'AIPOLICY.yaml')];
    cacheFile = join(cacheDir(env), 'guard-policy.json');
  }
  const key = fingerprint(files);
  const cached = readCache(cacheFile, key);
  if (cached) return cached;
  const fresh = await (await import('./policyFiles.js')).readPolicyFiles(shard);
  writeFileAtomic(cacheFile, formatJson({ key, ...fresh }));
  return fresh;
}
