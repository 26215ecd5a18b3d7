import { closeSync, constants, copyFileSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { AgenceError } from '../core/errors.js';
import { START, describeProblem, lineFields, verifyLines, type ChainBreak, type ChainCursor, type ChainPoint, type LineProblem } from '../core/ledgerChain.js';
import type { LedgerHead, LedgerRoot } from '../core/schemas.js';
import { fsyncDir } from '../store/atomic.js';
import { readRange } from '../store/jsonl.js';
import { withFileLock } from '../store/lockFile.js';
import { hmacKey } from '../shard/keys.js';
import type { ShardPaths } from '../shard/layout.js';
import { appendLedger, fileSize, headFile, ledgerFile, readHead, writeHead } from './ledger.js';
import { forEachLine, readLineBlocks } from './ledgerFile.js';
import type { RangeResult } from './verifyWorker.js';

/**
 * `^ledger verify` and `^ledger repair`: re-compute every hash, mac and link, then compare the
 * end of the file with the head file and the last published root, which is how a truncation at
 * a line boundary is told from a short ledger (docs/ledger.md).
 */

export interface LedgerFinding {
  /** 1-based line of the first bad entry, and its byte offset; null for whole-ledger findings. */
  line: number | null;
  seq: number | null;
  offset: number | null;
  kind: LineProblem['kind'] | 'torn' | 'truncated' | 'head' | 'root';
  message: string;
}

export interface LedgerVerdict {
  ok: boolean;
  entries: number;
  bytes: number;
  last: ChainPoint;
  problem: LedgerFinding | null;
  /** Things that are not wrong but worth saying (an append whose head update was lost). */
  notes: string[];
}

interface Scan {
  cursor: ChainCursor;
  broken: ChainBreak | null;
  /** Bytes after the last newline. */
  tail: Buffer;
  size: number;
  watched: Map<number, string | null>;
}

function scanLedger(file: string, key: Buffer, watch: number[], parallelFrom = PARALLEL_FROM): Scan {
  const watched = new Map<number, string | null>(watch.filter((s) => s > 0).map((s) => [s, null]));
  const parallel = fileSize(file) >= parallelFrom ? scanInParallel(file, key, watched) : null;
  if (parallel) return parallel;
  let cursor: ChainCursor = START;
  let broken: ChainBreak | null = null;
  const { tail } = readLineBlocks(file, 0, (block) => {
    const result = verifyLines(block, cursor, key, watched);
    const consumed = result.cursor.offset - cursor.offset;
    cursor = result.cursor;
    if (result.broken) {
      broken = result.broken;
      return -1;
    }
    return consumed;
  });
  return { cursor, broken, tail: broken ? Buffer.alloc(0) : tail, size: cursor.offset + (broken ? 0 : tail.length), watched };
}

/** Below this size one thread is faster than starting workers (AGENCE_LEDGER_PARALLEL_FROM sets it). */
export const PARALLEL_FROM = 32 << 20;
const WORKER_FILE = join(import.meta.dirname, 'ledger-verify-worker.cjs');

/**
 * Verify a large ledger on several threads: the file is cut into ranges at line ends, each
 * checked by a worker from the seq and prev its first line claims, and the ranges must join up.
 * Only a sound ledger is answered here: any problem (or no worker file, outside the bundle)
 * returns null and the single-threaded scan finds the first bad line with its exact place.
 */
function scanInParallel(file: string, key: Buffer, watched: Map<number, string | null>): Scan | null {
  const threads = Math.min(availableParallelism(), 4);
  if (threads < 2 || !existsSync(WORKER_FILE)) return null;
  const size = fileSize(file);
  const fd = openSync(file, 'r');
  const cuts = [0];
  try {
    for (let i = 1; i < threads; i++) {
      const probe = readRange(fd, Math.floor((size * i) / threads), 1 << 16);
      const nl = probe.indexOf(0x0a);
      if (nl === -1) return null;
      const cut = Math.floor((size * i) / threads) + nl + 1;
      if (cut > (cuts.at(-1) as number) && cut < size) cuts.push(cut);
    }
  } finally {
    closeSync(fd);
  }
  const lastNewline = (() => {
    const end = openSync(file, 'r');
    try {
      return readRange(end, size - 1, 1)[0] === 0x0a;
    } finally {
      closeSync(end);
    }
  })();
  if (!lastNewline) return null;
  cuts.push(size);
  const done = new Int32Array(new SharedArrayBuffer(4 * (cuts.length - 1)));
  const jobs = cuts.slice(0, -1).map((from, slot) => {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_FILE, {
      workerData: { file, from, to: cuts[slot + 1], key: key.toString('hex'), watch: [...watched.keys()], port: port2, done, slot },
      transferList: [port2],
    });
    return { worker, port: port1, slot };
  });
  const results: RangeResult[] = [];
  try {
    for (const job of jobs) {
      while (Atomics.load(done, job.slot) === 0) Atomics.wait(done, job.slot, 0, 1000);
      const message = receiveMessageOnPort(job.port);
      if (!message) return null;
      results.push(message.message as RangeResult);
    }
  } finally {
    for (const job of jobs) {
      job.port.close();
      void job.worker.terminate();
    }
  }
  let point = START.point;
  let lines = 0;
  for (const r of results) {
    if (r.broken || !r.start || !r.end || r.start.seq !== point.seq || r.start.hash !== point.hash) return null;
    point = r.end.point;
    lines += r.lines;
    for (const [seq, hash] of r.watched) if (hash !== null) watched.set(seq, hash);
  }
  const last = results.at(-1)?.end as ChainCursor;
  return { cursor: { point, line: lines, offset: size, lastOffset: last.lastOffset }, broken: null, tail: Buffer.alloc(0), size, watched };
}

