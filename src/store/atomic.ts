import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Temp files end in this suffix; `.agence/.gitignore` ignores it, so a crash leaves nothing to commit. */
export const TEMP_SUFFIX = '.agence-tmp';

/**
 * A hidden temp name beside `name`, unique per process and call. Creating it with O_EXCL ('wx')
 * makes a clash an error rather than a clobber, so no cryptographic randomness is needed (and
 * node:crypto stays out of start-up).
 */
export function tempName(name: string): string {
  const random = Math.floor(Math.random() * 0x100000000).toString(16);
  return `.${name}.${process.pid}-${random}${TEMP_SUFFIX}`;
}

/**
 * Write a file so that readers see either the old or the new content, never a mix, and the new
 * content survives a crash once this returns: temp file in the same directory, fsync, rename,
 * fsync of the directory. `syncDir: false` skips the last step, for files where finding the old
 * content after a crash is fine (the ledger head, which the next append brings up to date).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644, syncDir = true): void {
  const temp = writeTemp(path, data, mode);
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  if (syncDir) fsyncDir(dirname(path));
}

/**
 * Write a file that must not exist yet: the content goes to a temp file (fsynced), which is then
 * hard-linked to `path`. A link never replaces a file, so of two writers (or a file that appeared
 * after a check) the first wins. Returns false, writing nothing, when `path` already exists.
 */
export function createFileOnce(path: string, data: string | Uint8Array, mode = 0o644): boolean {
  const temp = writeTemp(path, data, mode);
  try {
    linkSync(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(temp, { force: true });
  }
  fsyncDir(dirname(path));
  return true;
}

/** `data` in a new, fsynced temp file beside `path`; its name. A failed write leaves no temp file. */
function writeTemp(path: string, data: string | Uint8Array, mode: number): string {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const temp = join(dir, tempName(basename(path)));
  const fd = openSync(temp, 'wx', mode);
  try {
    const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let offset = 0;
    while (offset < buffer.length) offset += writeSync(fd, buffer, offset, buffer.length - offset);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  return temp;
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** JSON as agence writes it: two-space indent and a final newline, so diffs stay small. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
