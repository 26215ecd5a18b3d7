import type { ChunkRecord } from '../core/chunkExport.js';
import type { Chunk, CodeSymbol } from '../core/chunker.js';
import type { ChunkKind } from '../core/chunkLanguages.js';
import { expandIdentifiers, identifierIndex } from '../core/identifiers.js';
import type { Database } from '../store/sqlite.js';

/**
 * The code tables of `nexus/index.db`, beside the knowledge and session tables of the same file
 * (a cache: `^chunk index --full` or deleting the file rebuilds it). One row per file with the git
 * blob id it was read from, one per chunk and per symbol, and an FTS5 table over the chunks with
 * the tokenizer of the knowledge index, so recall ranks both with the same BM25. The FTS table
 * is contentless: the chunk text is kept once, in `c_chunks`, and the index holds only the
 * identifier-expanded copy it searches.
 */

const SCHEMA_VERSION = '1';
const SCHEMA = `
CREATE TABLE c_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE c_files (
  path TEXT PRIMARY KEY, origin TEXT NOT NULL, oid TEXT NOT NULL, language TEXT, status TEXT NOT NULL,
  bytes INTEGER NOT NULL, errors INTEGER NOT NULL, chunks INTEGER NOT NULL
);
CREATE INDEX c_files_oid ON c_files (oid);
CREATE TABLE c_chunks (
  rowid INTEGER PRIMARY KEY, path TEXT NOT NULL, origin TEXT NOT NULL, language TEXT, kind TEXT NOT NULL, name TEXT,
  scope TEXT, start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, signature TEXT NOT NULL, doc TEXT NOT NULL,
  part INTEGER, parts INTEGER, text TEXT NOT NULL
);
CREATE INDEX c_chunks_path ON c_chunks (path, start_line);
CREATE TABLE c_symbols (
  path TEXT NOT NULL, origin TEXT NOT NULL, language TEXT, kind TEXT NOT NULL, name TEXT NOT NULL, scope TEXT,
  start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, signature TEXT NOT NULL, doc TEXT NOT NULL
);
CREATE INDEX c_symbols_path ON c_symbols (path);
CREATE INDEX c_symbols_name ON c_symbols (name COLLATE NOCASE);
CREATE VIRTUAL TABLE c_fts USING fts5 (name, signature, doc, body, path, content = '', contentless_delete = 1, tokenize = 'porter unicode61 remove_diacritics 2');
`;
const TABLES = ['c_meta', 'c_files', 'c_chunks', 'c_symbols', 'c_fts'];

/** Why a file has no chunks, or how it got them. */
export type FileStatus = 'parsed' | 'windows' | 'binary' | 'minified' | 'too-large' | 'symlink' | 'grammar-failed';

export interface FileRow {
  path: string;
  origin: 'local' | 'base';
  oid: string;
  language: string | null;
  status: FileStatus;
  bytes: number;
  errors: number;
  chunks: number;
}

export interface ChunkRow {
  rowid: number;
  path: string;
  origin: 'local' | 'base';
  language: string | null;
  kind: ChunkKind;
  name: string | null;
  scope: string | null;
  start_line: number;
  end_line: number;
  signature: string;
  doc: string;
  part: number | null;
  parts: number | null;
  text: string;
}

export interface SymbolRow {
  path: string;
  origin: 'local' | 'base';
  language: string | null;
  kind: ChunkKind;
  name: string;
  scope: string | null;
  start_line: number;
  end_line: number;
  signature: string;
  doc: string;
}

/** Create the code tables, or recreate them when they are of another version. */
export function ensureCodeSchema(db: Database): void {
  let version: string | undefined;
  try {
    version = (db.prepare("SELECT value FROM c_meta WHERE key = 'schema'").get() as { value: string } | undefined)?.value;
  } catch {
    version = undefined;
  }
  if (version === SCHEMA_VERSION) return;
  db.transaction(() => {
    for (const table of TABLES) db.exec(`DROP TABLE IF EXISTS ${table}`);
    db.exec(SCHEMA);
    db.prepare("INSERT INTO c_meta (key, value) VALUES ('schema', ?)").run(SCHEMA_VERSION);
  })();
}