/** A seq that is missing where it belongs but turns up later means the entries were reordered. */
function turnsUpLater(file: string, from: number, seq: number): boolean {
  let found = false;
  forEachLine(file, (line, _n, offset) => {
    if (offset > from && lineFields(line)?.seq === seq) found = true;
    return !found;
  });
  return found;
}

function lineFinding(file: string, broken: ChainBreak): LedgerFinding {
  const { problem } = broken;
  const reordered = problem.kind === 'seq-gap' && turnsUpLater(file, broken.offset, problem.expected);
  return {
    line: broken.line,
    seq: 'seq' in problem ? problem.seq : null,
    offset: broken.offset,
    kind: problem.kind,
    message: `line ${broken.line}: ${describeProblem(problem, reordered)}`,
  };
}

function headFinding(head: LedgerHead | null, scan: Scan): LedgerFinding | null {
  const { point } = scan.cursor;
  if (head === null) {
    return point.seq === 0 ? null : { line: null, seq: null, offset: null, kind: 'head', message: 'nexus/ledger.head.json is missing: a truncation of the ledger could not be told' };
  }
  if (head.seq > point.seq) {
    return {
      line: null,
      seq: point.seq + 1,
      offset: scan.cursor.offset,
      kind: 'truncated',
      message: `the ledger ends at entry ${point.seq} but its head says ${head.seq}: ${head.seq - point.seq === 1 ? `entry ${head.seq} was` : `entries ${point.seq + 1}-${head.seq} were`} cut off (truncation)`,
    };
  }
  const seen = head.seq === 0 ? head.hash : scan.watched.get(head.seq);
  if (seen !== head.hash) {
    return { line: null, seq: head.seq, offset: null, kind: 'head', message: `entry ${head.seq} is not the one the head recorded: the ledger was rewritten from there on` };
  }
  return null;
}

function rootFinding(root: LedgerRoot | null, scan: Scan): LedgerFinding | null {
  if (root === null || root.tree_size === 0) return null;
  const { point } = scan.cursor;
  if (root.tree_size > point.seq) {
    return {
      line: null,
      seq: point.seq + 1,
      offset: scan.cursor.offset,
      kind: 'truncated',
      message: `the ledger ends at entry ${point.seq} but organic/ledger-root.json published ${root.tree_size} entries: the ledger was truncated`,
    };
  }
  if (scan.watched.get(root.tree_size) !== root.head_hash) {
    return { line: null, seq: root.tree_size, offset: null, kind: 'root', message: `entry ${root.tree_size} is not the one organic/ledger-root.json published: the ledger was rewritten (after a repair, publish a new root with \`agence ^ledger root\`)` };
  }
  return null;
}

/**
 * Verify the whole ledger. `root` is the last published root of this shard (or null). The first
 * bad line is recorded in the head, so appends refuse until `^ledger repair`.
 */
export function verifyLedger(paths: ShardPaths, root: LedgerRoot | null, options: { parallelFrom?: number } = {}): LedgerVerdict {
  const key = hmacKey(paths);
  const file = ledgerFile(paths);
  let head: LedgerHead | null = null;
  let headProblem: LedgerFinding | null = null;
  try {
    head = readHead(paths, key);
  } catch (error) {
    if (!(error instanceof AgenceError) || error.code !== 'corrupt') throw error;
    headProblem = { line: null, seq: null, offset: null, kind: 'head', message: error.message };
  }
  const scan = scanLedger(file, key, [head?.seq ?? 0, root?.tree_size ?? 0], options.parallelFrom);
  const notes: string[] = [];
  let problem: LedgerFinding | null = null;
  if (scan.broken) {
    problem = lineFinding(file, scan.broken);
  } else if (scan.tail.length > 0) {
    const line = scan.cursor.line + 1;
    // Past the head it may be an append in progress, and a cut-short one is moved aside by the next append.
    if (head && scan.cursor.offset >= head.size) notes.push(`line ${line} is incomplete (${scan.tail.length} bytes): an append in progress or cut short; the next append moves it aside`);
    else problem = { line, seq: null, offset: scan.cursor.offset, kind: 'torn', message: `line ${line}: an incomplete last line (${scan.tail.length} bytes without a newline): the file was cut or an append was cut short` };
  }
  problem ??= headProblem ?? headFinding(head, scan) ?? rootFinding(root, scan);
  if (!problem && head && head.seq < scan.cursor.point.seq) {
    notes.push(`${scan.cursor.point.seq - head.seq} entries after the head (an append stopped before moving the head); the next append takes them in`);
  }
  markBroken(paths, key, head, problem);
  return { ok: problem === null, entries: scan.cursor.point.seq, bytes: scan.size, last: scan.cursor.point, problem, notes };
}

