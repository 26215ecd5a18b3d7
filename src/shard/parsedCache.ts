import { isDeepStrictEqual } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic.js';
import type { ShardPaths } from './layout.js';

declare const __AGENCE_VERSION__: string | undefined;

/**
 * What parsing and validating some codex texts gave (a persona, the model table), kept in
 * `nexus/cache/parsed-NAME.json` beside the exact texts it came from and the agence version that
 * parsed them: the YAML parser and the schema cost more than the rest of a chat call's set-up.
 * A record is used only when every text is the same as when it was made, so an edit, a checkout
 * or another worktree's files are parsed (and refused when wrong) again. It is only a cache:
 * unreadable, unwritable or of another version, the texts are parsed as if it were not there.
 * Only what parsing made of versioned files goes here, never a user's settings (providers.yaml
 * holds keys).
 */

const VERSION = typeof __AGENCE_VERSION__ === 'string' ? __AGENCE_VERSION__ : 'source';
/** Per process too: a chat reads its persona three times (routing, the pack, the clearance). */
const known = new Map<string, { texts: readonly (string | null)[]; value: unknown }>();

const cacheFile = (paths: ShardPaths, name: string) => join(paths.nexus, 'cache', `parsed-${name}.json`);
const key = (paths: ShardPaths, name: string) => `${paths.nexus}\0${name}`;

/** What `name` was parsed into from exactly `texts`, or undefined. `name` is a file name part (checked by the caller). */
export function cachedParse<T>(paths: ShardPaths, name: string, texts: readonly (string | null)[]): T | undefined {
  const mine = known.get(key(paths, name));
  if (mine && isDeepStrictEqual(mine.texts, texts)) return mine.value as T;
  try {
    const cached = JSON.parse(readFileSync(cacheFile(paths, name), 'utf8')) as { version?: unknown; texts?: unknown; value?: T };
    if (cached.version !== VERSION || !isDeepStrictEqual(cached.texts, texts) || cached.value === undefined) return undefined;
    known.set(key(paths, name), { texts, value: cached.value });
    return cached.value;
  } catch {
    return undefined;
  }
}

/** Keep what `texts` parsed into, for the next process. */
export function keepParse<T>(paths: ShardPaths, name: string, texts: readonly (string | null)[], value: T): T {
  known.set(key(paths, name), { texts, value });
  // Only what JSON gives back unchanged, and only into a NEXUS that exists (reading never creates the shard's folders).
  const record = JSON.stringify({ version: VERSION, texts, value });
  if (!existsSync(paths.nexus) || !isDeepStrictEqual(JSON.parse(record).value, value)) return value;
  try {
    writeFileAtomic(cacheFile(paths, name), record, 0o644, false);
  } catch {
    // a read-only NEXUS: parsed again next time
  }
  return value;
}

/** The cached value for `texts`, else `parse()`, kept. A parse that throws keeps nothing. */
export function parsedOnce<T>(paths: ShardPaths, name: string, texts: readonly (string | null)[], parse: () => T): T {
  const cached = cachedParse<T>(paths, name, texts);
  return cached !== undefined ? cached : keepParse(paths, name, texts, parse());
}
