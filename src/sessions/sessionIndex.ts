import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { type Session, type SessionStatus, todoProgress } from '../core/session.js';
import { writeFileAtomic } from '../store/atomic.js';
import { type Database, loadSqlite, openSqlite, type Sqlite } from '../store/sqlite.js';
import { archiveMonths, readArchive } from './sessionArchive.js';
import { type SessionPaths, scanTier, type StoredAt, type Tier, TIERS, tierFile } from './sessionStore.js';

/**
 * `nexus/index.db`: a cache over the session tier files (DESIGN §2). It maps a session id to the
 * file and byte offset of its latest revision, so a lookup reads one line whatever the size of
 * the store, and it serves the list queries. It knows how far into each tier file it has read:
 * new lines are taken in on the next open, and a file that shrank or was replaced (compaction)
 * makes it rebuild from the files. Deleting it loses nothing.
 */

export interface SessionRow {
  id: string;
  rev: number;
  status: SessionStatus;
  tier: StoredAt['tier'];
  offset: number;
  length: number;
  agent: string;
  created_at: string;
  updated_at: string;
  task: string;
  priority: string;
  todo_done: number;
  todo_total: number;
}

export interface ListFilter {
  status?: SessionStatus | undefined;
  /** Include archived sessions (listed only when asked for). */
  archived?: boolean | undefined;
  agent?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  tag?: string | undefined;
  limit: number;
}

