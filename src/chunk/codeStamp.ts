import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as z from '../core/zod.js';
import { indexFilePath } from '../git/indexFile.js';
import type { ShardPaths } from '../shard/layout.js';
import { BASE_MARKER } from '../shard/manifest.js';
import { writeFileAtomic } from '../store/atomic.js';
import type { CodeTotals } from './chunkIndex.js';
import type { ChunkSettings } from '../core/chunkSettings.js';
import type { IndexStats } from './codeIndex.js';
import { settingsKey } from './codeSettings.js';

/**
 * "Nothing changed" for the code index, answered without git, SQLite or tree-sitter:
 * `nexus/code-index.json` records the stat of git's index file (git replaces it through a rename
 * whenever anything is staged or committed), of the base marker (a new master commit), of
 * `index.db` (any write to it, by any command), and the settings. When all of them match, the
 * totals it holds are the answer. Any doubt falls through to the full check, which asks git.
 * This module stays small: every code command loads it first.
 */

const STAMP_FILE = 'code-index.json';
/** A git index written this close to the stamp may change again within the same mtime tick. */
const RACY_MS = 1000;

const StampSchema = z.deferred(() => z.object({
  version: z.literal(1),
  settings: z.string(),
  git_index: z.string(),
  db: z.string(),
  base: z.string(),
  at: z.number(),
  totals: z.object({ files: z.number(), chunks: z.number(), symbols: z.number(), languages: z.record(z.string(), z.number()) }),
}));
type Stamp = z.infer<typeof StampSchema>;

function fileStamp(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return 'missing';
  }
}

const stampPath = (shard: ShardPaths) => join(shard.nexus, STAMP_FILE);
const dbPath = (shard: ShardPaths) => join(shard.nexus, 'index.db');
const baseMarkerPath = (shard: ShardPaths) => join(shard.base, BASE_MARKER);

function readStamp(shard: ShardPaths): Stamp | null {
  try {
    const parsed = StampSchema.safeParse(JSON.parse(readFileSync(stampPath(shard), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null; // no stamp, or a damaged one: the full check decides
  }
}

/** The totals of the code index when nothing changed since it was brought up to date, else null. */
export function unchangedTotals(shard: ShardPaths, settings: ChunkSettings): CodeTotals | null {
  const stamp = readStamp(shard);
  if (!stamp || stamp.settings !== settingsKey(settings) || stamp.db !== fileStamp(dbPath(shard)) || stamp.base !== fileStamp(baseMarkerPath(shard))) return null;
  return stamp.git_index === fileStamp(indexFilePath(shard.root)) ? stamp.totals : null;
}

/** The stats of a run that found nothing to do. */
export function unchangedStats(totals: CodeTotals, started: number): IndexStats {
  return {
    ...totals,
    parsed: 0,
    bytes: 0,
    errors: 0,
    skipped: {},
    removed: 0,
    base: { files: 0, parsed: 0, removed: 0 },
    grammarFailures: [],
    parse_seconds: 0,
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
}

/** What an update saw, recorded with `writeStamp` once the database is closed (closing can write it). */
export interface Observed {
  settings: ChunkSettings;
  base: string;
  gitIndex: string;
  gitIndexMtime: number;
  totals: CodeTotals;
}

/** The stats of git's index file and of the base marker, taken before an update reads them. */
export function observe(shard: ShardPaths): { gitIndex: string; base: string } {
  return { gitIndex: fileStamp(indexFilePath(shard.root)), base: fileStamp(baseMarkerPath(shard)) };
}

/** Whether git's index file still is as `observe` saw it, and when it was written. */
export function gitIndexSince(shard: ShardPaths, seen: string): { same: boolean; mtime: number } {
  const file = indexFilePath(shard.root);
  let mtime = 0;
  try {
    mtime = statSync(file).mtimeMs;
  } catch {
    // No index file yet (an empty repository): nothing is tracked, and the file git creates when
    // something is staged changes the stamp. Not racy, so a recall does not ask git every time.
  }
  return { same: fileStamp(file) === seen, mtime };
}

export function writeStamp(shard: ShardPaths, observed: Observed): void {
  const at = Date.now();
  // A git index written within the racy window could be rewritten unseen in the same tick: such a
  // stamp never matches, so the next run asks git.
  const gitIndex = at - observed.gitIndexMtime < RACY_MS ? 'racy' : observed.gitIndex;
  const stamp: Stamp = { version: 1, settings: settingsKey(observed.settings), git_index: gitIndex, db: fileStamp(dbPath(shard)), base: observed.base, at, totals: observed.totals };
  writeFileAtomic(stampPath(shard), `${JSON.stringify(stamp)}\n`);
}
