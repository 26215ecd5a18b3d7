import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
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

/** A breaker killed between taking `<lock>.break` and letting it go leaves it; clear it after this. */
const BREAKER_STALE_MS = 5_000;

/**
 * Remove an abandoned lock without ever removing a live one. Only one process at a time may
 * break a lock: it holds `<lock>.break` (O_EXCL) while it checks that the lock is still the same
 * abandoned file and removes it. Without that, two processes clearing the same abandoned lock
 * could each end up removing the other's fresh lock, and two would hold it at once (the
 * concurrent ledger appends with SIGKILLs caught that in the rename-and-link-back version).
 */
function breakAbandoned(path: string, inode: number): void {
  const breaker = `${path}.break`;
  let fd: number;
  try {
    fd = openSync(breaker, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    try {
      if (Date.now() - statSync(breaker).mtimeMs > BREAKER_STALE_MS) rmSync(breaker, { force: true });
    } catch {
      // gone already
    }
    return;
  }
  closeSync(fd);
  try {
    // Only breakers remove another process's lock, and we are the only breaker: if it is still
    // the abandoned file we saw, nobody can have replaced it before we remove it.
    if (abandonedInode(path) === inode) rmSync(path, { force: true });
  } finally {
    rmSync(breaker, { force: true });
  }
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
        breakAbandoned(lockPath, inode);
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
    // Remove the lock only if it is still ours (unlinkSync: rmSync loads its rimraf module).
    try {
      if (statSync(lockPath).ino === mine) unlinkSync(lockPath);
    } catch {
      // already gone
    }
  }
}
