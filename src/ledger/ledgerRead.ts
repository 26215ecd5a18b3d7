import { closeSync, fstatSync, openSync } from 'node:fs';
import { AgenceError } from '../core/errors.js';
import { lineFields } from '../core/ledgerChain.js';
import { LedgerEntrySchema, firstIssue, type LedgerEntry } from '../core/schemas.js';
import { readRange } from '../store/jsonl.js';
import type { ShardPaths } from '../shard/layout.js';
import { ledgerFile } from './ledger.js';
import { forEachLine } from './ledgerFile.js';

/**
 * Reading the ledger: `^ledger tail|show|count|search`. These read; they do not verify (that is
 * `^ledger verify`), but a line that is not an entry is reported, never skipped silently.
 */

/** `where` names the line in messages: `line 12`, or `a line near the end`. */
function decode(line: Buffer, where: string): LedgerEntry {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    throw new AgenceError('corrupt', `nexus/ledger.jsonl ${where} is not valid JSON`, { fix: 'run `agence ^ledger verify`, then `agence ^ledger repair`' });
  }
  const parsed = LedgerEntrySchema.safeParse(value);
  if (!parsed.success) throw new AgenceError('corrupt', `nexus/ledger.jsonl ${where} is not a ledger entry (${firstIssue(parsed.error)})`, { fix: 'run `agence ^ledger verify`, then `agence ^ledger repair`' });
  return parsed.data;
}

/** The last `n` entries, oldest first, read backwards from the end of the file. */
export function tailLedger(paths: ShardPaths, n: number): LedgerEntry[] {
  let fd: number;
  try {
    fd = openSync(ledgerFile(paths), 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  try {
    const size = fstatSync(fd).size;
    let start = size;
    let bytes = Buffer.alloc(0);
    // Read blocks backwards until n + 1 newlines are in hand (or the file start).
    while (start > 0) {
      const from = Math.max(0, start - 65536);
      bytes = Buffer.concat([readRange(fd, from, start - from), bytes]);
      start = from;
      let newlines = 0;
      for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) newlines++;
      if (newlines > n) break;
    }
    const complete = bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1);
    const lines = complete.toString('utf8').split('\n').slice(0, -1);
    const wanted = start > 0 ? lines.slice(1) : lines;
    return wanted.slice(-n).map((line) => decode(Buffer.from(line, 'utf8'), 'a line near the end'));
  } finally {
    closeSync(fd);
  }
}

/** Entry `seq`, found by its seq field without parsing the lines before it. */
export function showLedger(paths: ShardPaths, seq: number): LedgerEntry {
  let found: LedgerEntry | null = null;
  forEachLine(ledgerFile(paths), (line, number) => {
    if (lineFields(line)?.seq === seq) found = decode(line, `line ${number}`);
    return found === null;
  });
  if (!found) throw new AgenceError('not_found', `no ledger entry ${seq}`, { fix: 'see the latest with `agence ^ledger tail`' });
  return found;
}

/** Entries (complete lines) in the ledger. */
export function countLedger(paths: ShardPaths): number {
  return forEachLine(ledgerFile(paths), () => true).lines;
}

export interface LedgerQuery {
  text?: string;
  actor?: string;
  action?: string;
  limit: number;
}

/** Entries whose line contains `text` (case-insensitive) and whose actor and action match, newest last. */
export function searchLedger(paths: ShardPaths, query: LedgerQuery): { entries: LedgerEntry[]; matched: number } {
  const needle = query.text?.toLowerCase();
  const entries: LedgerEntry[] = [];
  let matched = 0;
  forEachLine(ledgerFile(paths), (line, number) => {
    if (needle !== undefined && !line.toString('utf8').toLowerCase().includes(needle)) return true;
    const entry = decode(line, `line ${number}`);
    if (needle !== undefined && ![entry.actor, entry.action, entry.subject, entry.decision, entry.tier ?? '', JSON.stringify(entry.data)].some((f) => f.toLowerCase().includes(needle))) return true;
    if (query.actor !== undefined && entry.actor !== query.actor) return true;
    if (query.action !== undefined && entry.action !== query.action && !entry.action.startsWith(`${query.action}.`)) return true;
    matched++;
    entries.push(entry);
    if (entries.length > query.limit) entries.shift();
    return true;
  });
  return { entries, matched };
}
