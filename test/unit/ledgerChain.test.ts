import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonicalJson.js';
import { GENESIS, GENESIS_HASH, START, checkLine, describeProblem, lineFields, sealEntry, verifyLines, type ChainPoint } from '../../src/core/ledgerChain.js';
import { LedgerEntrySchema } from '../../src/core/schemas.js';

const key = Buffer.alloc(32, 7);
const ts = '2026-11-24T10:00:00.000Z';
const record = { actor: 'agent:claude', action: 'guard.check', subject: 'git push --force', tier: 'T3' as const, decision: 'deny', data: { reason: 'force push' } };

function chain(n: number, extra: (i: number) => Record<string, unknown> = () => ({})): { lines: Buffer[]; points: ChainPoint[] } {
  const lines: Buffer[] = [];
  const points: ChainPoint[] = [GENESIS];
  for (let i = 0; i < n; i++) {
    const { entry, line } = sealEntry({ ...record, data: extra(i) }, points[i] as ChainPoint, ts, key);
    lines.push(Buffer.from(line));
    points.push({ seq: entry.seq, hash: entry.hash });
  }
  return { lines, points };
}

describe('ledger chain', () => {
  it('seals an entry as the spec says: hash over the canonical entry without hash and mac, mac over the hash', () => {
    const { entry, line } = sealEntry(record, GENESIS, ts, key);
    expect(entry.seq).toBe(1);
    expect(entry.prev).toBe(GENESIS_HASH);
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    const { hash, mac, ...body } = entry;
    expect(hash).toBe(createHash('sha256').update(canonicalJson(body)).digest('hex'));
    expect(mac).toBe(createHmac('sha256', key).update(Buffer.from(hash, 'hex')).digest('hex'));
    expect(line).toBe(canonicalJson(entry));
    expect(LedgerEntrySchema.parse(JSON.parse(line))).toEqual(entry);
    expect(entry.tier).toBe('T3');
    expect(sealEntry({ ...record, tier: undefined, data: undefined }, GENESIS, ts, key).entry).toMatchObject({ tier: null, data: {} });
  });

  it('refuses entries without an actor, action or decision, and data that is not plain JSON', () => {
    expect(() => sealEntry({ ...record, actor: '' }, GENESIS, ts, key)).toThrow(/non-empty actor/);
    expect(() => sealEntry({ ...record, decision: '' }, GENESIS, ts, key)).toThrow(/non-empty decision/);
    expect(() => sealEntry({ ...record, data: { n: Number.NaN } }, GENESIS, ts, key)).toThrow(/plain JSON/);
  });

  it('reads hash, mac, prev and seq from the bytes, even when data and subject mimic the fields', () => {
    fc.assert(
      fc.property(fc.string(), fc.dictionary(fc.string(), fc.jsonValue()), fc.nat({ max: 10 ** 12 }), (subject, data, seq) => {
        const tricky = { ...data, hash: 'f'.repeat(64), mac: '","mac":"', prev: ',"hash":"' };
        const { entry, line } = sealEntry({ ...record, subject: `${subject},"hash":"${'a'.repeat(64)}`, data: tricky }, { seq, hash: 'e'.repeat(64) }, ts, key);
        const fields = lineFields(Buffer.from(line));
        expect(fields).not.toBeNull();
        expect(fields?.hash).toBe(entry.hash);
        expect(fields?.mac).toBe(entry.mac);
        expect(fields?.prev).toBe(entry.prev);
        expect(fields?.seq).toBe(seq + 1);
        const { hash: _h, mac: _m, ...body } = entry;
        expect(fields?.body.toString()).toBe(canonicalJson(body));
      }),
      { numRuns: 200 },
    );
  });

  it('verifies a sound chain line by line', () => {
    const { lines, points } = chain(5);
    lines.forEach((line, i) => expect(checkLine(line, points[i] as ChainPoint, key)).toEqual({ ok: points[i + 1] }));
  });

  it('names edits, forged macs, deletions, replays, reorders and unlinked entries', () => {
    const { lines, points } = chain(4, (i) => ({ i }));
    const at = (line: Buffer | string, after: ChainPoint) => {
      const result = checkLine(Buffer.from(line), after, key);
      return 'problem' in result ? result.problem : null;
    };
    // Edited content.
    expect(at(lines[1]!.toString().replace('"i":1', '"i":7'), points[1]!)).toEqual({ kind: 'edited', seq: 2 });
    // Rewritten with a recomputed hash but no key.
    const { line: other } = sealEntry({ ...record, data: { i: 9 } }, points[1]!, ts, Buffer.alloc(32, 1));
    expect(at(other, points[1]!)).toEqual({ kind: 'forged', seq: 2 });
    // Entry 2 deleted: entry 3 follows entry 1.
    expect(at(lines[2]!, points[1]!)).toEqual({ kind: 'seq-gap', seq: 3, expected: 2 });
    // Entry 1 again after entry 2.
    expect(at(lines[0]!, points[2]!)).toEqual({ kind: 'seq-back', seq: 1, expected: 3 });
    // Right seq, wrong predecessor (a chain of another ledger with the same key).
    const foreign = chain(2, () => ({ other: true }));
    expect(at(foreign.lines[1]!, points[1]!)).toEqual({ kind: 'unlinked', seq: 2 });
    expect(at('{"a":1}', points[0]!)).toMatchObject({ kind: 'malformed' });
    expect(at('not json', points[0]!)).toEqual({ kind: 'malformed', detail: 'not valid JSON' });
    expect(describeProblem({ kind: 'seq-gap', seq: 5, expected: 3 })).toMatch(/entries 3-4 were deleted/);
    expect(describeProblem({ kind: 'seq-gap', seq: 4, expected: 3 }, true)).toMatch(/reordered/);
    expect(describeProblem({ kind: 'edited', seq: 2 })).toMatch(/entry 2 was edited/);
  });

  it('verifyLines accepts the chain and catches a change to any byte, at every position', () => {
    const { lines, points } = chain(4, (i) => ({ i, text: 'quote " backslash \\ é' }));
    const file = Buffer.from(lines.map((l) => `${l.toString()}\n`).join(''));
    const sound = verifyLines(file, START, key);
    expect(sound.broken).toBeNull();
    expect(sound.cursor).toMatchObject({ point: points[4], line: 4, offset: file.length });
    for (let position = 0; position < file.length; position++) {
      for (const delta of [1, 0x20, 0x80, 0xff]) {
        const tampered = Buffer.from(file);
        tampered[position] = ((file[position] as number) + delta) % 256;
        const result = verifyLines(tampered, START, key);
        const whole = result.broken === null && result.cursor.point.seq === 4 && result.cursor.offset === file.length && result.cursor.point.hash === points[4]!.hash;
        expect(whole, `byte ${position} + ${delta}`).toBe(false);
      }
    }
  });
});
