import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { type Chunk, chunkTree, type CodeSymbol, lineWindows, looksMinified } from '../core/chunker.js';
import { type LanguageName, languageOf } from '../core/chunkLanguages.js';
import { type ChunkSettings, ChunkSettingsSchema, hasBinaryExtension, selectsPath } from '../core/chunkSettings.js';
import { AgenceError } from '../core/errors.js';
import { firstIssue } from '../core/schemas.js';
import { blobSizes, indexFilePath, listIndex, readBlobs } from '../git/git.js';
import type { ShardPaths } from '../shard/layout.js';
import { readManifest } from '../shard/manifest.js';
import { writeFileAtomic } from '../store/atomic.js';
import type { Database } from '../store/sqlite.js';
import { codeMeta, codeTotals, type CodeTotals, codeWriter, ensureCodeSchema, type FileRow, type FileStatus, type IndexedFile, knownFiles, setCodeMeta } from './chunkIndex.js';

/**
 * The code index service: the files git tracks, chunked by syntax into `nexus/index.db`.
 *
 * Only what git has is read: the blobs of `git ls-files -s` (what is staged or committed), through
 * one `git cat-file --batch`; a symlink's blob is its target's name and is never followed. The
 * index is incremental by blob id: a file whose blob id did not change is not read again.
 *
 * "Nothing changed" is answered without git, SQLite or tree-sitter: `nexus/code-index.json`
 * records the stat of git's index file (git rewrites it through a rename whenever anything is
 * staged), the settings, and the database file it describes; when they all match, the totals it
 * holds are the answer. Any doubt (a stat that moved, a git index written within the last
 * second) falls through to `git ls-files -s`, whose output is hashed and compared with the one
 * indexed before anything is read.
 */

export interface CodeContext {
  shard: ShardPaths;
  notify: (message: string) => void;
  onProgress?: (done: number, total: number) => void;
}

export interface GrammarFailure {
  language: string;
  message: string;
  files: number;
}

export interface IndexStats {
  /** Tracked files the settings select. */
  files: number;
  /** Files read and chunked by this run. */
  parsed: number;
  /** Chunks and symbols in the index now. */
  chunks: number;
  symbols: number;
  /** Indexed files per language now (`text`: line windows). */
  languages: Record<string, number>;
  /** Bytes read and chunked by this run. */
  bytes: number;
  seconds: number;
  /** Syntax errors (error and missing nodes) in the files parsed by this run. */
  errors: number;
  /** Files of this run left without chunks, by reason. */
  skipped: Partial<Record<Exclude<FileStatus, 'parsed' | 'windows'>, number>>;
  /** Files whose chunks left the index (deleted, or no longer selected). */
  removed: number;
  /** Grammars that failed to load: their files are not indexed, and the run exits non-zero. */
  grammarFailures: GrammarFailure[];
}

/** Bumped when the chunk rules change, so every file is chunked again. */
const RULES_VERSION = 1;
const STAMP_FILE = 'code-index.json';
/** A git index written this close to the last check may change again within the same mtime tick. */
const RACY_MS = 1000;
/** Blobs are read in batches of about this many bytes, so memory stays bounded on large trees. */
const BATCH_BYTES = 16 * 1024 * 1024;

const StampSchema = z.object({
  version: z.literal(1),
  settings: z.string(),
  git_index: z.string(),
  db: z.string(),
  at: z.number(),
  totals: z.object({ files: z.number(), chunks: z.number(), symbols: z.number(), languages: z.record(z.string(), z.number()) }),
});
type Stamp = z.infer<typeof StampSchema>;

/** The `chunk` settings of `.agence/agence.json`, with their defaults. */
export function codeSettings(shard: ShardPaths): ChunkSettings {
  const raw = (readManifest(shard) as Record<string, unknown>).chunk ?? {};
  const parsed = ChunkSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AgenceError('usage', `.agence/agence.json: chunk.${firstIssue(parsed.error)}`, {
      file: shard.manifest,
      fix: 'fix the "chunk" settings (see docs/chunk.md): include, exclude, default_excludes, max_file_bytes, max_lines, merge_lines, window_lines',
    });
  }
  return parsed.data;
}

