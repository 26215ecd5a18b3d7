import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { labelRank } from '../core/knowledgeItem.js';
import { ftsQuery, words } from '../core/knowledgeText.js';
import { NAME_RE, type RegistryEntry } from '../core/schemas.js';
import { shardPaths } from '../shard/layout.js';
import { isMissing, readRegistry } from '../shard/registry.js';
import { type Database, openIndexDb } from '../store/sqlite.js';
import { hitsFrom, type KnowledgeContext, type RecallHit, type RecallOptions, visibility } from './knowledge.js';
import { type Hit, indexVersion, openKnowledgeDb, refreshIndex } from './knowledgeIndex.js';

/**
 * The mnemonic (DESIGN §1), the second tier of memory: recall across every registered shard of
 * the same org. Each shard keeps its own index (the first tier); the global index,
 * `~/.cache/agence/mnemonic/<org>.db`, holds a copy of what each shard may share (no hermetic
 * items, no local faults, base items a shard overrides left out), refreshed from a shard's
 * index only when that index changed (its `indexVersion` moved). Like a shard's index, it keeps
nothing of what it dropped: freed pages are zeroed, FTS5 deletes are secure, the WAL truncated. One file per org, so orgs never
 * mix; it is a cache: deleted, it is rebuilt on the next query.
 */

export interface OrgRecall {
  org: string;
  query: string;
  shards: string[];
  vanished: { name: string; path: string }[];
  /** Shards whose copy in the global index was refreshed by this query. */
  refreshed: string[];
  matched: 'all' | 'any' | 'none';
  hits: RecallHit[];
}

export function cacheDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CACHE_HOME;
  return xdg && xdg.startsWith('/') ? join(xdg, 'agence') : join(env.HOME || homedir(), '.cache', 'agence');
}

const SCHEMA_VERSION = '3';
const SCHEMA = `
CREATE TABLE g_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Keyed by folder: clones of one repository share a shard id, and each has its own files.
CREATE TABLE g_shards (shard TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL);
CREATE TABLE g_items (
  rowid INTEGER PRIMARY KEY, shard TEXT NOT NULL, src_rowid INTEGER NOT NULL, id TEXT NOT NULL, layer TEXT NOT NULL,
  origin TEXT NOT NULL, path TEXT NOT NULL, body_line INTEGER NOT NULL, type TEXT NOT NULL, title TEXT NOT NULL,
  formtag TEXT, label TEXT NOT NULL, label_rank INTEGER NOT NULL, tags TEXT NOT NULL, files TEXT NOT NULL,
  commit_sha TEXT, superseded INTEGER NOT NULL
);
CREATE INDEX g_items_shard ON g_items (shard);
CREATE INDEX g_items_id ON g_items (id, origin);
CREATE VIRTUAL TABLE g_fts USING fts5 (title, body, tags, tokenize = 'porter unicode61 remove_diacritics 2');
INSERT INTO g_fts (g_fts, rank) VALUES ('secure-delete', 1);
`;

function openGlobal(env: NodeJS.ProcessEnv, org: string, notify: (message: string) => void): Database {
  if (!NAME_RE.test(org)) throw new AgenceError('corrupt', `the org name "${org}" is not safe in a path`, { fix: 'fix shard.org in .agence/agence.json' });
  return openIndexDb(join(cacheDir(env), 'mnemonic', `${org}.db`), notify, (db) => {
    db.pragma('secure_delete = ON');
    let version: string | undefined;
    try {
      version = db.prepare("SELECT value FROM g_meta WHERE key = 'schema'").pluck().get() as string | undefined;
    } catch {
      // a new file: no tables yet
    }
    if (version === SCHEMA_VERSION) return;
    db.transaction(() => {
      for (const t of ['g_meta', 'g_shards', 'g_items', 'g_fts']) db.exec(`DROP TABLE IF EXISTS ${t}`);
      db.exec(SCHEMA);
      db.prepare("INSERT INTO g_meta (key, value) VALUES ('schema', ?), ('org', ?)").run(SCHEMA_VERSION, org);
    })();
  });
}

/** Copy what a shard shares into the global index (replacing its previous copy). */
function refreshShard(global: Database, entry: Member, shardDb: string, version: string): void {
  global.prepare('ATTACH DATABASE ? AS s').run(shardDb);
  try {
    global.transaction(() => {
      global.prepare('DELETE FROM g_fts WHERE rowid IN (SELECT rowid FROM g_items WHERE shard = ?)').run(entry.path);
      global.prepare('DELETE FROM g_items WHERE shard = ?').run(entry.path);
      global
        .prepare(
          `INSERT INTO g_items (shard, src_rowid, id, layer, origin, path, body_line, type, title, formtag, label, label_rank, tags, files, commit_sha, superseded)
           SELECT ?, i.rowid, i.id, i.layer, i.origin, i.path, i.body_line, i.type, i.title, i.formtag, i.label, i.label_rank, i.tags, i.files, i.commit_sha,
             EXISTS (SELECT 1 FROM s.k_supersedes x WHERE x.old = i.id)
           FROM s.k_items i
           WHERE i.layer NOT IN ('hermetic', 'nexus')
             AND NOT (i.origin = 'base' AND EXISTS (SELECT 1 FROM s.k_items o WHERE o.id = i.id AND o.origin = 'local'))`,
        )
        .run(entry.path);
      global.prepare('INSERT INTO g_fts (rowid, title, body, tags) SELECT g.rowid, f.title, f.body, f.tags FROM g_items g JOIN s.k_fts f ON f.rowid = g.src_rowid WHERE g.shard = ?').run(entry.path);
      global
        .prepare('INSERT INTO g_shards (shard, name, version) VALUES (?, ?, ?) ON CONFLICT (shard) DO UPDATE SET name = excluded.name, version = excluded.version')
        .run(entry.path, entry.name, version);
    })();
  } finally {
    global.exec('DETACH DATABASE s');
  }
}

