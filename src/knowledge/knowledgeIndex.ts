import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as YamlModule from 'yaml';
import { AgenceError } from '../core/errors.js';
import { type Item, type Label, labelRank, linksIn, parseItem, splitFrontMatter, titleFrom, type Yaml } from '../core/knowledgeItem.js';
import type { readEffective } from '../shard/effectiveView.js';
import type { ShardPaths } from '../shard/layout.js';
import { decodeUtf8 } from '../store/files.js';
import { nodeCrypto } from '../store/lazyBuiltins.js';
import { type Database, openIndexDb } from '../store/sqlite.js';
import { fileSig, folderStamp, type KnowledgeLayer, type SourceFile, walkSources, watchedFolders } from './knowledgeSources.js';

/**
 * The knowledge tables of `nexus/index.db` (a cache, like the session tables beside it): one row
 * per item of the effective view, an FTS5 table for BM25 ranking, links and supersessions. It is
 * brought up to date at the start of every command that reads it: a no-change check on folder
 * mtimes first (cheap at any size), then, when a folder changed, a stat walk that re-reads only
 * files whose size or mtime moved and re-indexes only those whose content hash changed.
 */

let yamlCodec: Promise<Yaml> | null = null;

/** The YAML parser, loaded the first time something is parsed or written (a no-change run never is). */
export function loadYaml(): Promise<Yaml> {
  // As sessionArchive does for tar: in the bundle the literal require becomes dist/vendor/yaml.cjs;
  // under the test runner (ESM) there is no require, so one is made.
  yamlCodec ??= Promise.resolve(typeof require === 'function' ? (require('yaml') as typeof YamlModule) : (createRequire(import.meta.filename)('yaml') as typeof YamlModule)).then((yaml) => ({
    parse: (text: string) => yaml.parse(text),
    stringify: (value: unknown) => yaml.stringify(value, { lineWidth: 0 }),
  }));
  return yamlCodec;
}

/** What reading the sources takes: loaded only when a folder changed. */
export interface Readers {
  yaml: Yaml;
  readEffective: typeof readEffective;
}

async function loadReaders(): Promise<Readers> {
  return { yaml: await loadYaml(), readEffective: (await import('../shard/effectiveView.js')).readEffective };
}

/** Larger files are not knowledge items (a 50 MB dump would swamp every ranking): reported, skipped. */
export const MAX_ITEM_BYTES = 1024 * 1024;

const SCHEMA_VERSION = '1';
const SCHEMA = `
CREATE TABLE k_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE k_files (key TEXT PRIMARY KEY, sig TEXT NOT NULL, hash TEXT NOT NULL, shown TEXT NOT NULL, problem TEXT);
CREATE TABLE k_items (
  rowid INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, id TEXT NOT NULL, layer TEXT NOT NULL, origin TEXT NOT NULL,
  path TEXT NOT NULL, body_line INTEGER NOT NULL, type TEXT NOT NULL, title TEXT NOT NULL, formtag TEXT,
  label TEXT NOT NULL, label_rank INTEGER NOT NULL, tags TEXT NOT NULL, author TEXT NOT NULL, session TEXT, commit_sha TEXT,
  files TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL, front TEXT NOT NULL
);
CREATE INDEX k_items_id ON k_items (id);
CREATE INDEX k_items_formtag ON k_items (formtag);
CREATE TABLE k_links (src TEXT NOT NULL, dst TEXT NOT NULL, key TEXT NOT NULL);
CREATE INDEX k_links_src ON k_links (src);
CREATE INDEX k_links_dst ON k_links (dst);
CREATE INDEX k_links_key ON k_links (key);
CREATE TABLE k_supersedes (old TEXT NOT NULL, by TEXT NOT NULL, key TEXT NOT NULL);
CREATE INDEX k_supersedes_old ON k_supersedes (old);
CREATE INDEX k_supersedes_key ON k_supersedes (key);
CREATE VIRTUAL TABLE k_fts USING fts5 (title, body, tags, tokenize = 'porter unicode61 remove_diacritics 2');
`;
const TABLES = ['k_meta', 'k_files', 'k_items', 'k_links', 'k_supersedes', 'k_fts'];

