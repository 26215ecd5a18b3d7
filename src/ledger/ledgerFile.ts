import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Streaming over the ledger's lines in large blocks, so a million entries are read with a few
 * hundred reads and never held in memory at once.
 */

const BLOCK = 8 << 20;

/**
 * Call `take` with successive blocks of `path` from byte `from` on; each block starts at a line
 * start (the unconsumed end of the previous block is carried over). `take` returns how many
 * bytes of the block it consumed (up to the end of its last complete line), or -1 to stop.
 * Returns the bytes after the last newline (a partial last line), if any.
 */
export function readLineBlocks(path: string, from: number, take: (block: Buffer, offset: number) => number): { tail: Buffer; stopped: boolean } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { tail: Buffer.alloc(0), stopped: false };
    throw error;
  }
  try {
    let buffer = Buffer.allocUnsafe(BLOCK);
    let carried = 0;
    let offset = from;
    for (;;) {
      if (carried === buffer.length) {
        // One line longer than the buffer: grow it.
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, carried);
        buffer = bigger;
      }
      const n = readSync(fd, buffer, carried, buffer.length - carried, offset + carried);
      const filled = carried + n;
      if (n === 0) return { tail: Buffer.from(buffer.subarray(0, filled)), stopped: false };
      const block = buffer.subarray(0, filled);
      const consumed = take(block, offset);
      if (consumed < 0) return { tail: Buffer.alloc(0), stopped: true };
      buffer.copy(buffer, 0, consumed, filled);
      carried = filled - consumed;
      offset += consumed;
    }
  } finally {
    closeSync(fd);
  }
}

/** Visit every complete line (without its newline) with its 1-based number and offset; return false to stop. */
export function forEachLine(path: string, visit: (line: Buffer, number: number, offset: number) => boolean): { lines: number; tail: Buffer } {
  let number = 0;
  const { tail } = readLineBlocks(path, 0, (block, offset) => {
    let start = 0;
    for (let end = block.indexOf(0x0a); end !== -1; end = block.indexOf(0x0a, start)) {
      number++;
      if (!visit(block.subarray(start, end), number, offset + start)) return -1;
      start = end + 1;
    }
    return start;
  });
  return { lines: number, tail };
}
