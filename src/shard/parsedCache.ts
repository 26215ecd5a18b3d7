import { isDeepStrictEqual } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic.js';
import type { ShardPaths } from './layout.js';

declare const __AGENCE_VERSION__: string | undefined;

/**
 * What parsing and validating some texts gave (a persona, the model table, the merged guard
 * policy), kept in a JSON file beside the exact texts it came from and the agence version that
 * parsed them: the YAML parser and the schema cost more than the rest of a chat call's or a hook
 * run's set-up. A record is used only when every text is the same as when it was made, so an
 * edit, a checkout or another worktree's files are parsed (and refused when wrong) again. It is
 * only a cache: unreadable, unwritable or of another version, the texts are parsed as if it were
 * not there. Only what parsing made of versioned files goes here, never a user's settings
 * (providers.yaml holds keys).
 */

const VERSION = typeof __AGENCE_VERSION__ === 'string' ? __AGENCE_VERSION__ : 'source';

/** Where a parse is kept: its file, and a folder that must exist already for it to be written (none: made as needed). */
export interface ParseCache {
  file: string;
  within?: string;
}

/** A parse kept in the shard's `nexus/cache/parsed-NAME.json`; reading never creates NEXUS. `name` is a file name part (checked by the caller). */
export const shardCache = (paths: ShardPaths, name: string): ParseCache => ({ file: join(paths.nexus, 'cache', `parsed-${name}.json`), within: paths.nexus });

/** Per process too: a chat reads its persona three times (routing, the pack, the clearance). */
const known = new Map<string, { texts: readonly (string | null)[]; value: unknown }>();

/** What was parsed from exactly `texts`, or undefined. */
export function cachedParse<T>(cache: ParseCache, texts: readonly (string | null)[]): T | undefined {
  const mine = known.get(cache.file);
  if (mine && isDeepStrictEqual(mine.texts, texts)) return mine.value as T;
  try {
    const cached = JSON.parse(readFileSync(cache.file, 'utf8')) as { version?: unknown; texts?: unknown; value?: T };
    if (cached.version !== VERSION || !isDeepStrictEqual(cached.texts, texts) || cached.value === undefined) return undefined;
    known.set(cache.file, { texts, value: cached.value });
    return cached.value;
  } catch {
    return undefined;
  }
}

/** Keep what `texts` parsed into, for the next process. */
export function keepParse<T>(cache: ParseCache, texts: readonly (string | null)[], value: T): T {
  known.set(cache.file, { texts, value });
  // Only what JSON gives back unchanged.
  const record = JSON.stringify({ version: VERSION, texts, value });
  if ((cache.within !== undefined && !existsSync(cache.within)) || !isDeepStrictEqual(JSON.parse(record).value, value)) return value;
  try {
    writeFileAtomic(cache.file, `${record}\n`, 0o644, false);
  } catch {
    // a read-only folder: parsed again next time
  }
  return value;
}

/** The cached value for `texts`, else `parse()`, kept. A parse that throws keeps nothing. */
export function parsedOnce<T>(cache: ParseCache, texts: readonly (string | null)[], parse: () => T): T {
  const cached = cachedParse<T>(cache, texts);
  return cached !== undefined ? cached : keepParse(cache, texts, parse());
}