export interface OpenedIndex {
  db: Database;
  /** What opening had to do: nothing, take in new lines, or rebuild. */
  refreshed: 'none' | 'caught-up' | 'rebuilt';
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, rev INTEGER NOT NULL, status TEXT NOT NULL, tier TEXT NOT NULL,
  offset INTEGER NOT NULL, length INTEGER NOT NULL, agent TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, task TEXT NOT NULL, priority TEXT NOT NULL,
  todo_done INTEGER NOT NULL, todo_total INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_agent_updated ON sessions (agent, updated_at);
CREATE INDEX IF NOT EXISTS sessions_status_updated ON sessions (status, updated_at);
CREATE INDEX IF NOT EXISTS sessions_updated ON sessions (updated_at);
CREATE TABLE IF NOT EXISTS session_tags (tag TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (tag, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tier_files (tier TEXT PRIMARY KEY, ino INTEGER NOT NULL, size INTEGER NOT NULL);
-- Counts per status kept by triggers, so INDEX.md costs the same at 10 and at 100,000 sessions.
CREATE TABLE IF NOT EXISTS status_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS sessions_counted_insert AFTER INSERT ON sessions BEGIN
  INSERT INTO status_counts (status, n) VALUES (NEW.status, 1) ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS sessions_counted_update AFTER UPDATE OF status ON sessions WHEN OLD.status != NEW.status BEGIN
  UPDATE status_counts SET n = n - 1 WHERE status = OLD.status;
  INSERT INTO status_counts (status, n) VALUES (NEW.status, 1) ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;
`;

function fileState(path: string): { ino: number; size: number } {
  try {
    const st = statSync(path);
    return { ino: st.ino, size: st.size };
  } catch {
    return { ino: 0, size: 0 };
  }
}

function upsert(db: Database) {
  const row = db.prepare(`
    INSERT INTO sessions (id, rev, status, tier, offset, length, agent, created_at, updated_at, task, priority, todo_done, todo_total)
    VALUES (@id, @rev, @status, @tier, @offset, @length, @agent, @created_at, @updated_at, @task, @priority, @todo_done, @todo_total)
    ON CONFLICT (id) DO UPDATE SET rev = excluded.rev, status = excluded.status, tier = excluded.tier, offset = excluded.offset,
      length = excluded.length, agent = excluded.agent, created_at = excluded.created_at, updated_at = excluded.updated_at,
      task = excluded.task, priority = excluded.priority, todo_done = excluded.todo_done, todo_total = excluded.todo_total
    WHERE excluded.rev > sessions.rev`);
  const clearTags = db.prepare('DELETE FROM session_tags WHERE id = ?');
  const addTag = db.prepare('INSERT OR IGNORE INTO session_tags (tag, id) VALUES (?, ?)');
  return (session: Session, at: StoredAt) => {
    const progress = todoProgress(session.runstate.todo_list);
    const result = row.run({
      id: session.session_id,
      rev: session.rev,
      status: session.status,
      tier: at.tier,
      offset: at.offset,
      length: at.length,
      agent: session.agent,
      created_at: session.created_at,
      updated_at: session.updated_at,
      task: session.metadata.task_description,
      priority: session.metadata.priority,
      todo_done: progress.done,
      todo_total: progress.total,
    });
    if (result.changes === 0) return;
    clearTags.run(session.session_id);
    for (const tag of session.metadata.tags) addTag.run(tag, session.session_id);
  };
}

/** Read the tier files from where the index stopped (or from the start) into the index. */
function takeIn(db: Database, paths: SessionPaths, from: Record<Tier, number>): number {
  const put = upsert(db);
  const setFile = db.prepare('INSERT INTO tier_files (tier, ino, size) VALUES (?, ?, ?) ON CONFLICT (tier) DO UPDATE SET ino = excluded.ino, size = excluded.size');
  let taken = 0;
  for (const tier of TIERS) {
    const scan = scanTier(paths, tier, from[tier]);
    for (const line of scan.lines) put(line.value, { tier, offset: line.offset, length: line.length });
    taken += scan.lines.length;
    // A torn last line is not read past: once it is quarantined the file is cut back to here.
    const end = scan.partialTail ? scan.partialTail.offset : scan.size;
    setFile.run(tier, fileState(tierFile(paths, tier)).ino, end);
  }
  return taken;
}

function rebuild(db: Database, paths: SessionPaths, notify: (message: string) => void): void {
  db.transaction(() => {
    db.exec('DELETE FROM sessions; DELETE FROM session_tags; DELETE FROM tier_files; DELETE FROM status_counts;');
    takeIn(db, paths, { active: 0, saved: 0, completed: 0 });
    const put = upsert(db);
    for (const month of archiveMonths(paths)) {
      try {
        for (const line of readArchive(paths, month)) put(line.value, { tier: `archive/${month}`, offset: line.offset, length: line.length });
      } catch (error) {
        if (!(error instanceof AgenceError)) throw error;
        notify(`${error.line}; its sessions are left out of the index`);
      }
    }
  })();
}

type KnownFiles = Map<Tier, { ino: number; size: number }>;

function knownFiles(db: Database): KnownFiles {
  return new Map((db.prepare('SELECT tier, ino, size FROM tier_files').all() as { tier: Tier; ino: number; size: number }[]).map((r) => [r.tier, r]));
}

/** Why the index cannot simply take in new lines, or null when it can. */
function staleness(known: KnownFiles, paths: SessionPaths): string | null {
  for (const tier of TIERS) {
    const now = fileState(tierFile(paths, tier));
    const was = known.get(tier);
    if (!was) {
      if (now.size > 0) return `it has not read session-${tier}.jsonl`;
      continue;
    }
    if (now.size < was.size) return `session-${tier}.jsonl shrank`;
    if (was.size > 0 && now.ino !== was.ino) return `session-${tier}.jsonl was rewritten`;
  }
  return null;
}

/** Whether any tier file has lines the index has not read. */
function grown(known: KnownFiles, paths: SessionPaths): boolean {
  return TIERS.some((tier) => fileState(tierFile(paths, tier)).size > (known.get(tier)?.size ?? 0));
}

/** Bumped when SCHEMA changes; an index of another version is rebuilt. */
const SCHEMA_VERSION = 2;

function openDb(sqlite: Sqlite, path: string): Database {
  const db = openSqlite(sqlite, path);
  if (db.pragma('user_version', { simple: true }) !== SCHEMA_VERSION) {
    db.pragma('journal_mode = WAL'); // persistent: set once, when the file is made
    db.exec('DROP TABLE IF EXISTS sessions; DROP TABLE IF EXISTS session_tags; DROP TABLE IF EXISTS tier_files; DROP TABLE IF EXISTS status_counts;');
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }
  return db;
}

export interface OpenOptions {
  rebuild?: boolean;
  /** Told when the index had to be built or rebuilt, and why (it is a cache: it says so). */
  notify?: (message: string) => void;
}

/** Open the index and bring it up to date with the tier files. */
export function openIndex(paths: SessionPaths, options: OpenOptions = {}): OpenedIndex {
  const sqlite = loadSqlite();
  const notify = options.notify ?? (() => undefined);
  const existed = existsSync(paths.db);
  mkdirSync(dirname(paths.db), { recursive: true }); // a fresh clone has no nexus/ yet
  let db: Database;
  try {
    db = openDb(sqlite, paths.db);
  } catch (error) {
    // A damaged cache is thrown away and rebuilt, and the user is told.
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${paths.db}${suffix}`, { force: true });
    db = openDb(sqlite, paths.db);
    rebuild(db, paths, notify);
    notify(`nexus/index.db could not be opened (${(error as Error).message}); rebuilt it from the session files`);
    return { db, refreshed: 'rebuilt' };
  }
  if (options.rebuild) {
    rebuild(db, paths, notify);
    return { db, refreshed: 'rebuilt' };
  }
  // The common case, nothing new, is answered by reads alone: no write transaction.
  const known = knownFiles(db);
  const before = staleness(known, paths);
  const outcome =
    before ??
    (!grown(known, paths)
      ? 0
      : db.transaction(() => {
          const current = knownFiles(db); // another process may have caught up meanwhile
          const why = staleness(current, paths);
          if (why) return why;
          return takeIn(db, paths, { active: current.get('active')?.size ?? 0, saved: current.get('saved')?.size ?? 0, completed: current.get('completed')?.size ?? 0 });
        }).immediate());
  if (typeof outcome === 'string') {
    rebuild(db, paths, notify);
    notify(existed ? `the session index was stale (${outcome}); rebuilt it` : 'there was no session index yet; built it');
    writeIndexMd(db, paths);
    return { db, refreshed: 'rebuilt' };
  }
  if (outcome > 0) writeIndexMd(db, paths);
  return { db, refreshed: outcome > 0 ? 'caught-up' : 'none' };
}