export interface ItemRow {
  rowid: number;
  key: string;
  id: string;
  layer: KnowledgeLayer;
  origin: 'local' | 'base';
  path: string;
  body_line: number;
  type: string;
  title: string;
  formtag: string | null;
  label: Label;
  tags: string;
  author: string;
  session: string | null;
  commit_sha: string | null;
  files: string;
  created: string;
  updated: string;
  /** The whole front matter as JSON. */
  front: string;
}

export interface UpdateReport {
  /** Files read and (re)indexed, and entries removed. */
  indexed: number;
  removed: number;
  /** Files that cannot be items, each with its one-line reason. */
  problems: { path: string; problem: string }[];
  /** Ids used by more than one file of the same origin (after a merge). */
  duplicates: { id: string; paths: string[] }[];
  walked: boolean;
  /** Promoted local items whose master copy arrived in base/ (see knowledgeSources). */
  landed: { file: string; shown: string }[];
}

export interface UpdateOptions {
  /** Rebuild from nothing. */
  full?: boolean;
  /** Walk even when no folder changed (a file edited in place changes no folder). */
  walk?: boolean;
  notify?: (message: string) => void;
  onProgress?: (done: number, total: number) => void;
}

function ensureSchema(db: Database): void {
  const version = (() => {
    try {
      return (db.prepare("SELECT value FROM k_meta WHERE key = 'schema'").get() as { value: string } | undefined)?.value;
    } catch {
      return undefined;
    }
  })();
  if (version === SCHEMA_VERSION) return;
  db.transaction(() => {
    for (const table of TABLES) db.exec(`DROP TABLE IF EXISTS ${table}`);
    db.exec(SCHEMA);
    db.prepare("INSERT INTO k_meta (key, value) VALUES ('schema', ?), ('generation', '0')").run(SCHEMA_VERSION);
  })();
}

/** Open a knowledge index file (a shard's nexus/index.db); a damaged one is rebuilt, and the user told. */
export function openKnowledgeDb(file: string, notify: (message: string) => void): Database {
  return openIndexDb(file, notify, (db) => {
    // Freed pages are zeroed: a forgotten item leaves nothing behind in the file.
    db.pragma('secure_delete = ON');
    ensureSchema(db);
  });
}

