import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Policy } from '../core/layering.js';
import { cachedParse, keepParse, type ParseCache } from '../shard/parsedCache.js';
import type { ShardPaths } from '../shard/layout.js';

/**
 * The effective policy the guard runs on, with a cache. Parsing the YAML of a full policy costs
 * far more than classifying a command (about 150 ms against well under 1 ms), and the hook runs
 * before every Bash call of an agent, so the merged policy is kept beside the exact text of every
 * source file it came from (shard/parsedCache.ts): any edit, in the shard or in base/, is a miss.
 * The texts are compared as they are rather than hashed, which is as exact and keeps node:crypto
 * (a few ms to load) out of the hook.
 */

export interface PolicySource {
  policy: Policy;
  sources: string[];
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

/** Each source file's path and text (null when it does not exist), in layer order. */
const sourceTexts = (files: readonly string[]) => files.flatMap((file) => [file, readOrNull(file)]);

/** A cached value is believed only in the shape agence writes. */
function isPolicySource(value: unknown): value is PolicySource {
  const v = value as Partial<PolicySource> | null;
  return typeof v?.policy === 'object' && v.policy !== null && !Array.isArray(v.policy) && Array.isArray(v.sources) && v.sources.every((s) => typeof s === 'string');
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
  const cache: ParseCache = { file: cacheFile };
  const texts = sourceTexts(files);
  const cached = cachedParse<unknown>(cache, texts);
  if (isPolicySource(cached)) return cached;
  const fresh = await (await import('./policyFiles.js')).readPolicyFiles(shard);
  // Kept only when no source changed while it was read, so the texts are those the policy came from.
  if (isDeepStrictEqual(sourceTexts(files), texts)) keepParse(cache, texts, fresh);
  return fresh;
}
