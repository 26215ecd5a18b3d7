import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { fsyncDir } from './atomic.js';

/**
 * JSON Lines files that are only ever appended to. Callers hold the file's lock while appending;
 * a crash can then leave at most one partial last line, which is moved aside (never deleted) before
 * the next append and reported by `scan`.
 */

export interface LineLocation {
  offset: number;
  length: number;
}

export interface ScannedLine<T> extends LineLocation {
  /** 1-based line number in the file. */
  line: number;
  value: T;
}

export interface BadLine extends LineLocation {
  line: number;
  reason: string;
}

export interface ScanResult<T> {
  lines: ScannedLine<T>[];
  /** Complete lines that do not decode: reported, skipped, never rewritten. */
  bad: BadLine[];
  /** Bytes after the last newline: an append cut short. */
  partialTail: LineLocation | null;
  /** Size of the file when read: where the next scan can resume. */
  size: number;
}

const NEWLINE = 0x0a;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Up to `length` bytes at `offset` (fewer at the end of the file). */
export function readRange(fd: number, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buffer, done, length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  return done === length ? buffer : buffer.subarray(0, done);
}

function openOrNull(path: string, flags: string): number | null {
  try {
    return openSync(path, flags);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Decode the lines of `path` from byte `from` on. `decode` turns one line's text into a value or
 * throws; a line that is not UTF-8, not JSON or not accepted by `decode` is a bad line.
 */
export function scanJsonl<T>(path: string, decode: (value: unknown) => T, from = 0): ScanResult<T> {
  const fd = openOrNull(path, 'r');
  if (fd === null) return { lines: [], bad: [], partialTail: null, size: 0 };
  try {
    const size = fstatSync(fd).size;
    return scanBuffer(readRange(fd, from, Math.max(0, size - from)), decode, from);
  } finally {
    closeSync(fd);
  }
}

/** The same over bytes already in memory (an archive member); `from` is their offset in the file. */
export function scanBuffer<T>(bytes: Buffer, decode: (value: unknown) => T, from = 0): ScanResult<T> {
  const result: ScanResult<T> = { lines: [], bad: [], partialTail: null, size: from + bytes.length };
  let start = 0;
  let line = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(NEWLINE, start);
    line++;
    if (end === -1) {
      result.partialTail = { offset: from + start, length: bytes.length - start };
      break;
    }
    const location = { line, offset: from + start, length: end - start };
    try {
      const value = decode(JSON.parse(utf8.decode(bytes.subarray(start, end))));
      result.lines.push({ ...location, value });
    } catch (error) {
      result.bad.push({ ...location, reason: (error as Error).message.split('\n')[0] ?? 'undecodable' });
    }
    start = end + 1;
  }
  return result;
}

/** The text of one line, by the location an index kept. */
export function readLineAt(path: string, at: LineLocation): string | null {
  const fd = openOrNull(path, 'r');
  if (fd === null) return null;
  try {
    const bytes = readRange(fd, at.offset, at.length + 1);
    if (bytes.length !== at.length + 1 || bytes[at.length] !== NEWLINE) return null;
    return utf8.decode(bytes.subarray(0, at.length));
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * Move a partial last line aside into `<file>.partial-<time>` and cut it off, so the complete
 * lines before it stay and the next append starts on a line of its own. Caller holds the lock.
 */
export function quarantinePartialTail(path: string, now: Date): string | null {
  const fd = openOrNull(path, 'r+');
  if (fd === null) return null;
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return null;
    if (readRange(fd, size - 1, 1)[0] === NEWLINE) return null;
    // Find the last newline, reading backwards in blocks.
    let end = size;
    let cut = 0;
    while (end > 0) {
      const start = Math.max(0, end - 65536);
      const block = readRange(fd, start, end - start);
      const i = block.lastIndexOf(NEWLINE);
      if (i !== -1) {
        cut = start + i + 1;
        break;
      }
      end = start;
    }
    const side = `${path}.partial-${now.toISOString().replace(/[:.]/g, '-')}`;
    writeFileSync(side, readRange(fd, cut, size - cut), { flag: 'wx' });
    ftruncateSync(fd, cut);
    fsyncSync(fd);
    return side;
  } finally {
    closeSync(fd);
  }
}

/**
 * Append one line and make it durable: a partial tail is quarantined first, the line goes in one
 * write, is fsynced, and is read back before its location is returned. Caller holds the lock.
 */
export function appendLine(path: string, text: string, now: Date): LineLocation & { quarantined: string | null } {
  if (text.includes('\n')) throw new AgenceError('usage', 'a JSONL record must not contain a raw newline');
  const quarantined = quarantinePartialTail(path, now);
  const fd = openSync(path, 'a+');
  try {
    const offset = fstatSync(fd).size;
    const bytes = Buffer.from(`${text}\n`, 'utf8');
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
    const back = readRange(fd, offset, bytes.length);
    if (!back.equals(bytes)) throw new AgenceError('corrupt', `${path}: the appended line did not read back as written`, { file: path, fix: 'check the disk (`df`, `dmesg`) and run `agence ^doctor`' });
    // The first line made the file: its name in the folder must survive a crash too.
    if (offset === 0) fsyncDir(dirname(path));
    return { offset, length: bytes.length - 1, quarantined };
  } finally {
    closeSync(fd);
  }
}
