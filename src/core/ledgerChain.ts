import { canonicalJson } from './canonicalJson.js';
import { AgenceError } from './errors.js';
import { LedgerEntrySchema, type LedgerEntry, type LedgerHead } from './governanceSchemas.js';
import { firstIssue, type Tier } from './schemas.js';

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

/**
 * node:crypto (DESIGN §7: the only crypto agence uses), taken when a hash is first needed rather
 * than imported: loading it costs milliseconds that commands which never hash should not pay.
 */
const nodeCrypto = () => process.getBuiltinModule('node:crypto');

function sha256Hex(data: string | Uint8Array): string {
  return nodeCrypto().createHash('sha256').update(data).digest('hex');
}

function hmacSha256Hex(key: Uint8Array, data: string | Uint8Array): string {
  return nodeCrypto().createHmac('sha256', key).update(data).digest('hex');
}

export function entryMac(key: Uint8Array, hash: string): string {
  return hmacSha256Hex(key, Buffer.from(hash, 'hex'));
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
  // A line cut short (a changed byte can make a newline) must not send the compares past its end.
  if (seqAt >= line.length) return null;
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
  return hmacSha256Hex(key, canonicalJson({ ...head, mac: undefined }));
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

/** Are the 64 bytes at `at` in `line` the hex digits of `hex`? */
function hexAt(line: Buffer, at: number, hex: string): boolean {
  for (let i = 0; i < HEX_LEN; i++) if (line[at + i] !== hex.charCodeAt(i)) return false;
  return true;
}

/** Are the bytes at `at` in `line` those of `literal`? (A loop: short compares cost more as calls.) */
function bytesAt(line: Buffer, at: number, literal: Buffer): boolean {
  for (let i = 0; i < literal.length; i++) if (line[at + i] !== literal[i]) return false;
  return true;
}

const HEX_VALUE = new Uint8Array(128);
for (let i = 0; i < 16; i++) HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;

/** Write the 32 bytes a 64-digit lowercase hex string spells into `to` at `at`. */
function putHex(to: Buffer, at: number, hex: string): void {
  for (let i = 0; i < 32; i++) to[at + i] = ((HEX_VALUE[hex.charCodeAt(2 * i)] as number) << 4) | (HEX_VALUE[hex.charCodeAt(2 * i + 1)] as number);
}

/**
 * Check the complete lines of `bytes`, which start at `cursor.offset` of the file, each as the
 * entry after the one before. Stops at the first bad line. `watch` maps seqs whose hashes the
 * caller wants (the head's, a published root's) and gets them filled in.
 *
 * This is the loop a million-entry verify spends its time in, so a good line costs three
 * one-shot hashes with hex output (a Buffer per digest costs twice as much) and byte
 * comparisons; a line that fails is re-checked by checkLine for the why.
 */
export function verifyLines(bytes: Buffer, cursor: ChainCursor, key: Uint8Array, watch?: Map<number, string | null>): { cursor: ChainCursor; broken: ChainBreak | null } {
  const { createHmac, hash: oneShotHash } = nodeCrypto();
  let { line, lastOffset } = cursor;
  let seq = cursor.point.seq;
  let prev = cursor.point.hash;
  // HMAC-SHA256 as two one-shot hashes over pre-padded buffers (RFC 2104; a key of up to 64
  // bytes is used as it is): no Hmac object per entry, which is most of what createHmac costs.
  const inner = Buffer.alloc(96);
  const outer = Buffer.alloc(96);
  for (let i = 0; i < 64; i++) {
    inner[i] = 0x36 ^ (key[i] ?? 0);
    outer[i] = 0x5c ^ (key[i] ?? 0);
  }
  const usePads = key.length <= 64;
  let scratch = Buffer.allocUnsafe(4096);
  // Views of the scratch buffer by body length, made once: a view per entry is garbage.
  let views = new Map<number, Buffer>();
  let start = 0;
  for (let end = bytes.indexOf(0x0a); end !== -1; end = bytes.indexOf(0x0a, start)) {
    line++;
    // Offsets into `bytes`: the hot path makes no view of the line.
    const h = end - start > HASH_KEY.length ? bytes.lastIndexOf(HASH_KEY, end - HASH_KEY.length) : -1;
    const hashAt = h + HASH_KEY.length;
    const macAt = hashAt + HEX_LEN + MAC_KEY.length;
    const prevKeyAt = macAt + HEX_LEN;
    const prevAt = prevKeyAt + PREV_KEY.length;
    const seqAt = prevAt + HEX_LEN + SEQ_KEY.length;
    // The separators around hash and mac are not in the hashed body: they are checked here.
    let good =
      h > start &&
      seqAt < end &&
      bytesAt(bytes, hashAt + HEX_LEN, MAC_KEY) &&
      bytesAt(bytes, prevKeyAt, PREV_KEY) &&
      hexAt(bytes, prevAt, prev);
    let digest: string | null = null;
    if (good) {
      // The body (the line without hash and mac), gathered into one buffer for a one-shot hash.
      const headLength = h + 1 - start;
      const bodyLength = end - start - (prevKeyAt + 2 - (h + 1));
      if (bodyLength > scratch.length) {
        scratch = Buffer.allocUnsafe(bodyLength * 2);
        views = new Map();
      }
      bytes.copy(scratch, 0, start, h + 1);
      bytes.copy(scratch, headLength, prevKeyAt + 2, end);
      let view = views.get(bodyLength);
      if (view === undefined) {
        view = scratch.subarray(0, bodyLength);
        views.set(bodyLength, view);
      }
      digest = oneShotHash('sha256', view, 'hex');
      let mac: string;
      if (usePads) {
        putHex(inner, 64, digest);
        putHex(outer, 64, oneShotHash('sha256', inner, 'hex'));
        mac = oneShotHash('sha256', outer, 'hex');
      } else {
        mac = createHmac('sha256', key).update(Buffer.from(digest, 'hex')).digest('hex');
      }
      good = hexAt(bytes, hashAt, digest) && hexAt(bytes, macAt, mac) && seqIs(bytes, seqAt, seq + 1);
    }
    if (!good || digest === null) {
      const result = checkLine(bytes.subarray(start, end), { seq, hash: prev }, key);
      // Canonical lines that pass checkLine pass here too; anything else is a real problem.
      const problem: LineProblem = 'problem' in result ? result.problem : { kind: 'malformed', detail: 'not in canonical form' };
      return { cursor: { point: { seq, hash: prev }, line: line - 1, offset: cursor.offset + start, lastOffset }, broken: { line, offset: cursor.offset + start, problem } };
    }
    seq++;
    prev = digest;
    lastOffset = cursor.offset + start;
    if (watch?.has(seq)) watch.set(seq, digest);
    start = end + 1;
  }
  return { cursor: { point: { seq, hash: prev }, line, offset: cursor.offset + start, lastOffset }, broken: null };
}

/** Is the canonical integer at `at` exactly `seq`, followed by a comma? */
function seqIs(line: Buffer, at: number, seq: number): boolean {
  // Digits from the last: no string per entry.
  let width = 1;
  for (let n = seq; n >= 10; n = Math.floor(n / 10)) width++;
  if (line[at + width] !== 0x2c) return false;
  for (let i = at + width - 1, n = seq; i >= at; i--, n = Math.floor(n / 10)) if (line[i] !== 0x30 + (n % 10)) return false;
  return true;
}
