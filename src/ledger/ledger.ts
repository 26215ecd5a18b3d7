import { closeSync, fstatSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { GENESIS, checkLine, describeProblem, sealEntry, sealHead, sealedLine, headMac, type ChainPoint, type LedgerRecord } from '../core/ledgerChain.js';
import { LedgerHeadSchema, type LedgerEntry, type LedgerHead } from '../core/schemas.js';
import { writeFileAtomic } from '../store/atomic.js';
import { readJsonFile } from '../store/files.js';
import { appendLine, readRange } from '../store/jsonl.js';
import { withFileLock } from '../store/lockFile.js';
import { hmacKey } from '../shard/keys.js';
import type { ShardPaths } from '../shard/layout.js';

/**
 * The ledger service: `nexus/ledger.jsonl`, one entry per decision, appended under a lock with
 * one write and an fsync, and `nexus/ledger.head.json`, which says where the ledger ends so an
 * append reads only the last line (docs/ledger.md).
 */

export type { LedgerEntry, LedgerRecord };

export function ledgerFile(paths: ShardPaths): string {
  return join(paths.nexus, 'ledger.jsonl');
}

export function headFile(paths: ShardPaths): string {
  return join(paths.nexus, 'ledger.head.json');
}

const REPAIR_FIX = 'run `agence ^ledger verify` to see what is wrong, then `agence ^ledger repair` to move the bad tail aside';

/** The head, its MAC checked; the genesis head when there is no ledger yet. */
export function readHead(paths: ShardPaths, key: Uint8Array): LedgerHead | null {
  const file = headFile(paths);
  const head = readJsonFile(file, LedgerHeadSchema, { shown: 'nexus/ledger.head.json', fix: REPAIR_FIX });
  if (head === null) return null;
  if (headMac(key, head) !== head.mac) {
    throw new AgenceError('corrupt', 'nexus/ledger.head.json has a wrong mac: it was changed outside agence', { file, fix: REPAIR_FIX });
  }
  return head;
}

export function writeHead(paths: ShardPaths, key: Uint8Array, head: Omit<LedgerHead, 'mac'>): LedgerHead {
  const sealed = sealHead(key, head);
  writeFileAtomic(headFile(paths), `${JSON.stringify(sealed)}\n`);
  return sealed;
}

export function fileSize(path: string): number {
  try {
    const fd = openSync(path, 'r');
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/**
 * Where the next entry goes, checked without reading the whole ledger: the head's MAC, the
 * ledger's size against it, and the last line against the head's hash. Lines after the head
 * (an append whose head update was cut short) are checked and taken in. Caller holds the lock.
 */
function appendPoint(paths: ShardPaths, key: Uint8Array): ChainPoint {
  const file = ledgerFile(paths);
  const size = fileSize(file);
  const head = readHead(paths, key);
  if (head === null) {
    if (size === 0) return GENESIS;
    throw new AgenceError('corrupt', 'nexus/ledger.head.json is missing but the ledger is not empty: a truncation could not be told', {
      file: headFile(paths),
      fix: REPAIR_FIX,
    });
  }
  if (head.broken) {
    throw new AgenceError('corrupt', `nexus/ledger.jsonl line ${head.broken.line} is bad (${head.broken.problem}); appends are refused`, { file, fix: REPAIR_FIX });
  }
  if (size < head.size) {
    throw new AgenceError('corrupt', `nexus/ledger.jsonl is ${size} bytes but its head says ${head.size}: the ledger was truncated`, { file, fix: REPAIR_FIX });
  }
  const fd = openSync(file, 'r');
  try {
    let point: ChainPoint = GENESIS;
    if (head.seq > 0) {
      const last = readRange(fd, head.offset, head.size - head.offset);
      const sealed = last[last.length - 1] === 0x0a ? sealedLine(last.subarray(0, last.length - 1), key) : null;
      if (!sealed || !('fields' in sealed) || sealed.fields.seq !== head.seq || sealed.fields.hash !== head.hash) {
        throw new AgenceError('corrupt', `nexus/ledger.jsonl: the last entry (${head.seq}) does not match the head`, { file, fix: REPAIR_FIX });
      }
      point = { seq: head.seq, hash: head.hash };
    }
    // Complete lines after the head: an append whose head update was lost. Take them in; a
    // partial last line is left for appendLine, which moves it aside.
    if (size > head.size) {
      const rest = readRange(fd, head.size, size - head.size);
      let start = 0;
      for (let end = rest.indexOf(0x0a); end !== -1; end = rest.indexOf(0x0a, start)) {
        const result = checkLine(rest.subarray(start, end), point, key);
        if ('problem' in result) {
          throw new AgenceError('corrupt', `nexus/ledger.jsonl after entry ${point.seq}: ${describeProblem(result.problem)}`, { file, fix: REPAIR_FIX });
        }
        point = result.ok;
        start = end + 1;
      }
    }
    return point;
  } finally {
    closeSync(fd);
  }
}

/**
 * Record one decision. Locked, one write of the line and an fsync, read back, then the head is
 * moved. Refuses (exit 3) while the ledger is damaged: a decision must never be recorded on a
 * chain that cannot be verified.
 */
export function appendLedger(paths: ShardPaths, record: LedgerRecord, now: Date): LedgerEntry {
  const key = hmacKey(paths);
  const file = ledgerFile(paths);
  return withFileLock(file, () => {
    const point = appendPoint(paths, key);
    const { entry, line } = sealEntry(record, point, now.toISOString(), key);
    const written = appendLine(file, line, now);
    writeHead(paths, key, { seq: entry.seq, hash: entry.hash, size: written.offset + written.length + 1, offset: written.offset, broken: null });
    return entry;
  });
}