/** Record a bad line in the head so appends refuse, or clear a mark the ledger no longer earns. */
function markBroken(paths: ShardPaths, key: Buffer, head: LedgerHead | null, problem: LedgerFinding | null): void {
  if (!head) return;
  const broken = problem && problem.line !== null ? { seq: problem.seq ?? 0, line: problem.line, problem: problem.message } : null;
  if (JSON.stringify(broken) === JSON.stringify(head.broken) || (broken === null && problem !== null)) return;
  withFileLock(ledgerFile(paths), () => {
    // Only if no append moved the head while we read.
    const now = readHead(paths, key);
    if (!now || now.seq !== head.seq || now.hash !== head.hash) return;
    const { mac: _mac, ...rest } = now;
    writeHead(paths, key, { ...rest, broken });
  });
}

export interface RepairResult {
  repaired: boolean;
  problem: LedgerFinding | null;
  /** The side file holding the lines moved out of the ledger, if any. */
  quarantined: string | null;
  movedLines: number;
  movedBytes: number;
  /** The entry that records the repair in the ledger. */
  entry: { seq: number; hash: string } | null;
}

/**
 * Make the ledger appendable again without deleting anything: a bad line and everything after
 * it move to `ledger.jsonl.quarantine-<time>`; a missing, forged or stale head is rebuilt from
 * the verified entries (the old one kept beside it). The repair itself is then ledgered, so the
 * chain continues from the last good entry and says what happened.
 */
export function repairLedger(paths: ShardPaths, actor: string, now: Date): RepairResult {
  const key = hmacKey(paths);
  const file = ledgerFile(paths);
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const outcome = withFileLock(file, () => {
    let head: LedgerHead | null = null;
    let headBad = false;
    try {
      head = readHead(paths, key);
    } catch (error) {
      if (!(error instanceof AgenceError) || error.code !== 'corrupt') throw error;
      headBad = true;
    }
    const scan = scanLedger(file, key, [head?.seq ?? 0]);
    const cut = scan.broken ? scan.broken.offset : scan.tail.length > 0 ? scan.cursor.offset : null;
    const problem = scan.broken ? lineFinding(file, scan.broken) : cut !== null ? { line: scan.cursor.line + 1, seq: null, offset: cut, kind: 'torn' as const, message: `line ${scan.cursor.line + 1}: an incomplete last line` } : headBad ? { line: null, seq: null, offset: null, kind: 'head' as const, message: 'nexus/ledger.head.json has a wrong mac or does not parse' } : headFinding(head, scan);
    if (!problem) return null;
    let quarantined: string | null = null;
    let movedLines = 0;
    let movedBytes = 0;
    if (cut !== null) {
      quarantined = `${file}.quarantine-${stamp}`;
      const fd = openSync(file, 'r+');
      try {
        const moved = readRange(fd, cut, fstatSync(fd).size - cut);
        writeFileSync(quarantined, moved, { flag: 'wx' });
        const side = openSync(quarantined, 'r');
        fsyncSync(side);
        closeSync(side);
        movedBytes = moved.length;
        movedLines = moved.toString('latin1').split('\n').filter((l) => l !== '').length;
        ftruncateSync(fd, cut);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      fsyncDir(paths.nexus);
    } else if (existsSync(headFile(paths))) {
      copyFileSync(headFile(paths), `${headFile(paths)}.quarantine-${stamp}`, constants.COPYFILE_EXCL);
    }
    const point = scan.cursor.point;
    writeHead(paths, key, { seq: point.seq, hash: point.hash, size: cut ?? scan.size, offset: scan.cursor.lastOffset, broken: null });
    return { problem, quarantined, movedLines, movedBytes };
  });
  if (!outcome) return { repaired: false, problem: null, quarantined: null, movedLines: 0, movedBytes: 0, entry: null };
  const entry = appendLedger(
    paths,
    {
      actor,
      action: 'ledger.repair',
      subject: 'nexus/ledger.jsonl',
      decision: 'repaired',
      data: { problem: outcome.problem.message, quarantined: outcome.quarantined ? basename(outcome.quarantined) : null, moved_lines: outcome.movedLines, moved_bytes: outcome.movedBytes },
    },
    now,
  );
  return { repaired: true, ...outcome, entry: { seq: entry.seq, hash: entry.hash } };
}
