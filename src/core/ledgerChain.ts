import { createHash, createHmac, hash as oneShotHash } from 'node:crypto';
import { canonicalJson } from './canonicalJson.js';
import { AgenceError } from './errors.js';
import { LedgerEntrySchema, firstIssue, type LedgerEntry, type LedgerHead, type Tier } from './schemas.js';

/**
 * The ledger's hash chain (docs/ledger.md). An entry is one line of canonical JSON; `hash` is
 * sha256 over the canonical entry without `hash` and `mac`, `prev` the hash of the entry before
 * (64 zeros for the first), `mac` HMAC-SHA256 over the 32 bytes of `hash` with the shard's ledger key, so the
 * chain cannot be rewritten by someone who can only edit the file.
 *
 * Canonical key order puts `hash` and `mac` between `decision` and `prev`, so the hashed body of
 * a line is the line with `"hash":"…","mac":"…",` cut out: verification works on the bytes as
 * stored, and any change to them changes the hash.
 */

export const GENESIS_HASH = '0'.repeat(64);

export interface LedgerRecord {
  actor: string;
  action: string;
  subject: string;
  tier?: Tier | null;
  decision: string;
  data?: Record<string, unknown>;
}

/** A point on the chain: the seq and hash of the last entry (seq 0 and GENESIS_HASH when empty). */
export interface ChainPoint {
  seq: number;
  hash: string;
}

export const GENESIS: ChainPoint = { seq: 0, hash: GENESIS_HASH };

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function entryMac(key: Uint8Array, hash: string): string {
  return createHmac('sha256', key).update(Buffer.from(hash, 'hex')).digest('hex');
}

/** The next entry after `after`, and its line (without the newline). */
export function sealEntry(record: LedgerRecord, after: ChainPoint, ts: string, key: Uint8Array): { entry: LedgerEntry; line: string } {
  for (const field of ['actor', 'action', 'decision'] as const) {
    if (typeof record[field] !== 'string' || record[field] === '') throw new AgenceError('usage', `a ledger entry needs a non-empty ${field}`);
  }
  let body: string;
  try {
    body = canonicalJson({
      seq: after.seq + 1,
      ts,
      actor: record.actor,
      action: record.action,
      subject: record.subject,
      tier: record.tier ?? null,
      decision: record.decision,
      data: record.data ?? {},
      prev: after.hash,
    });
  } catch (error) {
    throw new AgenceError('usage', `a ledger entry's data must be plain JSON: ${(error as Error).message}`);
  }
  const hash = sha256Hex(body);
  const mac = entryMac(key, hash);
  // hash and mac sort just before the top-level prev (the last `,"prev":"`: data comes before it
  // and a string value cannot hold an unescaped quote), so the line is the body with them spliced in.
  const at = body.lastIndexOf(',"prev":"') + 1;
  const line = `${body.slice(0, at)}"hash":"${hash}","mac":"${mac}",${body.slice(at)}`;
  // The entry as read back from its line (a zod copy would drop a "__proto__" key of data).
  const entry = JSON.parse(line) as LedgerEntry;
  const parsed = LedgerEntrySchema.safeParse(entry);
  if (!parsed.success) throw new AgenceError('usage', `not a valid ledger entry (${firstIssue(parsed.error)})`);
  return { entry, line };
}

// Byte layout around the hash and mac of a canonical entry line.
const HASH_KEY = Buffer.from(',"hash":"');
const MAC_KEY = Buffer.from('","mac":"');
const PREV_KEY = Buffer.from('","prev":"');
const SEQ_KEY = Buffer.from('","seq":');
const HEX_LEN = 64;

export interface LineFields {
  hash: string;
  mac: string;
  prev: string;
  seq: number;
  /** The hashed body: the line without `"hash":"…","mac":"…",`. */
  body: Buffer;
}

