import { createHash } from 'node:crypto';
import { type Chunk, chunkTree, lineWindows, looksMinified } from '../core/chunker.js';
import { type LanguageName, languageOf } from '../core/chunkLanguages.js';
import { type ChunkSettings, hasBinaryExtension, selectsPath } from '../core/chunkSettings.js';
import { AgenceError } from '../core/errors.js';
import { blobSizes, listIndex, readBlobs } from '../git/git.js';
import type { ShardPaths } from '../shard/layout.js';
import type { Database } from '../store/sqlite.js';
import { chunkingKey, codeSettings } from './codeSettings.js';
import { gitIndexSince, type Observed, observe } from './codeStamp.js';
import { refreshObjectcode } from './objectcode.js';
import { codeMeta, codeTotals, codeWriter, ensureCodeSchema, type FileRow, type FileStatus, type IndexedFile, knownFiles, setCodeMeta } from './chunkIndex.js';

/**
 * The code index service: the files git tracks, chunked by syntax into `nexus/index.db`.
 *
 * Only what git has is read: the blobs of `git ls-files -s` (what is staged or committed), through
 * one `git cat-file --batch`; a symlink's blob is its target's name and is never followed. The
 * index is incremental by blob id: a file whose blob id did not change is not read again.
 *
 * "Nothing changed" is first answered from a stamp (`codeStamp.ts`); when that cannot tell, the
 * output of `git ls-files -s` is hashed and compared with the one indexed before anything is read.
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
  /** Of `seconds`, the time spent parsing and chunking (the rest is git, SQLite and start-up). */
  parse_seconds: number;
  /** Syntax errors (error and missing nodes) in the files parsed by this run. */
  errors: number;
  /** Files of this run left without chunks, by reason. */
  skipped: Partial<Record<Exclude<FileStatus, 'parsed' | 'windows'>, number>>;
  /** Files whose chunks left the index (deleted, or no longer selected). */
  removed: number;
  /** The master's objectcode layer (base/objectcode/): files in it, read by this run, gone. */
  base: { files: number; parsed: number; removed: number };
  /** Grammars that failed to load: their files are not indexed, and the run exits non-zero. */
  grammarFailures: GrammarFailure[];
}

/** Blobs are read in batches of about this many bytes, so memory stays bounded on large trees. */
const BATCH_BYTES = 16 * 1024 * 1024;

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
async function chunkFile(
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
  return { row: { ...base, language, status: 'parsed', errors: chunked.errors, chunks: chunks.length }, chunks, symbols: chunked.symbols };
}

/** Parsers by language; a grammar that fails to load is reported once and its files skipped. */
function parserCache(failures: Map<string, GrammarFailure>, notify: (message: string) => void) {
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
  return { files: 0, parsed: 0, chunks: 0, symbols: 0, languages: {}, bytes: 0, seconds: 0, parse_seconds: 0, errors: 0, skipped: {}, removed: 0, base: { files: 0, parsed: 0, removed: 0 }, grammarFailures: [] };
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
  const seen = observe(ctx.shard);
  const failures = new Map<string, GrammarFailure>();
  const parser = parserCache(failures, ctx.notify);
  const { entries, raw } = await listIndex(ctx.shard.root);
  // The listing and the selection settings: when both are as indexed, no file can have changed.
  const listing = createHash('sha1').update(raw).update(JSON.stringify([settings.include, settings.exclude, settings.default_excludes])).digest('hex');
  const known = knownFiles(db, 'local');
  const wanted = selectEntries(entries, settings);
  stats.files = wanted.size;
  const retry = [...known.values()].some((f) => f.status === 'grammar-failed');
  if (codeMeta(db, 'listing') !== listing || retry) await refresh(ctx, db, settings, wanted, known, stats, parser);
  const base = await refreshObjectcode(ctx.shard, db, key, (file, bytes) => chunkFile(file, bytes, settings, parser), ctx.notify);
  stats.base = { files: base.files, parsed: base.parsed, removed: base.removed };
  stats.grammarFailures = [...failures.values()];
  if (stats.grammarFailures.length === 0) setCodeMeta(db, 'listing', listing);
  else setCodeMeta(db, 'base', 'retry'); // the base files of a failed grammar are read again next time
  const totals = codeTotals(db);
  const result = { ...stats, ...totals, files: stats.files, seconds: Math.round((performance.now() - started) / 10) / 100 };
  // Only a listing taken while git's index stood still describes that index file.
  const after = gitIndexSince(ctx.shard, seen.gitIndex);
  if (stats.grammarFailures.length > 0 || !after.same) return { stats: result, observed: null };
  return { stats: result, observed: { settings, base: seen.base, gitIndex: seen.gitIndex, gitIndexMtime: after.mtime, totals } };
}

async function refresh(
  ctx: CodeContext,
  db: Database,
  settings: ChunkSettings,
  wanted: Map<string, Wanted>,
  known: Map<string, FileRow>,
  stats: IndexStats,
  parser: ReturnType<typeof parserCache>,
): Promise<void> {
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
  const total = toRead.length;
  let done = 0;
  let parseMs = 0;
  for (const group of batches) {
    const blobs = await readBlobs(ctx.shard.root, group.map((w) => w.oid));
    const files: IndexedFile[] = [];
    for (let i = 0; i < group.length; i++) {
      const w = group[i] as Wanted;
      const parseStart = performance.now();
      files.push(await chunkFile({ path: w.path, oid: w.oid, origin: 'local' }, blobs[i] as Buffer, settings, parser));
      parseMs += performance.now() - parseStart;
      ctx.onProgress?.(++done, total);
    }
    db.transaction(() => {
      for (const file of files) {
        writer.put(file);
        count(stats, file);
      }
    })();
  }
  stats.parse_seconds = Math.round(parseMs / 10) / 100;
}
