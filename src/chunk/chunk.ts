import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { formatChunkExport, parseChunkExport } from '../core/chunkExport.js';
import type { ChunkKind } from '../core/chunkLanguages.js';
import { AgenceError } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import { type Database, openIndexDb } from '../store/sqlite.js';
import { type ChunkRow, chunkAt, chunksAround, ensureCodeSchema, fileRow, findSymbols, localChunks, type SymbolRow } from './chunkIndex.js';
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
  return (await withCodeIndex(ctx, () => null, options)).stats as IndexStats;
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

/** `path:line` as typed (relative to the current folder) to a path relative to the repository. */
export function parseLocation(ctx: CodeContext, cwd: string, spec: string): { path: string; line: number } {
  const match = /^(.+):(\d+)$/.exec(spec);
  if (!match) throw new AgenceError('usage', `"${spec}" is not PATH:LINE`, { fix: 'give a file and a line, e.g. src/auth.ts:42' });
  const line = Number(match[2]);
  if (line < 1) throw new AgenceError('usage', `line ${line} in "${spec}" is not a line number`, { fix: 'lines count from 1' });
  const path = relative(ctx.shard.root, resolve(cwd, match[1] as string)).split('\\').join('/');
  if (path.startsWith('..')) throw new AgenceError('usage', `${match[1]} is outside this repository`, { fix: 'give a path inside the shard' });
  return { path, line };
}

export interface ShownChunk {
  chunk: ChunkRow;
  stats: IndexStats | null;
}

/** `^chunk show path:line`: the smallest chunk that covers the line. */
export async function showChunk(ctx: CodeContext, location: { path: string; line: number }): Promise<ShownChunk> {
  const { result, stats } = await withCodeIndex(ctx, (db) => {
    const chunk = chunkAt(db, location.path, location.line);
    if (chunk) return chunk;
    const file = fileRow(db, location.path);
    if (!file) {
      throw new AgenceError('not_found', `${location.path} is not in the code index`, {
        fix: 'it must be tracked by git (git add it) and selected by the "chunk" settings of .agence/agence.json',
      });
    }
    if (file.status !== 'parsed' && file.status !== 'windows') {
      throw new AgenceError('not_found', `${location.path} has no chunks: it is ${describeStatus(file.status)}`);
    }
    const near = chunksAround(db, location.path, location.line);
    const hint = [near.before, near.after].filter((c): c is ChunkRow => c !== null).map((c) => `${c.path}:${c.start_line}-${c.end_line}`);
    throw new AgenceError('not_found', `no chunk of ${location.path} covers line ${location.line} (a blank line between chunks, or past the end)`, {
      ...(hint.length > 0 ? { fix: `nearest: ${hint.join(', ')}` } : {}),
    });
  });
  return { chunk: result, stats };
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
