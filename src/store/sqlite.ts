import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { AgenceError } from '../core/errors.js';

/** better-sqlite3, loaded by the commands that use `nexus/index.db` (sessions, knowledge and code). */

export type Database = BetterSqlite3.Database;

export interface Sqlite {
  Database: typeof BetterSqlite3;
  /** The compiled addon, named directly: better-sqlite3's own search for it costs milliseconds. */
  addon: string;
}

/** Where the compiled addon is: the nearest `node_modules/better-sqlite3` above `from`, as Node looks. */
const ADDON = ['node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'];

function findAddon(from: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, ...ADDON);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

export function loadSqlite(): Sqlite {
  // better-sqlite3's JavaScript is bundled with the commands that use it; its compiled addon is
  // found in node_modules, where `npm ci` built it. A walk of a few stats: require.resolve reads
  // package.json files on the way, about a millisecond of every command that opens an index.
  const addon = findAddon(dirname(import.meta.filename));
  if (addon === null) {
    throw new AgenceError('dependency', `the SQLite module (better-sqlite3) is not built: no ${ADDON.join('/')} above ${dirname(import.meta.filename)}`, {
      fix: 'reinstall agence with `npm ci` (it builds better-sqlite3; it needs python3, make and a C++ compiler)',
    });
  }
  return { Database: BetterSqlite3, addon };
}

/** Open a database file with the settings every index of agence uses. */
export function openSqlite(sqlite: Sqlite, path: string): Database {
  const db = new sqlite.Database(path, { timeout: 10_000, nativeBinding: sqlite.addon });
  db.pragma('synchronous = NORMAL');
  return db;
}

/**
 * Open one of agence's index files (`nexus/index.db`, the org's global index: caches), with WAL set when the file is
 * new. A file that cannot be opened or prepared is removed and made again, and the user told:
 * its tables are rebuilt from the files they cache. `prepare` sets up the caller's tables.
 */
export function openIndexDb(file: string, notify: (message: string) => void, prepare: (db: Database) => void): Database {
  const sqlite = loadSqlite();
  mkdirSync(dirname(file), { recursive: true });
  const fresh = !existsSync(file);
  try {
    const db = openSqlite(sqlite, file);
    if (fresh) db.pragma('journal_mode = WAL');
    prepare(db);
    return db;
  } catch (error) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    notify(`${file} could not be opened (${(error as Error).message}); it is a cache: rebuilt it`);
    const db = openSqlite(sqlite, file);
    db.pragma('journal_mode = WAL');
    prepare(db);
    return db;
  }
}