function isHex64(bytes: Buffer, start: number): boolean {
  if (start + HEX_LEN > bytes.length) return false;
  for (let i = start; i < start + HEX_LEN; i++) {
    const c = bytes[i] as number;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/**
 * Read hash, mac, prev and seq from their fixed places in a canonical line, without parsing
 * the JSON. The last `,"hash":"` is the top-level one: only prev, seq, subject, tier and ts follow
 * it, and a string value cannot hold an unescaped quote. Null when the line is not so shaped.
 */
export function lineFields(line: Buffer): LineFields | null {
  const h = line.lastIndexOf(HASH_KEY);
  if (h < 0) return null;
  const hashAt = h + HASH_KEY.length;
  const macKeyAt = hashAt + HEX_LEN;
  const macAt = macKeyAt + MAC_KEY.length;
  const prevKeyAt = macAt + HEX_LEN;
  const prevAt = prevKeyAt + PREV_KEY.length;
  const seqKeyAt = prevAt + HEX_LEN;
  const seqAt = seqKeyAt + SEQ_KEY.length;
  if (
    !isHex64(line, hashAt) ||
    line.compare(MAC_KEY, 0, MAC_KEY.length, macKeyAt, macAt) !== 0 ||
    !isHex64(line, macAt) ||
    line.compare(PREV_KEY, 0, PREV_KEY.length, prevKeyAt, prevAt) !== 0 ||
    !isHex64(line, prevAt) ||
    line.compare(SEQ_KEY, 0, SEQ_KEY.length, seqKeyAt, seqAt) !== 0
  ) {
    return null;
  }
  let seq = 0;
  let i = seqAt;
  // A canonical positive integer: no leading zero, at most 15 digits (a safe integer).
  if (line[i] === 0x30) return null;
  for (; i < line.length && i - seqAt < 16; i++) {
    const c = line[i] as number;
    if (c < 0x30 || c > 0x39) break;
    seq = seq * 10 + (c - 0x30);
  }
  if (i === seqAt || i - seqAt > 15 || line[i] !== 0x2c) return null;
  // The body keeps the comma before "hash" and drops `"hash":"…","mac":"…",` up to "prev".
  const body = Buffer.concat([line.subarray(0, h + 1), line.subarray(prevKeyAt + 2)]);
  return {
    hash: line.toString('latin1', hashAt, hashAt + HEX_LEN),
    mac: line.toString('latin1', macAt, macAt + HEX_LEN),
    prev: line.toString('latin1', prevAt, prevAt + HEX_LEN),
    seq,
    body,
  };
}

/** What is wrong with one line, in words that say which kind of tampering it points to. */
export type LineProblem =
  | { kind: 'malformed'; detail: string }
  | { kind: 'edited'; seq: number }
  | { kind: 'forged'; seq: number }
  | { kind: 'seq-gap'; seq: number; expected: number }
  | { kind: 'seq-back'; seq: number; expected: number }
  | { kind: 'unlinked'; seq: number };

/** A line whose hash and mac check out, on its own (not yet against its place in the chain). */
export function sealedLine(line: Buffer, key: Uint8Array): { fields: LineFields } | { problem: LineProblem } {
  const fields = lineFields(line);
  if (!fields) return { problem: { kind: 'malformed', detail: malformedDetail(line) } };
  if (sha256Hex(fields.body) !== fields.hash) return { problem: { kind: 'edited', seq: fields.seq } };
  if (entryMac(key, fields.hash) !== fields.mac) return { problem: { kind: 'forged', seq: fields.seq } };
  return { fields };
}

/** Check one line as the entry after `after`. */
export function checkLine(line: Buffer, after: ChainPoint, key: Uint8Array): { ok: ChainPoint } | { problem: LineProblem } {
  const sealed = sealedLine(line, key);
  if ('problem' in sealed) return sealed;
  const { seq, prev, hash } = sealed.fields;
  if (seq > after.seq + 1) return { problem: { kind: 'seq-gap', seq, expected: after.seq + 1 } };
  if (seq < after.seq + 1) return { problem: { kind: 'seq-back', seq, expected: after.seq + 1 } };
  if (prev !== after.hash) return { problem: { kind: 'unlinked', seq } };
  return { ok: { seq, hash } };
}

function malformedDetail(line: Buffer): string {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(line));
  } catch {
    return 'not valid JSON';
  }
  const parsed = LedgerEntrySchema.safeParse(value);
  if (!parsed.success) return `not a ledger entry (${firstIssue(parsed.error)})`;
  return 'not in canonical form';
}

