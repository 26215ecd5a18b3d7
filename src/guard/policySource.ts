import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Policy } from '../core/layering.js';
import { writeFileAtomic } from '../store/atomic.js';
import type { ShardPaths } from '../shard/layout.js';

/**
 * The effective policy the guard runs on, with a cache. Parsing the YAML of a full policy costs
 * far more than classifying a command (about 150 ms against well under 1 ms), and the hook runs
 * before every Bash call of an agent, so the merged policy is kept as JSON beside the exact text
 * of every source file it came from: any edit, in the shard or in base/, is a miss. The texts are
 * compared as they are rather than hashed, which is as exact and keeps node:crypto (a few ms to
 * load) out of the hook. The cache is only a cache: unreadable or of another shape, it is rebuilt.
 */

const FORMAT = 2;

export interface PolicySource {
  policy: Policy;
  sources: string[];
}

interface PolicyCache extends PolicySource {
  format: number;
  /** Each source file's path and text (null when it does not exist), in layer order. */
  files: [string, string | null][];
}

function cacheDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(env.HOME || homedir(), '.cache'), 'agence');
}

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function readCache(file: string, files: readonly [string, string | null][]): PolicySource | null {
  let cached: Partial<PolicyCache>;
  try {
    cached = JSON.parse(readFileSync(file, 'utf8')) as Partial<PolicyCache>;
  } catch {
    return null;
  }
  const same =
    cached.format === FORMAT &&
    Array.isArray(cached.files) &&
    cached.files.length === files.length &&
    files.every(([path, text], i) => cached.files?.[i]?.[0] === path && cached.files[i][1] === text);
  const policy = cached.policy;
  const shaped = typeof policy === 'object' && policy !== null && !Array.isArray(policy) && Array.isArray(cached.sources) && cached.sources.every((s) => typeof s === 'string');
  return same && shaped ? { policy, sources: cached.sources as string[] } : null;
}

/** Bring base/ in line with agence.lock before reading the effective view (a no-op when it is). */
export async function settleBase(shard: ShardPaths): Promise<void> {
  const { settledBase } = await import('../shard/manifest.js');
  if (!settledBase(shard)) await (await import('../shard/master.js')).ensureBase(shard);
}

export async function loadPolicy(shard: ShardPaths | null, env: NodeJS.ProcessEnv): Promise<PolicySource> {
  let files: string[];
  let cacheFile: string;
  if (shard) {
    await settleBase(shard);
    files = [join(shard.base, 'codex', 'AIPOLICY.yaml'), join(shard.agence, 'codex', 'AIPOLICY.yaml')];
    cacheFile = join(shard.nexus, 'cache', 'guard-policy.json');
  } else {
    const { templatesRoot } = await import('../shard/templates.js');
    files = [join(templatesRoot(), 'codex', 'AIPOLICY.yaml')];
    cacheFile = join(cacheDir(env), 'guard-policy.json');
  }
  const texts = files.map((file): [string, string | null] => [file, readOrNull(file)]);
  const cached = readCache(cacheFile, texts);
  if (cached) return cached;
  const fresh = await (await import('./policyFiles.js')).readPolicyFiles(shard);
  // Kept only when no source changed while it was read, so the texts are those the policy came from.
  if (texts.every(([file, text]) => readOrNull(file) === text)) {
    const cache: PolicyCache = { format: FORMAT, files: texts, ...fresh };
    writeFileAtomic(cacheFile, `${JSON.stringify(cache)}\n`);
  }
  return fresh;
}
