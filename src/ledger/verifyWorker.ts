import { workerData, type MessagePort } from 'node:worker_threads';
import { lineFields, verifyLines, type ChainCursor, type ChainPoint } from '../core/ledgerChain.js';
import { readLineBlocks } from './ledgerFile.js';

/**
 * A worker thread of a parallel `^ledger verify` (ledgerVerify.ts): checks the lines of one
 * byte range of the ledger, starting from the seq and prev its first line claims; the main
 * thread then checks that each range starts where the one before it ended.
 */

export interface RangeTask {
  file: string;
  from: number;
  to: number;
  key: string;
  watch: number[];
  port: MessagePort;
  done: Int32Array;
  slot: number;
}

export interface RangeResult {
  /** The point the range's first line claims to follow. */
  start: ChainPoint | null;
  end: ChainCursor | null;
  lines: number;
  broken: boolean;
  watched: [number, string | null][];
}

function verifyRange(task: RangeTask): RangeResult {
  const key = Buffer.from(task.key, 'hex');
  const watched = new Map<number, string | null>(task.watch.map((s) => [s, null]));
  let start: ChainPoint | null = null;
  let cursor: ChainCursor | null = null;
  let broken = false;
  readLineBlocks(task.file, task.from, (block, offset) => {
    const limit = Math.min(block.length, task.to - offset);
    const mine = block.subarray(0, limit);
    if (cursor === null) {
      const nl = mine.indexOf(0x0a);
      const fields = nl === -1 ? null : lineFields(mine.subarray(0, nl));
      if (!fields || fields.seq < 1) {
        broken = true;
        return -1;
      }
      start = { seq: fields.seq - 1, hash: fields.prev };
      cursor = { point: start, line: 0, offset, lastOffset: offset };
    }
    const result = verifyLines(mine, cursor, key, watched);
    cursor = result.cursor;
    if (result.broken) {
      broken = true;
      return -1;
    }
    return cursor.offset >= task.to ? -1 : cursor.offset - offset;
  });
  const end = cursor as ChainCursor | null;
  return { start, end, lines: end?.line ?? 0, broken: broken || end === null || end.offset !== task.to, watched: [...watched] };
}

const task = workerData as RangeTask;
task.port.postMessage(verifyRange(task));
Atomics.store(task.done, task.slot, 1);
Atomics.notify(task.done, task.slot);