const meta = (db: Database, key: string): string | null => (db.prepare('SELECT value FROM k_meta WHERE key = ?').get(key) as { value: string } | undefined)?.value ?? null;
const setMeta = (db: Database, key: string, value: string) => db.prepare('INSERT INTO k_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);

/** A folder changed this close to the check might change again within the same mtime tick. */
const RACY_MS = 1000;

interface Entry {
  item: Item;
  body: string;
  bodyLine: number;
}

function isBinary(bytes: Buffer): boolean {
  const n = Math.min(bytes.length, 8000);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true;
  return false;
}

function readHead(file: string, size: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, buffer, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

const slug = (text: string) => text.toLowerCase().replace(/\.md$/, '').replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 56);

/** What the entry holds, from its text; the codex and plain globalcache documents get front matter made up. */
function entryFrom(source: SourceFile, text: string, yaml: Yaml): Entry {
  if (source.layer === 'codex' || (source.layer === 'globalcache' && !splitFrontMatter(text))) {
    const when = '1970-01-01T00:00:00.000Z';
    return {
      item: {
        id: `${source.layer === 'codex' ? 'codex' : 'gc'}.${slug(source.rel)}`,
        type: 'doc',
        title: source.layer === 'codex' ? `codex/${source.rel}: ${titleFrom(text)}` : titleFrom(text),
        formtag: source.layer === 'codex' ? '040' : null,
        tags: [source.layer],
        label: 'internal',
        author: source.layer,
        session: null,
        commit: null,
        files: [],
        related: [],
        supersedes: [],
        superseded_by: null,
        created: when,
        updated: when,
      },
      body: text,
      bodyLine: 1,
    };
  }
  return parseItem(text, source.shown, yaml);
}

/** Read one source: its content hash, and the entry or the reason it cannot be one. */
function readSource(paths: ShardPaths, source: SourceFile, readers: Readers): { hash: string; entry: Entry | null; problem: string | null } {
  if (source.size > MAX_ITEM_BYTES) {
    const mb = (source.size / 1024 / 1024).toFixed(1);
    return { hash: `size:${source.sig}`, entry: null, problem: `${source.shown} is ${mb} MB, above the 1 MB limit of a knowledge item: not indexed (split it, or keep it out of .agence/ and reference it with --file)` };
  }
  let bytes: Buffer;
  if (source.layer === 'codex') {
    bytes = Buffer.from(readers.readEffective(paths, 'codex', source.rel).content);
  } else {
    bytes = readHead(source.file, source.size);
  }
  const hash = nodeCrypto().createHash('sha256').update(bytes).digest('hex');
  if (isBinary(bytes)) return { hash, entry: null, problem: `${source.shown} is a binary file: not indexed (knowledge items are Markdown; keep binaries elsewhere)` };
  try {
    return { hash, entry: entryFrom(source, decodeUtf8(bytes, source.file, source.shown), readers.yaml), problem: null };
  } catch (error) {
    if (error instanceof AgenceError) return { hash, entry: null, problem: error.line };
    throw error;
  }
}

function statements(db: Database) {
  return {
    file: db.prepare('INSERT INTO k_files (key, sig, hash, shown, problem) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET sig = excluded.sig, hash = excluded.hash, shown = excluded.shown, problem = excluded.problem'),
    sig: db.prepare('UPDATE k_files SET sig = ? WHERE key = ?'),
    dropFile: db.prepare('DELETE FROM k_files WHERE key = ?'),
    rowOf: db.prepare('SELECT rowid FROM k_items WHERE key = ?').pluck(),
    dropItem: db.prepare('DELETE FROM k_items WHERE key = ?'),
    dropFts: db.prepare('DELETE FROM k_fts WHERE rowid = ?'),
    dropLinks: db.prepare('DELETE FROM k_links WHERE key = ?'),
    dropSupersedes: db.prepare('DELETE FROM k_supersedes WHERE key = ?'),
    item: db.prepare(`INSERT INTO k_items (key, id, layer, origin, path, body_line, type, title, formtag, label, label_rank, tags, author, session, commit_sha, files, created, updated, front)
      VALUES (@key, @id, @layer, @origin, @path, @body_line, @type, @title, @formtag, @label, @label_rank, @tags, @author, @session, @commit_sha, @files, @created, @updated, @front)`),
    fts: db.prepare('INSERT INTO k_fts (rowid, title, body, tags) VALUES (?, ?, ?, ?)'),
    link: db.prepare('INSERT INTO k_links (src, dst, key) VALUES (?, ?, ?)'),
    supersede: db.prepare('INSERT INTO k_supersedes (old, by, key) VALUES (?, ?, ?)'),
  };
}

type Statements = ReturnType<typeof statements>;

function dropEntry(st: Statements, key: string): void {
  const rowid = st.rowOf.get(key) as number | undefined;
  if (rowid === undefined) return;
  st.dropFts.run(rowid);
  st.dropItem.run(key);
  st.dropLinks.run(key);
  st.dropSupersedes.run(key);
}

function putEntry(st: Statements, source: SourceFile, entry: Entry): void {
  const { item } = entry;
  const result = st.item.run({
    key: source.key,
    id: item.id,
    layer: source.layer,
    origin: source.origin,
    path: source.shown,
    body_line: entry.bodyLine,
    type: item.type,
    title: item.title,
    formtag: item.formtag,
    label: item.label,
    label_rank: labelRank(item.label),
    tags: JSON.stringify(item.tags),
    author: item.author,
    session: item.session,
    commit_sha: item.commit,
    files: JSON.stringify(item.files),
    created: item.created,
    updated: item.updated,
    front: JSON.stringify(item),
  });
  st.fts.run(result.lastInsertRowid, item.title, entry.body, [...item.tags, item.formtag ?? ''].join(' '));
  for (const dst of new Set([...item.related, ...linksIn(entry.body)])) if (dst !== item.id) st.link.run(item.id, dst, source.key);
  for (const old of item.supersedes) st.supersede.run(old, item.id, source.key);
  if (item.superseded_by) st.supersede.run(item.id, item.superseded_by, source.key);
}

const emptyReport = (): UpdateReport => ({ indexed: 0, removed: 0, problems: [], duplicates: [], walked: false, landed: [] });

/** Nothing was added, removed or renamed since the last walk: the folder mtimes are as stored. */
export function isCurrent(db: Database): boolean {
  const folders = meta(db, 'folders');
  return folders !== null && folderStamp(JSON.parse(folders) as string[]).stamp === meta(db, 'stamp');
}

/**
 * Whether the file of an indexed item is still as it was read (size and mtime): the one change the
 * folder stamps cannot see is an edit in place, and a command about one item checks that item.
 */
export function isItemCurrent(db: Database, row: ItemRow, file: string): boolean {
  if (row.layer === 'codex') return true; // merged from several files; re-read whenever either is renamed
  const indexed = db.prepare('SELECT sig FROM k_files WHERE key = ?').pluck().get(row.key) as string | undefined;
  const st = statSync(file, { throwIfNoEntry: false });
  return st !== undefined && indexed === fileSig(st);
}

/** Bring the index in line with the files. Cheap when nothing changed: folder mtimes only. */
export async function refreshIndex(db: Database, paths: ShardPaths, options: UpdateOptions = {}): Promise<UpdateReport> {
  if (!options.full && !options.walk && isCurrent(db)) return emptyReport();
  return updateIndex(db, paths, await loadReaders(), options);
}

/** The stat walk: re-read files whose size or mtime moved, re-index those whose content hash changed. */
function updateIndex(db: Database, paths: ShardPaths, readers: Readers, options: UpdateOptions): UpdateReport {
  const report = emptyReport();
  report.walked = true;
  const started = Date.now();
  const walk = walkSources(paths);
  report.landed = walk.landed;
  const folders = [...new Set([...watchedFolders(paths), ...walk.folders])];
  const stamp = folderStamp(folders);
  const st = statements(db);
  const total = walk.files.length;
  db.transaction(() => {
    // Read inside the write transaction: another process may have updated the index meanwhile.
    const known = new Map((db.prepare('SELECT key, sig, hash FROM k_files').all() as { key: string; sig: string; hash: string }[]).map((r) => [r.key, r]));
    if (options.full) {
      db.exec('DELETE FROM k_files; DELETE FROM k_items; DELETE FROM k_fts; DELETE FROM k_links; DELETE FROM k_supersedes;');
      known.clear();
    }
    let done = 0;
    for (const source of walk.files) {
      if (++done % 500 === 0) options.onProgress?.(done, total);
      const was = known.get(source.key);
      known.delete(source.key);
      if (was && was.sig === source.sig) continue;
      const read = readSource(paths, source, readers);
      if (was && was.hash === read.hash) {
        st.sig.run(source.sig, source.key);
        continue;
      }
      dropEntry(st, source.key);
      st.file.run(source.key, source.sig, read.hash, source.shown, read.problem);
      if (read.entry) putEntry(st, source, read.entry);
      if (read.problem) report.problems.push({ path: source.shown, problem: read.problem });
      report.indexed++;
    }
    for (const key of known.keys()) {
      dropEntry(st, key);
      st.dropFile.run(key);
      report.removed++;
    }
    if (report.indexed + report.removed > 0) setMeta(db, 'generation', String(Number(meta(db, 'generation') ?? 0) + 1));
    setMeta(db, 'folders', JSON.stringify(folders));
    // A folder changed within the mtime tick of this walk could change again unseen: check again next time.
    setMeta(db, 'stamp', stamp.newest >= started - RACY_MS ? '' : stamp.stamp);
  }).immediate();
  options.onProgress?.(total, total);
  if (report.indexed > 0) report.duplicates = duplicateIds(db);
  for (const p of report.problems) options.notify?.(p.problem);
  for (const d of report.duplicates) {
    options.notify?.(`id ${d.id} is used by ${d.paths.length} files (${d.paths.join(', ')}), as after a merge of two clones: both are kept; give one a new id in its front matter`);
  }
  return report;
}

/**
 * Make what was deleted unreadable in the file too: FTS5 keeps deleted entries in old segments
 * until they merge, so merge them all (`optimize`); freed pages are zeroed (secure_delete), and
 * the WAL, which still holds the old pages, is checkpointed and truncated.
 */
export function purgeDeleted(db: Database): void {
  db.exec("INSERT INTO k_fts (k_fts) VALUES ('optimize')");
  db.pragma('wal_checkpoint(TRUNCATE)');
}

export function duplicateIds(db: Database): { id: string; paths: string[] }[] {
  const rows = db.prepare("SELECT id, json_group_array(path) AS paths FROM k_items GROUP BY id, origin HAVING count(*) > 1").all() as { id: string; paths: string }[];
  return rows.map((r) => ({ id: r.id, paths: (JSON.parse(r.paths) as string[]).sort() }));
}

/** Files that could not be indexed, as of the last update. */
export function indexProblems(db: Database): { path: string; problem: string }[] {
  return db.prepare('SELECT shown AS path, problem FROM k_files WHERE problem IS NOT NULL ORDER BY shown').all() as { path: string; problem: string }[];
}

export interface Visibility {
  clearance: Label;
  /** Include hermetic (private) items. */
  private: boolean;
  /** Include superseded items. */
  all: boolean;
}

/**
 * Which rows an actor may see: nothing above its clearance, hermetic only when asked, a base item
 * hidden when the shard has its own item of the same id (override), superseded ones only with --all.
 */
export function visibleClause(v: Visibility, alias = 'i'): { sql: string; params: unknown[] } {
  const parts = [`${alias}.label_rank <= ?`, `NOT (${alias}.origin = 'base' AND EXISTS (SELECT 1 FROM k_items o WHERE o.id = ${alias}.id AND o.origin = 'local'))`];
  const params: unknown[] = [labelRank(v.clearance)];
  if (!v.private) parts.push(`${alias}.layer != 'hermetic'`);
  if (!v.all) parts.push(`NOT EXISTS (SELECT 1 FROM k_supersedes s WHERE s.old = ${alias}.id)`);
  return { sql: parts.join(' AND '), params };
}

/** Every row of an id the actor may see (several after a merge that duplicated it). */
export function rowsById(db: Database, id: string, v: Visibility): ItemRow[] {
  const vis = visibleClause({ ...v, all: true });
  return db.prepare(`SELECT i.* FROM k_items i WHERE i.id = ? AND ${vis.sql} ORDER BY i.origin DESC, i.path`).all(id, ...vis.params) as ItemRow[];
}

/** Whether an id exists at all, whatever its label (to say "above your clearance" rather than "no such item"). */
export function anyRowById(db: Database, id: string): ItemRow | null {
  return (db.prepare('SELECT * FROM k_items WHERE id = ? LIMIT 1').get(id) as ItemRow | undefined) ?? null;
}

export function supersededBy(db: Database, id: string): string[] {
  return db.prepare('SELECT DISTINCT by FROM k_supersedes WHERE old = ?').pluck().all(id) as string[];
}

/**
 * Which state of the index this is, as `epoch:generation`. The generation counts changes from 0
 * in each index file; the epoch is random per file (made on first ask), so a rebuilt index whose
 * count happens to come back to an old value is still told apart (the org's global index copies
 * a shard again when this changes).
 */
export function indexVersion(db: Database): string {
  let epoch = meta(db, 'epoch');
  if (!epoch) {
    epoch = nodeCrypto().randomBytes(8).toString('hex');
    setMeta(db, 'epoch', epoch);
  }
  return `${epoch}:${Number(meta(db, 'generation') ?? 0)}`;
}

export interface SearchFilter {
  type?: string | undefined;
  /** A formtag prefix (validated: digits and dots only). */
  formtag?: string | undefined;
  tag?: string | undefined;
  /** `base` means items from the master, whatever their layer. */
  layer?: string | undefined;
  limit: number;
}

export interface Hit extends ItemRow {
  snippet: string;
  score: number;
}

/** Marks around the matched words in snippets (control characters: never in Markdown). */
export const MARK_OPEN = '\u0002';
export const MARK_CLOSE = '\u0003';

/**
 * BM25 over the FTS table (title weighs most, then tags, then the body), with the filters and
 * visibility. The FTS table ranks alone first; only the best of a window are then looked up and
 * filtered (with their snippet), and the window grows until `limit` pass or the matches run out.
 * Joining and filtering every match instead costs a row lookup per match: at 100,000 documents
 * a common word matches thousands.
 */
export function search(db: Database, match: string, filter: SearchFilter, v: Visibility): Hit[] {
  const vis = visibleClause(v);
  const where = [vis.sql];
  const params: unknown[] = [...vis.params];
  if (filter.type) (where.push('i.type = ?'), params.push(filter.type));
  if (filter.formtag) (where.push("i.formtag GLOB ? || '*'"), params.push(filter.formtag));
  if (filter.tag) (where.push('EXISTS (SELECT 1 FROM json_each(i.tags) WHERE value = ?)'), params.push(filter.tag));
  if (filter.layer === 'base') where.push("i.origin = 'base'");
  else if (filter.layer) (where.push('i.layer = ?'), params.push(filter.layer));
  const ranked = db.prepare(`SELECT rowid, bm25(k_fts, 8.0, 1.0, 4.0) AS score FROM k_fts WHERE k_fts MATCH ? ORDER BY score LIMIT ? OFFSET ?`);
  // The details of a whole batch in one query: with `rowid = ?`, FTS5 answers snippet() from the
  // wrong document (every row got the first match's snippet), `rowid IN (...)` does not.
  const detail = db.prepare(`SELECT i.*, k_fts.rowid AS fts_rowid, snippet(k_fts, -1, char(2), char(3), '…', 16) AS snippet
    FROM k_fts JOIN k_items i ON i.rowid = k_fts.rowid
    WHERE k_fts MATCH ? AND k_fts.rowid IN (SELECT value FROM json_each(?)) AND ${where.join(' AND ')}`);
  const hits: Hit[] = [];
  let window = Math.max(filter.limit * 4, 40);
  for (let offset = 0; hits.length < filter.limit; offset += window, window *= 4) {
    const batch = ranked.all(match, window, offset) as { rowid: number; score: number }[];
    const rows = detail.all(match, JSON.stringify(batch.map((b) => b.rowid)), ...params) as (Omit<Hit, 'score'> & { fts_rowid: number })[];
    const byRowid = new Map(rows.map(({ fts_rowid, ...row }) => [fts_rowid, row]));
    for (const { rowid, score } of batch) {
      const row = byRowid.get(rowid);
      if (row) hits.push({ ...row, score });
      if (hits.length === filter.limit) break;
    }
    if (batch.length < window) break;
  }
  return hits;
}

/** Every visible item (for formtag counts and context packs). */
export function visibleItems(db: Database, v: Visibility): ItemRow[] {
  const vis = visibleClause(v);
  return db.prepare(`SELECT i.* FROM k_items i WHERE ${vis.sql}`).all(...vis.params) as ItemRow[];
}

export function formtagCounts(db: Database, v: Visibility): Map<string, number> {
  const vis = visibleClause(v);
  const rows = db.prepare(`SELECT i.formtag AS code, count(*) AS n FROM k_items i WHERE i.formtag IS NOT NULL AND ${vis.sql} GROUP BY i.formtag`).all(...vis.params) as { code: string; n: number }[];
  return new Map(rows.map((r) => [r.code, r.n]));
}

/** Ids linked from or to `id` (`[[id]]` in a body, `related:` in front matter). */
export function neighbours(db: Database, id: string): string[] {
  return db.prepare('SELECT dst FROM k_links WHERE src = ? UNION SELECT src FROM k_links WHERE dst = ?').pluck().all(id, id) as string[];
}