/** One sentence for a problem; `reordered` when the missing seq turns up later in the file. */
export function describeProblem(problem: LineProblem, reordered = false): string {
  switch (problem.kind) {
    case 'malformed':
      return `corrupt line: ${problem.detail}`;
    case 'edited':
      return `entry ${problem.seq} was edited: its content does not match its hash`;
    case 'forged':
      return `entry ${problem.seq} has a wrong mac: it was written or rewritten without this shard's ledger key`;
    case 'seq-gap':
      return reordered
        ? `entry ${problem.seq} stands where entry ${problem.expected} belongs: entries were reordered`
        : `entry ${problem.seq} follows entry ${problem.expected - 1}: ${problem.seq - problem.expected === 1 ? `entry ${problem.expected} was` : `entries ${problem.expected}-${problem.seq - 1} were`} deleted`;
    case 'seq-back':
      return reordered
        ? `entry ${problem.seq} stands where entry ${problem.expected} belongs: entries were reordered`
        : `entry ${problem.seq} comes again after entry ${problem.expected - 1}: an entry was inserted or replayed`;
    case 'unlinked':
      return `entry ${problem.seq} does not link to the entry before it (prev differs): an entry was inserted, deleted or reordered`;
  }
}

/** The MAC of the head file: over its canonical form without the mac. */
export function headMac(key: Uint8Array, head: Omit<LedgerHead, 'mac'>): string {
  return createHmac('sha256', key).update(canonicalJson({ ...head, mac: undefined })).digest('hex');
}

export function sealHead(key: Uint8Array, head: Omit<LedgerHead, 'mac'>): LedgerHead {
  return { ...head, mac: headMac(key, head) };
}

/** How far a verification got: the last good entry, lines and bytes consumed. */
export interface ChainCursor {
  point: ChainPoint;
  line: number;
  offset: number;
  /** Where the last good entry's line starts. */
  lastOffset: number;
}

export interface ChainBreak {
  /** 1-based line number in the file, and the byte offset where it starts. */
  line: number;
  offset: number;
  problem: LineProblem;
}

export const START: ChainCursor = { point: GENESIS, line: 0, offset: 0, lastOffset: 0 };

const HEX_CHARS = Buffer.from('0123456789abcdef');

/** Do the 64 hex digits at `at` in `line` spell `digest`? Compared in place, without strings. */
function hexMatches(line: Buffer, at: number, digest: Buffer): boolean {
  for (let i = 0; i < 32; i++) {
    const b = digest[i] as number;
    if (line[at + 2 * i] !== HEX_CHARS[b >> 4] || line[at + 2 * i + 1] !== HEX_CHARS[b & 15]) return false;
  }
  return true;
}

/**
 * Check the complete lines of `bytes`, which start at `cursor.offset` of the file, each as the
 * entry after the one before. Stops at the first bad line. `watch` maps seqs whose hashes the
 * caller wants (the head's, a published root's) and gets them filled in.
 *
 * This is the loop a million-entry verify spends its time in, so a good line costs two hashes
 * and byte comparisons, no strings; a line that fails is re-checked by checkLine for the why.
 */
