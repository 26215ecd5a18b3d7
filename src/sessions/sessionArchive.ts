import { closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type * as Tar from 'tar';
import { AgenceError } from '../core/errors.js';
import type { Session } from '../core/session.js';
import { fsyncDir, tempName } from '../store/atomic.js';
import { type ScannedLine, scanBuffer } from '../store/jsonl.js';
import { decodeSession, type SessionPaths } from './sessionStore.js';

/**
 * The cold tier: `nexus/sessions/archive/YYYY-MM.tar.gz`, one per month of creation, each holding
 * one `sessions.jsonl`. An archive is never edited in place: adding to a month writes a new
 * archive beside it, reads it back, and renames it over the old one.
 */

/**
 * tar (with zlib and Node's streams) is loaded only when an archive is read or written. In the
 * bundle the literal require below becomes dist/vendor/tar.cjs; under the test runner, which
 * runs the ESM sources, createRequire finds the package.
 */
function loadTar(): typeof Tar {
  return typeof require === 'function' ? (require('tar') as typeof Tar) : (createRequire(import.meta.filename)('tar') as typeof Tar);
}

const MEMBER = 'sessions.jsonl';
const ARCHIVE_RE = /^(\d{4}-\d{2})\.tar\.gz$/;

export type ArchiveTier = `archive/${string}`;

export function archiveFile(paths: SessionPaths, month: string): string {
  return join(paths.archive, `${month}.tar.gz`);
}

export function archiveMonths(paths: SessionPaths): string[] {
  if (!existsSync(paths.archive)) return [];
  return readdirSync(paths.archive)
    .map((name) => ARCHIVE_RE.exec(name)?.[1])
    .filter((m): m is string => m !== undefined)
    .sort();
}

/** The month an archived session is filed under. */
export function archiveMonth(session: Session): string {
  return session.created_at.slice(0, 7);
}

function memberBytes(file: string): Buffer {
  const chunks: Buffer[] = [];
  try {
    loadTar().t({
      sync: true,
      file,
      strict: true,
      onReadEntry: (entry) => {
        if (entry.path === MEMBER) entry.on('data', (chunk: Buffer) => chunks.push(chunk));
        else entry.resume();
      },
    });
  } catch (error) {
    throw new AgenceError('corrupt', `${file} is damaged (${(error as Error).message})`, {
      file,
      fix: 'move it aside (it may be recoverable with `gzip -dc | tar -t`); the sessions in it are not listed until it is restored',
    });
  }
  return Buffer.concat(chunks);
}

/** Every session in one month's archive, with its place in the archive's sessions.jsonl. */
export function readArchive(paths: SessionPaths, month: string): ScannedLine<Session>[] {
  const file = archiveFile(paths, month);
  const scan = scanBuffer(memberBytes(file), decodeSession);
  if (scan.bad.length > 0 || scan.partialTail) {
    throw new AgenceError('corrupt', `${file} holds ${scan.bad.length + (scan.partialTail ? 1 : 0)} damaged session lines`, {
      file,
      fix: 'move it aside and restore it from a backup',
    });
  }
  return scan.lines;
}

/** One archived session by its place in its month's archive. */
export function readArchived(paths: SessionPaths, month: string, offset: number, length: number): Session | null {
  const line = memberBytes(archiveFile(paths, month)).subarray(offset, offset + length + 1);
  if (line.length !== length + 1) return null;
  try {
    return decodeSession(JSON.parse(line.subarray(0, length).toString('utf8')));
  } catch {
    return null;
  }
}

/**
 * Add sessions to their month's archive: the old content plus the new, written to a temp archive,
 * fsynced, read back and checked, then renamed into place.
 */
export function addToArchive(paths: SessionPaths, month: string, sessions: Session[]): void {
  mkdirSync(paths.archive, { recursive: true });
  const file = archiveFile(paths, month);
  const existing = existsSync(file) ? readArchive(paths, month).map((l) => l.value) : [];
  const all = [...existing, ...sessions];
  const staging = mkdtempSync(join(paths.archive, '.staging-'));
  const temp = join(paths.archive, tempName(`${month}.tar.gz`));
  try {
    writeFileSync(join(staging, MEMBER), all.map((s) => `${JSON.stringify(s)}\n`).join(''));
    loadTar().c({ sync: true, gzip: true, file: temp, cwd: staging, portable: true }, [MEMBER]);
    const fd = openSync(temp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    const back = scanBuffer(memberBytes(temp), decodeSession);
    if (back.lines.length !== all.length || back.bad.length > 0) {
      throw new AgenceError('corrupt', `the new archive for ${month} did not read back whole`, { fix: 'check the disk, then run the archive again' });
    }
    renameSync(temp, file);
    fsyncDir(paths.archive);
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(temp, { force: true });
  }
}
