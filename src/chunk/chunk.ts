import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { formatChunkExport, parseChunkExport } from '../core/chunkExport.js';
import type { ChunkKind } from '../core/chunkLanguages.js';
import { AgenceError } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import { type Database, openIndexDb } from '../store/sqlite.js';
import { type ChunkRow, chunkAt, chunksAround, codeTotals, ensureCodeSchema, fileChunks, fileRow, findSymbols, localChunks, type SymbolRow } from './chunkIndex.js';
import { type CodeContext, type IndexStats, updateCodeIndex } from './codeIndex.js';
import { codeSettings } from './codeSettings.js';
import { unchangedStats, unchangedTotals, writeStamp } from './codeStamp.js';
import { EXPORT_SUFFIX } from './objectcode.js';

/**
 * The code knowledge commands: `^chunk index`, `^chunk show`, `^symbols`. Every reader brings the
 * index up to date first (nothing to do, in two stats, when nothing was staged or committed).
 */

export type { CodeContext, IndexStats };

/** `^chunk index`: bring the code index up to date (`full`: re-read every file). */
export async function indexCode(ctx: CodeContext, options: { full?: boolean } = {}): Promise<IndexStats> {
  const started = performance.now();
  const totals = options.full ? null : unchangedTotals(ctx.shard, codeSettings(ctx.shard));
  if (totals) return unchangedStats(totals, started);
  // Null stats: another process brought the index up to date in the meantime.
  const { result, stats } = await withCodeIndex(ctx, codeTotals, options);
  return stats ?? unchangedStats(result, started);
}

/**
 * Run a query over the code index, brought up to date first; the run's stats come along (null
 * when nothing had changed). The stamp that lets the next run skip all this is written once the
 * database is closed.
 */
export async function withCodeIndex<T>(ctx: CodeContext, fn: (db: Database) => T, options: { full?: boolean } = {}): Promise<{ result: T; stats: IndexStats | null }> {
  const fresh = !options.full && unchangedTotals(ctx.shard, codeSettings(ctx.shard)) !== null;
  const db = openIndexDb(join(ctx.shard.nexus, 'index.db'), ctx.notify, ensureCodeSchema);
  let update: Awaited<ReturnType<typeof updateCodeIndex>> | null = null;
  let result: T;
  try {
    if (!fresh) update = await updateCodeIndex(ctx, db, options);
    result = fn(db);
  } finally {
    db.close();
  }
  if (update?.observed) writeStamp(ctx.shard, update.observed);
  return { result, stats: update?.stats ?? null };
}

/**
 * `PATH:LINE` or `PATH` as typed (relative to the current folder) to a path relative to the
 * repository, and the line (null for a whole file).
 */
export function parseLocation(root: string, cwd: string, spec: string): { path: string; line: number | null } {
  const match = /^(.+):(\d+)$/.exec(spec);
  const line = match ? Number(match[2]) : null;
  if (line !== null && line < 1) throw new AgenceError('usage', `line ${line} in "${spec}" is not a line number`, { fix: 'lines count from 1' });
  const typed = match ? (match[1] as string) : spec;
  const path = relative(root, resolve(cwd, typed)).split('\\').join('/');
  if (path.startsWith('..')) throw new AgenceError('usage', `${typed} is outside this repository`, { fix: 'give a path inside the shard' });
  return { path, line };
}

export interface ShownChunks {
  /** The chunk around the line, or every chunk of the file (its outline) when no line was given. */
  chunks: ChunkRow[];
  stats: IndexStats | null;
}

/** The file's row, or why it has no chunks to show. */
function indexedFile(db: Database, path: string): void {
  const file = fileRow(db, path);
  if (!file) {
    throw new AgenceError('not_found', `${path} is not in the code index`, {
      fix: 'it must be tracked by git (git add it) and selected by the "chunk" settings of .agence/agence.json',
    });
  }
  if (file.status !== 'parsed' && file.status !== 'windows') throw new AgenceError('not_found', `${path} has no chunks: it is ${describeStatus(file.status)}`);
}

/** `^chunk show PATH:LINE`: the smallest chunk that covers the line; `^chunk show PATH`: all of the file's. */
export async function showChunks(ctx: CodeContext, location: { path: string; line: number | null }): Promise<ShownChunks> {
  const { result, stats } = await withCodeIndex(ctx, (db) => {
    const { path, line } = location;
    if (line === null) {
      indexedFile(db, path);
      return fileChunks(db, path);
    }
    const chunk = chunkAt(db, path, line);
    if (chunk) return [chunk];
    indexedFile(db, path);
    const near = chunksAround(db, path, line);
    const hint = [near.before, near.after].filter((c): c is ChunkRow => c !== null).map((c) => `${c.path}:${c.start_line}-${c.end_line}`);
    throw new AgenceError('not_found', `no chunk of ${path} covers line ${line} (a blank line between chunks, or past the end)`, {
      ...(hint.length > 0 ? { fix: `nearest: ${hint.join(', ')}` } : {}),
    });
  });
  return { chunks: result, stats };
}

function describeStatus(status: string): string {
  switch (status) {
    case 'binary':
      return 'a binary file (it has NUL bytes or a binary file type)';
    case 'minified':
      return 'minified (very long lines): chunks of it would be unreadable';
    case 'too-large':
      return 'larger than chunk.max_file_bytes';
    case 'symlink':
      return 'a symbolic link (never followed)';
    case 'grammar-failed':
      return 'in a language whose grammar failed to load';
    default:
      return status;
  }
}

/** `^symbols [--kind K] [PATTERN]`. */
export async function listSymbols(ctx: CodeContext, filter: { kind?: ChunkKind | undefined; pattern?: string | undefined; limit: number }): Promise<{ symbols: SymbolRow[]; stats: IndexStats | null }> {
  const { result, stats } = await withCodeIndex(ctx, (db) => findSymbols(db, filter));
  return { symbols: result, stats };
}

/**
 * `^chunk export FILE`: the shard's own chunks as a chunk export (`*.chunks.jsonl`), for a master's
 * objectcode/ layer. Written atomically and read back before it is reported.
 */
export async function exportChunks(ctx: CodeContext, file: string): Promise<{ file: string; chunks: number; files: number; stats: IndexStats | null }> {
  if (!file.endsWith(EXPORT_SUFFIX)) throw new AgenceError('usage', `${file} does not end in ${EXPORT_SUFFIX}`, { fix: `name it like code${EXPORT_SUFFIX}: a master's objectcode/ reads such files as exports` });
  const { result, stats } = await withCodeIndex(ctx, (db) => localChunks(db));
  const text = formatChunkExport(result);
  writeFileAtomic(file, text);
  const back = parseChunkExport(readFileSync(file, 'utf8'));
  if (back.records.length !== result.length || back.problems.length > 0) throw new AgenceError('corrupt', `${file} did not read back as written`, { fix: 'check the disk, then export again' });
  return { file, chunks: result.length, files: new Set(result.map((r) => r.path)).size, stats };
}
