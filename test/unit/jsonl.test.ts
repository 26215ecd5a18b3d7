import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { appendLine, readLineAt, scanJsonl } from '../../src/store/jsonl.js';

const dir = mkdtempSync(join(tmpdir(), 'agence-jsonl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `f${n++}.jsonl`);
const now = new Date('2026-11-24T10:00:00Z');
const identity = (v: unknown) => v;

// Records with text that JSON must escape: newlines, quotes, backslashes, unicode.
const record = fc.record({ id: fc.nat(), text: fc.string({ unit: 'binary', maxLength: 200 }), tags: fc.array(fc.string(), { maxLength: 3 }) });

describe('JSONL store', () => {
  it('reads back every appended record, at its location and by scanning', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 20 }), (records) => {
        const file = fresh();
        const locations = records.map((r) => appendLine(file, JSON.stringify(r), now));
        expect(scanJsonl(file, identity).lines.map((l) => l.value)).toEqual(records);
        locations.forEach((at, i) => expect(JSON.parse(readLineAt(file, at) as string)).toEqual(records[i]));
      }),
      { numRuns: 50 },
    );
  });

  it('after a crash mid-append keeps every complete record, and the next append quarantines the torn tail', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 2, maxLength: 10 }), fc.double({ min: 0, max: 1, noNaN: true }), (records, where) => {
        const file = fresh();
        const locations = records.map((r) => appendLine(file, JSON.stringify(r), now));
        const last = locations.at(-1) as { offset: number; length: number };
        const cut = last.offset + Math.max(1, Math.floor(where * last.length)); // inside the last line
        truncateSync(file, cut);
        const scanned = scanJsonl(file, identity);
        expect(scanned.lines.map((l) => l.value)).toEqual(records.slice(0, -1));
        expect(scanned.partialTail).toEqual({ offset: last.offset, length: cut - last.offset });
        const next = appendLine(file, JSON.stringify({ after: true }), now);
        expect(next.quarantined).not.toBeNull();
        expect(readFileSync(next.quarantined as string).length).toBe(cut - last.offset);
        expect(scanJsonl(file, identity).lines.map((l) => l.value)).toEqual([...records.slice(0, -1), { after: true }]);
      }),
      { numRuns: 50 },
    );
  });

  it('reports a corrupt line in the middle and keeps the records around it', () => {
    const file = fresh();
    appendLine(file, JSON.stringify({ a: 1 }), now);
    appendFileSync(file, '{"broken": \n');
    appendFileSync(file, Buffer.from([0xff, 0xfe, 0x0a]));
    appendLine(file, JSON.stringify({ b: 2 }), now);
    const scanned = scanJsonl(file, identity);
    expect(scanned.lines.map((l) => l.value)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(scanned.bad.map((b) => b.line)).toEqual([2, 3]);
    expect(scanned.lines[1]?.line).toBe(4);
  });

  it('scans from an offset, for catching up', () => {
    const file = fresh();
    appendLine(file, '{"a":1}', now);
    const { size } = scanJsonl(file, identity);
    appendLine(file, '{"b":2}', now);
    expect(scanJsonl(file, identity, size).lines.map((l) => l.value)).toEqual([{ b: 2 }]);
  });

  it('refuses a location that is not a whole line', () => {
    const file = fresh();
    writeFileSync(file, '{"a":1}\n{"b":2}\n');
    expect(readLineAt(file, { offset: 0, length: 7 })).toBe('{"a":1}');
    expect(readLineAt(file, { offset: 0, length: 6 })).toBeNull();
    expect(readLineAt(join(dir, 'missing'), { offset: 0, length: 1 })).toBeNull();
  });
});