const hashOf = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);

/** What decides the chunks of a file: a change re-chunks every file. */
function chunkingKey(settings: ChunkSettings): string {
  return hashOf({ rules: RULES_VERSION, max_lines: settings.max_lines, merge_lines: settings.merge_lines, window_lines: settings.window_lines, max_file_bytes: settings.max_file_bytes });
}

/** Every setting: the no-change check compares this. */
function settingsKey(settings: ChunkSettings): string {
  return hashOf({ rules: RULES_VERSION, settings });
}

function fileStamp(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return 'missing';
  }
}

function stampPath(shard: ShardPaths): string {
  return join(shard.nexus, STAMP_FILE);
}

function indexDbPath(shard: ShardPaths): string {
  return join(shard.nexus, 'index.db');
}

function readStamp(shard: ShardPaths): Stamp | null {
  try {
    const parsed = StampSchema.safeParse(JSON.parse(readFileSync(stampPath(shard), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null; // no stamp, or a damaged one: the slow check decides
  }
}

/**
 * The totals of the code index when nothing changed since it was last brought up to date, from
 * the stamp file and two stats alone; null when that cannot be told this cheaply. Any write to
 * index.db (by this or another command) makes the stamp stale, and the next check asks git.
 */
export function unchangedTotals(shard: ShardPaths, settings: ChunkSettings): CodeTotals | null {
  const stamp = readStamp(shard);
  if (!stamp || stamp.settings !== settingsKey(settings) || stamp.db !== fileStamp(indexDbPath(shard))) return null;
  return stamp.git_index === fileStamp(indexFilePath(shard.root)) ? stamp.totals : null;
}

/** What an update saw of git's index file, for the stamp written once the database is closed. */
export interface Observed {
  settings: ChunkSettings;
  gitIndex: string;
  gitIndexMtime: number;
  totals: CodeTotals;
}

/** Record that the index matches git's index file: written after index.db is closed (closing can write it). */
export function writeStamp(shard: ShardPaths, observed: Observed): void {
  const at = Date.now();
  // A git index written within the racy window could be rewritten unseen in the same tick: such a
  // stamp never matches, so the next run asks git.
  const gitIndex = at - observed.gitIndexMtime < RACY_MS ? 'racy' : observed.gitIndex;
  const stamp: Stamp = { version: 1, settings: settingsKey(observed.settings), git_index: gitIndex, db: fileStamp(indexDbPath(shard)), at, totals: observed.totals };
  writeFileAtomic(stampPath(shard), `${JSON.stringify(stamp)}\n`);
}

const decoder = new TextDecoder('utf-8');

interface Wanted {
  path: string;
  oid: string;
  mode: string;
}

/** The tracked files the settings select: one entry per path (our side of a conflict). */
function selectEntries(entries: readonly { mode: string; oid: string; stage: number; path: string }[], settings: ChunkSettings): Map<string, Wanted> {
  const wanted = new Map<string, Wanted>();
  for (const e of entries) {
    if (e.mode === '160000' || (e.stage !== 0 && e.stage !== 2)) continue; // submodules; base and theirs of a conflict
    if (!selectsPath(settings, e.path)) continue;
    wanted.set(e.path, { path: e.path, oid: e.oid, mode: e.mode });
  }
  return wanted;
}

const emptyRow = (w: Wanted, status: FileStatus, bytes: number): IndexedFile => ({
  row: { path: w.path, origin: 'local', oid: w.oid, language: null, status, bytes, errors: 0, chunks: 0 },
  chunks: [],
  symbols: [],
});

function withText(chunks: Chunk[], lines: readonly string[]): (Chunk & { text: string })[] {
  return chunks.map((c) => ({ ...c, text: lines.slice(c.start - 1, c.end).join('\n') }));
}

/** One file's chunks: parsed by its grammar, or cut into windows when it has none. */
export async function chunkFile(
  file: { path: string; oid: string; origin: 'local' | 'base' },
  bytes: Buffer,
  settings: ChunkSettings,
  parser: (language: LanguageName) => Promise<import('./grammars.js').CodeParser | null>,
): Promise<IndexedFile> {
  const base = { path: file.path, origin: file.origin, oid: file.oid, bytes: bytes.length, errors: 0 };
  if (bytes.includes(0)) return { row: { ...base, language: null, status: 'binary', chunks: 0 }, chunks: [], symbols: [] };
  const source = decoder.decode(bytes).replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const newline = source.indexOf('\n');
  const language = languageOf(file.path, source.slice(0, newline === -1 ? 200 : Math.min(newline, 200)));
  if (looksMinified(source)) return { row: { ...base, language, status: 'minified', chunks: 0 }, chunks: [], symbols: [] };
  const lines = source.split('\n');
  if (!language) {
    const chunks = withText(lineWindows(source, settings), lines);
    return { row: { ...base, language: null, status: 'windows', chunks: chunks.length }, chunks, symbols: [] };
  }
  const codeParser = await parser(language);
  if (!codeParser) return { row: { ...base, language, status: 'grammar-failed', chunks: 0 }, chunks: [], symbols: [] };
  const chunked = codeParser.parse(source, (root) => chunkTree(language, root, source, settings));
  const chunks = withText(chunked.chunks, lines);
  return { row: { ...base, language, status: 'parsed', errors: chunked.errors, chunks: chunks.length }, chunks, symbols: chunked.symbols as CodeSymbol[] };
}

/** Parsers by language; a grammar that fails to load is reported once and its files skipped. */
export function parserCache(failures: Map<string, GrammarFailure>, notify: (message: string) => void) {
  return async (language: LanguageName) => {
    const { parserFor } = await import('./grammars.js');
    try {
      return await parserFor(language);
    } catch (error) {
      if (!(error instanceof AgenceError)) throw error;
      const known = failures.get(language);
      if (known) known.files++;
      else {
        failures.set(language, { language, message: error.message, files: 1 });
        notify(`${error.message}; its files are not indexed, the rest are`);
      }
      return null;
    }
  };
}

function emptyStats(): IndexStats {
  return { files: 0, parsed: 0, chunks: 0, symbols: 0, languages: {}, bytes: 0, seconds: 0, errors: 0, skipped: {}, removed: 0, grammarFailures: [] };
}

function count(stats: IndexStats, file: IndexedFile): void {
  const { status } = file.row;
  if (status === 'parsed' || status === 'windows') {
    stats.parsed++;
    stats.bytes += file.row.bytes;
    stats.errors += file.row.errors;
  } else if (status !== 'grammar-failed') {
    stats.skipped[status] = (stats.skipped[status] ?? 0) + 1;
  }
}

/**
 * Bring the code tables in line with what git tracks. `full` re-reads every file. The database
 * is the caller's (open; the code schema is ensured here). `observed` is what the caller records
 * with `writeStamp` once it has closed the database (null when the run cannot vouch for it).
 */
export async function updateCodeIndex(ctx: CodeContext, db: Database, options: { full?: boolean } = {}): Promise<{ stats: IndexStats; observed: Observed | null }> {
  const started = performance.now();
  const settings = codeSettings(ctx.shard);
  const stats = emptyStats();
  ensureCodeSchema(db);
  const key = chunkingKey(settings);
  if (options.full || codeMeta(db, 'chunking') !== key) {
    db.transaction(() => {
      db.exec("DELETE FROM c_files WHERE origin = 'local'; DELETE FROM c_chunks WHERE origin = 'local'; DELETE FROM c_symbols WHERE origin = 'local'; DELETE FROM c_meta WHERE key = 'listing'");
      db.exec('DELETE FROM c_fts WHERE rowid NOT IN (SELECT rowid FROM c_chunks)');
      setCodeMeta(db, 'chunking', key);
    })();
  }
  const gitIndexFile = indexFilePath(ctx.shard.root);
  const gitIndexBefore = fileStamp(gitIndexFile);
  const { entries, raw } = await listIndex(ctx.shard.root);
  // The listing and the selection settings: when both are as indexed, no file can have changed.
  const listing = createHash('sha1').update(raw).update(JSON.stringify([settings.include, settings.exclude, settings.default_excludes])).digest('hex');
  const known = knownFiles(db, 'local');
  const wanted = selectEntries(entries, settings);
  stats.files = wanted.size;
  const retry = [...known.values()].some((f) => f.status === 'grammar-failed');
  if (codeMeta(db, 'listing') !== listing || retry) await refresh(ctx, db, settings, wanted, known, stats);
  if (stats.grammarFailures.length === 0) setCodeMeta(db, 'listing', listing);
  const totals = codeTotals(db);
  const result = { ...stats, ...totals, files: stats.files, seconds: Math.round((performance.now() - started) / 10) / 100 };
  // Only a listing taken while git's index stood still describes that index file.
  if (stats.grammarFailures.length > 0 || fileStamp(gitIndexFile) !== gitIndexBefore) return { stats: result, observed: null };
  let gitIndexMtime: number;
  try {
    gitIndexMtime = statSync(gitIndexFile).mtimeMs;
  } catch {
    gitIndexMtime = Date.now();
  }
  return { stats: result, observed: { settings, gitIndex: gitIndexBefore, gitIndexMtime, totals } };
}

async function refresh(ctx: CodeContext, db: Database, settings: ChunkSettings, wanted: Map<string, Wanted>, known: Map<string, FileRow>, stats: IndexStats): Promise<void> {
  const writer = codeWriter(db);
  const gone = [...known.keys()].filter((path) => !wanted.has(path));
  db.transaction(() => {
    for (const path of gone) writer.remove(path);
  })();
  stats.removed = gone.length;

  const direct: IndexedFile[] = [];
  const toRead: Wanted[] = [];
  for (const w of wanted.values()) {
    const was = known.get(w.path);
    if (was && was.oid === w.oid && was.status !== 'grammar-failed') continue;
    if (w.mode === '120000') direct.push(emptyRow(w, 'symlink', 0)); // never followed: it may point anywhere
    else if (hasBinaryExtension(w.path)) direct.push(emptyRow(w, 'binary', 0));
    else toRead.push(w);
  }
  const sizes = await blobSizes(ctx.shard.root, toRead.map((w) => w.oid));
  const batches: Wanted[][] = [];
  let batch: Wanted[] = [];
  let batchBytes = 0;
  toRead.forEach((w, i) => {
    const size = sizes[i] ?? -1;
    if (size < 0) {
      throw new AgenceError('corrupt', `git object ${w.oid} of ${w.path} is missing`, { fix: 'run `git fsck` in this repository' });
    }
    if (size > settings.max_file_bytes) {
      direct.push(emptyRow(w, 'too-large', size));
      return;
    }
    if (batch.length > 0 && batchBytes + size > BATCH_BYTES) {
      batches.push(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push(w);
    batchBytes += size;
  });
  if (batch.length > 0) batches.push(batch);

  db.transaction(() => {
    for (const file of direct) {
      writer.put(file);
      count(stats, file);
    }
  })();
  const failures = new Map<string, GrammarFailure>();
  const parser = parserCache(failures, ctx.notify);
  const total = toRead.length;
  let done = 0;
  for (const group of batches) {
    const blobs = await readBlobs(ctx.shard.root, group.map((w) => w.oid));
    const files: IndexedFile[] = [];
    for (let i = 0; i < group.length; i++) {
      const w = group[i] as Wanted;
      files.push(await chunkFile({ path: w.path, oid: w.oid, origin: 'local' }, blobs[i] as Buffer, settings, parser));
      ctx.onProgress?.(++done, total);
    }
    db.transaction(() => {
      for (const file of files) {
        writer.put(file);
        count(stats, file);
      }
    })();
  }
  stats.grammarFailures = [...failures.values()];
}