/** Record one revision just appended, so the index and INDEX.md are current without a rescan. */
export function recordRevision(db: Database, paths: SessionPaths, session: Session, at: StoredAt): void {
  upsert(db)(session, at);
  writeIndexMd(db, paths);
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').slice(0, 80);

/**
 * `nexus/sessions/INDEX.md`, for people: counts and the most recent sessions, rewritten whenever
 * the index takes in a change.
 */
export function writeIndexMd(db: Database, paths: SessionPaths): void {
  const byStatus = counts(db);
  const recent = list(db, { limit: 50 });
  const lines = [
    '# Sessions',
    '',
    'Written by agence from the session files whenever they change; edits here are overwritten.',
    '',
    `| status | sessions |`,
    `|---|---|`,
    ...Object.entries(byStatus).map(([status, n]) => `| ${status} | ${n} |`),
    '',
    `## Most recent`,
    '',
    '| id | status | agent | updated | todo | task |',
    '|---|---|---|---|---|---|',
    ...recent.map((r) => `| ${r.id} | ${r.status} | ${cell(r.agent)} | ${r.updated_at.slice(0, 16).replace('T', ' ')} | ${r.todo_total ? `${r.todo_done}/${r.todo_total}` : ''} | ${cell(r.task)} |`),
    '',
  ];
  writeFileAtomic(paths.indexMd, lines.join('\n'));
}

export function lookup(db: Database, id: string): SessionRow | null {
  return (db.prepare('SELECT * FROM sessions WHERE id = ?').get(id) as SessionRow | undefined) ?? null;
}

export function list(db: Database, filter: ListFilter): SessionRow[] {
  const where: string[] = [];
  const params: unknown[] = [];
  const clauses: [unknown, string][] = [
    [filter.status, 'status = ?'],
    [filter.agent, 'agent = ?'],
    [filter.since, 'updated_at >= ?'],
    [filter.until, 'updated_at < ?'],
    [filter.tag, 'id IN (SELECT id FROM session_tags WHERE tag = ?)'],
  ];
  for (const [value, clause] of clauses) {
    if (value === undefined) continue;
    where.push(clause);
    params.push(value);
  }
  if (!filter.status && !filter.archived) where.push("status != 'ARCHIVED'");
  const sql = `SELECT * FROM sessions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at DESC, id DESC LIMIT ?`;
  return db.prepare(sql).all(...params, filter.limit) as SessionRow[];
}

export function counts(db: Database): Record<string, number> {
  const rows = db.prepare('SELECT status, n FROM status_counts WHERE n > 0 ORDER BY status').all() as { status: string; n: number }[];
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}