export function codeMeta(db: Database, key: string): string | null {
  return (db.prepare('SELECT value FROM c_meta WHERE key = ?').get(key) as { value: string } | undefined)?.value ?? null;
}

export function setCodeMeta(db: Database, key: string, value: string): void {
  db.prepare('INSERT INTO c_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}

/** Every file the index knows, by path. */
export function knownFiles(db: Database, origin: 'local' | 'base'): Map<string, FileRow> {
  const rows = db.prepare('SELECT * FROM c_files WHERE origin = ?').all(origin) as FileRow[];
  return new Map(rows.map((r) => [r.path, r]));
}

/** The words the FTS table is given for a path: `src/auth/refreshToken.ts` -> src auth refresh token ts. */
function pathWords(path: string): string {
  return expandIdentifiers(path.replace(/[/._-]+/g, ' '));
}

export interface IndexedFile {
  row: FileRow;
  chunks: (Chunk & { text: string })[];
  symbols: CodeSymbol[];
}

/** The statements that change the code tables, prepared once per transaction. */
export function codeWriter(db: Database) {
  const st = {
    chunkIds: db.prepare('SELECT rowid FROM c_chunks WHERE path = ?').pluck(),
    dropFts: db.prepare('DELETE FROM c_fts WHERE rowid = ?'),
    dropChunks: db.prepare('DELETE FROM c_chunks WHERE path = ?'),
    dropSymbols: db.prepare('DELETE FROM c_symbols WHERE path = ?'),
    dropFile: db.prepare('DELETE FROM c_files WHERE path = ?'),
    file: db.prepare(`INSERT INTO c_files (path, origin, oid, language, status, bytes, errors, chunks) VALUES (@path, @origin, @oid, @language, @status, @bytes, @errors, @chunks)
      ON CONFLICT (path) DO UPDATE SET origin = excluded.origin, oid = excluded.oid, language = excluded.language, status = excluded.status, bytes = excluded.bytes, errors = excluded.errors, chunks = excluded.chunks`),
    chunk: db.prepare(`INSERT INTO c_chunks (path, origin, language, kind, name, scope, start_line, end_line, signature, doc, part, parts, text)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    fts: db.prepare('INSERT INTO c_fts (rowid, name, signature, doc, body, path) VALUES (?, ?, ?, ?, ?, ?)'),
    symbol: db.prepare('INSERT INTO c_symbols (path, origin, language, kind, name, scope, start_line, end_line, signature, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
  };
  const drop = (path: string) => {
    for (const rowid of st.chunkIds.all(path) as number[]) st.dropFts.run(rowid);
    st.dropChunks.run(path);
    st.dropSymbols.run(path);
  };
  return {
    /** A file's chunks and symbols leave the index (deleted, or about to be replaced). */
    remove(path: string): void {
      drop(path);
      st.dropFile.run(path);
    },
    put(file: IndexedFile): void {
      const { row } = file;
      drop(row.path);
      st.file.run(row);
      const words = pathWords(row.path);
      for (const c of file.chunks) {
        const { lastInsertRowid } = st.chunk.run(row.path, row.origin, row.language, c.kind, c.name, c.scope, c.start, c.end, c.signature, c.doc, c.part, c.parts, c.text);
        st.fts.run(lastInsertRowid, expandIdentifiers(`${c.name ?? ''} ${c.scope ?? ''}`), expandIdentifiers(c.signature), expandIdentifiers(c.doc), `${c.text}\n${identifierIndex(c.text)}`, words);
      }
      for (const s of file.symbols) st.symbol.run(row.path, row.origin, row.language, s.kind, s.name, s.scope, s.start, s.end, s.signature, s.doc);
    },
  };
}

export interface CodeTotals {
  /** The shard's own files in the index (the tracked files the settings select). */
  files: number;
  /** Chunks and symbols, the master's objectcode included. */
  chunks: number;
  symbols: number;
  /** Files per language (`text` for the line windows of files no grammar reads). */
  languages: Record<string, number>;
}

export function codeTotals(db: Database): CodeTotals {
  const languages = db.prepare("SELECT coalesce(language, 'text') AS language, count(*) AS n FROM c_files WHERE status IN ('parsed', 'windows') GROUP BY 1 ORDER BY 2 DESC, 1").all() as { language: string; n: number }[];
  return {
    files: db.prepare("SELECT count(*) FROM c_files WHERE origin = 'local'").pluck().get() as number,
    chunks: db.prepare('SELECT count(*) FROM c_chunks').pluck().get() as number,
    symbols: db.prepare('SELECT count(*) FROM c_symbols').pluck().get() as number,
    languages: Object.fromEntries(languages.map((l) => [l.language, l.n])),
  };
}

/** The smallest chunk of `path` that covers `line`. */
export function chunkAt(db: Database, path: string, line: number): ChunkRow | null {
  return (db.prepare('SELECT * FROM c_chunks WHERE path = ? AND start_line <= ? AND end_line >= ? ORDER BY end_line - start_line LIMIT 1').get(path, line, line) as ChunkRow | undefined) ?? null;
}

export function fileRow(db: Database, path: string): FileRow | null {
  return (db.prepare('SELECT * FROM c_files WHERE path = ?').get(path) as FileRow | undefined) ?? null;
}

/** Every chunk of `path`, in line order. */
export function fileChunks(db: Database, path: string): ChunkRow[] {
  return db.prepare('SELECT * FROM c_chunks WHERE path = ? ORDER BY start_line').all(path) as ChunkRow[];
}

/** The chunks of `path` nearest to `line` before and after it (when no chunk covers it). */
export function chunksAround(db: Database, path: string, line: number): { before: ChunkRow | null; after: ChunkRow | null } {
  return {
    before: (db.prepare('SELECT * FROM c_chunks WHERE path = ? AND end_line < ? ORDER BY end_line DESC LIMIT 1').get(path, line) as ChunkRow | undefined) ?? null,
    after: (db.prepare('SELECT * FROM c_chunks WHERE path = ? AND start_line > ? ORDER BY start_line LIMIT 1').get(path, line) as ChunkRow | undefined) ?? null,
  };
}

export interface SymbolFilter {
  kind?: ChunkKind | undefined;
  /** A glob (`*`, `?`) over the name, else a case-insensitive part of it. */
  pattern?: string | undefined;
  limit: number;
}

export function findSymbols(db: Database, filter: SymbolFilter): SymbolRow[] {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.kind) (where.push('kind = ?'), params.push(filter.kind));
  if (filter.pattern !== undefined) {
    if (/[*?]/.test(filter.pattern)) (where.push('name GLOB ?'), params.push(filter.pattern));
    else (where.push("instr(lower(name), lower(?)) > 0"), params.push(filter.pattern));
  }
  const sql = `SELECT * FROM c_symbols ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY origin DESC, path, start_line LIMIT ?`;
  return db.prepare(sql).all(...params, filter.limit) as SymbolRow[];
}

export interface CodeSearchFilter {
  /** Only chunks of this origin (`base`: the master's objectcode). */
  origin?: 'local' | 'base' | undefined;
  limit: number;
}

export interface CodeHit extends ChunkRow {
  /** BM25 (lower is better), as SQLite's bm25() gives it. */
  score: number;
}

/** Column weights: the name counts most, then the signature, the doc comment, the path, the code. */
const CODE_BM25 = 'bm25(c_fts, 10.0, 4.0, 3.0, 1.0, 2.0)';

/** BM25 over the chunks for an FTS5 MATCH expression. */
export function searchChunks(db: Database, match: string, filter: CodeSearchFilter): CodeHit[] {
  const where = filter.origin ? 'AND c.origin = ?' : '';
  const params: unknown[] = [match, ...(filter.origin ? [filter.origin] : []), filter.limit];
  return db
    .prepare(`SELECT c.*, ${CODE_BM25} AS score FROM c_fts JOIN c_chunks c ON c.rowid = c_fts.rowid WHERE c_fts MATCH ? ${where} ORDER BY score LIMIT ?`)
    .all(...params) as CodeHit[];
}

/** The shard's own chunks as export records, in file and line order. */
export function localChunks(db: Database): ChunkRecord[] {
  return db
    .prepare("SELECT path, language, kind, name, scope, start_line AS start, end_line AS end, signature, doc, text FROM c_chunks WHERE origin = 'local' ORDER BY path, start_line")
    .all() as ChunkRecord[];
}