/**
 * `^forget` reaches the org's global index too: the item's copy is dropped from this user's cache
 * at once (securely), not at the next `--shards org` query.
 */
export function forgetInOrgIndex(env: NodeJS.ProcessEnv, org: string, shardRoot: string, id: string): void {
  if (!NAME_RE.test(org) || !existsSync(join(cacheDir(env), 'mnemonic', `${org}.db`))) return;
  const global = openGlobal(env, org, () => undefined);
  try {
    global.transaction(() => {
      global.prepare('DELETE FROM g_fts WHERE rowid IN (SELECT rowid FROM g_items WHERE shard = ? AND id = ?)').run(shardRoot, id);
      global.prepare('DELETE FROM g_items WHERE shard = ? AND id = ?').run(shardRoot, id);
    })();
    global.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    global.close();
  }
}

type GlobalHit = Hit & { shard: string };

/** A shard taking part: a registry entry, or the shard the command runs in (a fresh clone may not be registered). */
type Member = Pick<RegistryEntry, 'name' | 'path'>;

export async function recallOrg(ctx: KnowledgeContext, query: string, options: RecallOptions): Promise<OrgRecall> {
  const all = ftsQuery(query, 'all');
  const any = ftsQuery(query, 'any');
  if (!all || !any) throw new AgenceError('usage', `the query "${query}" has no words to search for`, { fix: 'give some words, e.g. agence ^recall "dns timeout" --shards org' });
  const v = await visibility(ctx, { all: options.all ?? false });
  const registered: Member[] = readRegistry(ctx.env).shards.filter((s) => s.org === ctx.org);
  const entries = registered.some((e) => e.path === ctx.shard.root) ? registered : [{ name: ctx.shardName, path: ctx.shard.root }, ...registered];
  const result: OrgRecall = { org: ctx.org, query, shards: [], vanished: [], refreshed: [], matched: 'none', hits: [] };
  const global = openGlobal(ctx.env, ctx.org, ctx.notify);
  try {
    const known = new Map((global.prepare('SELECT shard, version FROM g_shards').all() as { shard: string; version: string }[]).map((r) => [r.shard, r.version]));
    const present: Member[] = [];
    for (const entry of entries) {
      if (isMissing(entry)) {
        // Reported and skipped; its copy stays in the cache (nothing is deleted) but is not searched.
        result.vanished.push({ name: entry.name, path: entry.path });
        ctx.notify(`shard ${entry.name} is registered at ${entry.path}, which is gone: skipped (\`agence ^shards --prune\` forgets it)`);
        continue;
      }
      const paths = shardPaths({ root: entry.path, mainRoot: entry.path });
      const file = join(paths.nexus, 'index.db');
      const db = openKnowledgeDb(file, ctx.notify);
      let version: string;
      try {
        await refreshIndex(db, paths, { notify: (m) => ctx.notify(`${entry.name}: ${m}`) });
        version = indexVersion(db);
      } finally {
        db.close();
      }
      if (known.get(entry.path) !== version) {
        refreshShard(global, entry, file, version);
        result.refreshed.push(entry.name);
      }
      present.push(entry);
      result.shards.push(entry.name);
    }
    // What a refresh dropped is gone from the file; the WAL still holds the old pages until now.
    if (result.refreshed.length > 0) global.pragma('wal_checkpoint(TRUNCATE)');
    if (present.length === 0) return result;
    const names = new Map(present.map((e) => [e.path, e]));
    const inPresent = `(${present.map(() => '?').join(', ')})`;
    // Every shard of a master carries the master's items in its base layer: each is shown once.
    const where = ['g.label_rank <= ?', `g.shard IN ${inPresent}`, `NOT (g.origin = 'base' AND EXISTS (SELECT 1 FROM g_items o WHERE o.origin = 'base' AND o.id = g.id AND o.rowid < g.rowid AND o.shard IN ${inPresent}))`];
    const params: unknown[] = [labelRank(v.clearance), ...present.map((e) => e.path), ...present.map((e) => e.path)];
    if (!v.all) where.push('g.superseded = 0');
    if (options.type) (where.push('g.type = ?'), params.push(options.type));
    if (options.formtag) (where.push("g.formtag GLOB ? || '*'"), params.push(options.formtag));
    if (options.tag) (where.push('EXISTS (SELECT 1 FROM json_each(g.tags) WHERE value = ?)'), params.push(options.tag));
    if (options.layer === 'base') where.push("g.origin = 'base'");
    else if (options.layer) (where.push('g.layer = ?'), params.push(options.layer));
    const statement = global.prepare(
      `SELECT g.*, snippet(g_fts, -1, char(2), char(3), '…', 16) AS snippet, bm25(g_fts, 8.0, 1.0, 4.0) AS score
       FROM g_fts JOIN g_items g ON g.rowid = g_fts.rowid WHERE g_fts MATCH ? AND ${where.join(' AND ')} ORDER BY score LIMIT ?`,
    );
    let found = statement.all(all, ...params, options.limit ?? 10) as GlobalHit[];
    result.matched = found.length > 0 ? 'all' : 'none';
    if (found.length === 0) {
      found = statement.all(any, ...params, options.limit ?? 10) as GlobalHit[];
      if (found.length > 0) result.matched = 'any';
    }
    const terms = words(query);
    result.hits = found.flatMap((hit) => {
      const entry = names.get(hit.shard) as Member;
      return hitsFrom([hit], entry.name, () => entry.path, terms);
    });
    return result;
  } finally {
    global.close();
  }
}