export function verifyLines(bytes: Buffer, cursor: ChainCursor, key: Uint8Array, watch?: Map<number, string | null>): { cursor: ChainCursor; broken: ChainBreak | null } {
  let { line, lastOffset } = cursor;
  let seq = cursor.point.seq;
  let hashHex: string | null = cursor.point.hash;
  let prev: Buffer = Buffer.from(cursor.point.hash, 'hex');
  // HMAC-SHA256 as two one-shot hashes over pre-padded buffers (RFC 2104; a 32-byte key needs
  // no hashing first): no Hmac object per entry, which is most of what createHmac costs.
  const inner = Buffer.alloc(96);
  const outer = Buffer.alloc(96);
  for (let i = 0; i < 64; i++) {
    inner[i] = 0x36 ^ (key[i] ?? 0);
    outer[i] = 0x5c ^ (key[i] ?? 0);
  }
  const usePads = key.length <= 64;
  let scratch = Buffer.allocUnsafe(4096);
  let start = 0;
  for (let end = bytes.indexOf(0x0a); end !== -1; end = bytes.indexOf(0x0a, start)) {
    line++;
    const text = bytes.subarray(start, end);
    const h = text.lastIndexOf(HASH_KEY);
    const hashAt = h + HASH_KEY.length;
    const macAt = hashAt + HEX_LEN + MAC_KEY.length;
    const prevKeyAt = macAt + HEX_LEN;
    const prevAt = prevKeyAt + PREV_KEY.length;
    const seqAt = prevAt + HEX_LEN + SEQ_KEY.length;
    // The separators around hash and mac are not in the hashed body: they are checked here.
    let good =
      h > 0 &&
      seqAt < text.length &&
      text.compare(MAC_KEY, 0, MAC_KEY.length, hashAt + HEX_LEN, macAt) === 0 &&
      text.compare(PREV_KEY, 0, PREV_KEY.length, prevKeyAt, prevAt) === 0 &&
      hexMatches(text, prevAt, prev);
    let digest: Buffer | null = null;
    if (good) {
      // The body (the line without hash and mac), gathered into one buffer for a one-shot hash.
      const head = h + 1;
      const bodyLength = text.length - (prevKeyAt + 2 - head);
      if (bodyLength > scratch.length) scratch = Buffer.allocUnsafe(bodyLength * 2);
      text.copy(scratch, 0, 0, head);
      text.copy(scratch, head, prevKeyAt + 2);
      digest = oneShotHash('sha256', scratch.subarray(0, bodyLength), 'buffer') as unknown as Buffer;
      let mac: Buffer;
      if (usePads) {
        digest.copy(inner, 64);
        (oneShotHash('sha256', inner, 'buffer') as unknown as Buffer).copy(outer, 64);
        mac = oneShotHash('sha256', outer, 'buffer') as unknown as Buffer;
      } else {
        mac = createHmac('sha256', key).update(digest).digest();
      }
      good = hexMatches(text, hashAt, digest) && hexMatches(text, macAt, mac) && seqIs(text, seqAt, seq + 1);
    }
    if (!good || digest === null) {
      const result = checkLine(text, { seq, hash: hashHex ?? prev.toString('hex') }, key);
      // Canonical lines that pass checkLine pass here too; anything else is a real problem.
      const problem: LineProblem = 'problem' in result ? result.problem : { kind: 'malformed', detail: 'not in canonical form' };
      return { cursor: { point: { seq, hash: hashHex ?? prev.toString('hex') }, line: line - 1, offset: cursor.offset + start, lastOffset }, broken: { line, offset: cursor.offset + start, problem } };
    }
    seq++;
    prev = digest;
    hashHex = null;
    lastOffset = cursor.offset + start;
    if (watch?.has(seq)) watch.set(seq, digest.toString('hex'));
    start = end + 1;
  }
  return { cursor: { point: { seq, hash: hashHex ?? prev.toString('hex') }, line, offset: cursor.offset + start, lastOffset }, broken: null };
}

/** Is the canonical integer at `at` exactly `seq`, followed by a comma? */
function seqIs(line: Buffer, at: number, seq: number): boolean {
  const digits = String(seq);
  for (let i = 0; i < digits.length; i++) if (line[at + i] !== digits.charCodeAt(i)) return false;
  return line[at + digits.length] === 0x2c;
}
