import { closeSync, fstatSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { AgenceError } from '../core/errors.js';

/** A lock is abandoned only when its holder is gone and it is older than any real critical section. */
const ABANDONED_AFTER_MS = 2_000;
const WAIT_MS = 15_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The inode of an abandoned lock at `path`, or null while it may still be held. */
function abandonedInode(path: string): number | null {
  try {
    const st = statSync(path);
    if (Date.now() - st.mtimeMs < ABANDONED_AFTER_MS) return null;
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) return null;
    return st.ino;
  } catch {
    return null;
  }
}

/**
 * Take an abandoned lock away without ever removing a live one: rename it aside, and if what was
 * renamed turns out to be a newer lock (another process removed the old one and locked in the
 * meantime), link it back.
 */
function removeAbandoned(path: string, inode: number): void {
  const aside = `${path}.abandoned-${process.pid}-${Date.now()}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // already gone
  }
  if (statSync(aside).ino !== inode) {
    try {
      linkSync(aside, path);
    } catch {
      throw new AgenceError('conflict', `${path}: lost track of a lock while clearing an abandoned one`, {
        file: path,
        fix: 'run the command again',
      });
    }
  }
  rmSync(aside, { force: true });
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Run `fn` while holding `<path>.lock`, an O_EXCL lock file holding our pid, so read-modify-write
 * cycles of one file are serialised across processes. A lock left by a killed process is cleared
 * once it is clearly abandoned.
 */
export function withFileLock<T>(path: string, fn: () => T): T {
  const lockPath = `${path}.lock`;
  mkdirSync(dirname(lockPath), { recursive: true });
  const deadline = Date.now() + WAIT_MS;
  let fd: number | null = null;
  let delay = 1;
  while (fd === null) {
    try {
      fd = openSync(lockPath, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const inode = abandonedInode(lockPath);
      if (inode !== null) {
        removeAbandoned(lockPath, inode);
        continue;
      }
      if (Date.now() > deadline) {
        throw new AgenceError('conflict', `${lockPath} is held by another agence process`, {
          file: lockPath,
          fix: 'wait for it to finish, or remove the lock file if no agence process is running',
        });
      }
      sleep(delay);
      delay = Math.min(delay * 2, 20);
    }
  }
  const mine = fstatSync(fd).ino;
  try {
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return fn();
  } finally {
    // Remove the lock only if it is still ours.
    try {
      if (statSync(lockPath).ino === mine) rmSync(lockPath, { force: true });
    } catch {
      // already gone
    }
  }
}
