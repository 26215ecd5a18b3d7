import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { bufferPath, endMarker, lineStart, scanForMarker, trimOffset } from '../core/buffers.js';
import { AgenceError } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import { withFileLock } from '../store/lockFile.js';

/**
 * The recorder behind tmux's pipe-pane (`^buffers record`) and the reader of `^buffers`. Writes
 * are batched (a pane prints in small pieces) and each batch is appended under the buffer's lock,
 * so two panes of one session never interleave a trim with an append.
 */

const FLUSH_MS = 200;
const FLUSH_BYTES = 64 * 1024;

/** The buffer file of a session under a shard's `.agence/` (nexus resolves to the main worktree). */
export function bufferFile(nexus: string, session: string): string {
  return join(dirname(nexus), bufferPath(session));
}

/** Append `data`, then cut the file to the newest `cap` bytes when it has grown past its slack. */
export function appendToBuffer(file: string, data: Uint8Array, cap: number): void {
  mkdirSync(dirname(file), { recursive: true });
  withFileLock(file, () => {
    appendFileSync(file, data, { mode: 0o600 });
    const size = statSync(file).size;
    const from = trimOffset(size, cap);
    if (from === null) return;
    const kept = Buffer.alloc(size - from);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, kept, 0, kept.length, from);
    } finally {
      closeSync(fd);
    }
    writeFileAtomic(file, kept.subarray(lineStart(kept)), 0o600);
  });
}

/** The end mark the pane's gate prints, and the file to create once everything before it is written. */
export interface RecordEnd {
  nonce: string;
  ack: string;
}

/**
 * Copy a stream (the pane's output) into the buffer until it ends, or until the end mark: then
 * write what came before it, create the ack file the pane's gate waits for, and stop reading.
 */
export function recordBuffer(file: string, cap: number, input: NodeJS.ReadableStream & { destroy?: () => void }, end: RecordEnd | null = null): Promise<{ bytes: number }> {
  const marker = end ? Buffer.from(endMarker(end.nonce)) : null;
  let held: Uint8Array = new Uint8Array(0);
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let total = 0;
  let timer: NodeJS.Timeout | null = null;
  let done = false;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (pendingBytes === 0) return;
    const data = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    appendToBuffer(file, data, cap);
  };
  return new Promise((resolve, reject) => {
    const finish = () => {
      if (done) return;
      done = true;
      try {
        flush();
        if (end) writeFileSync(end.ack, '');
        resolve({ bytes: total });
      } catch (error) {
        reject(error);
      }
    };
    input.on('data', (chunk: Buffer) => {
      if (done) return;
      let data: Uint8Array = chunk;
      let found = false;
      if (marker) ({ pass: data, held, found } = scanForMarker(held, chunk, marker));
      pending.push(data);
      pendingBytes += data.length;
      total += data.length;
      if (found) {
        finish();
        input.destroy?.();
      } else if (pendingBytes >= FLUSH_BYTES) flush();
      else timer ??= setTimeout(flush, FLUSH_MS);
    });
    input.on('error', reject);
    input.on('end', () => {
      pending.push(held);
      pendingBytes += held.length;
      total += held.length;
      held = new Uint8Array(0);
      finish();
    });
  });
}

/**
 * A session's buffer, or a clear error when it has none: all of it, or (with `lines`) only as much
 * of its end as holds that many lines, read in growing windows so `--tail 50` of a buffer of
 * megabytes reads kilobytes. `bytes` is the size of the whole buffer.
 */
export function readBuffer(nexus: string, session: string, lines?: number): { file: string; text: string; bytes: number } {
  const file = bufferFile(nexus, session);
  if (!existsSync(file)) {
    throw new AgenceError('not_found', `session ${session} has no buffer (${bufferPath(session)})`, {
      fix: 'buffers are recorded when an agent runs in tmux (`agence !<agent> --tmux`)',
    });
  }
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    let window = lines === undefined ? size : Math.min(size, 64 * 1024);
    for (;;) {
      const chunk = Buffer.alloc(window);
      readSync(fd, chunk, 0, window, size - window);
      // More newlines than lines asked for: the first, cut, line is not among them.
      if (window === size || countNewlines(chunk) > (lines as number)) return { file, text: chunk.subarray(window === size ? 0 : lineStart(chunk)).toString('utf8'), bytes: size };
      window = Math.min(size, window * 4);
    }
  } finally {
    closeSync(fd);
  }
}

function countNewlines(data: Uint8Array): number {
  let n = 0;
  for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, i + 1)) n++;
  return n;
}
