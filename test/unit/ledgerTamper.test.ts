import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { appendLedger, headFile, ledgerFile } from '../../src/ledger/ledger.js';
import { verifyLedger } from '../../src/ledger/ledgerVerify.js';
import { shardPaths } from '../../src/shard/layout.js';

/** Every single-byte change to a real ledger file is caught by verify. */
const dir = mkdtempSync(join(tmpdir(), 'agence-tamper-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, '.agence', 'nexus'), { recursive: true });
const paths = shardPaths({ root: dir, mainRoot: dir });
const now = new Date('2026-11-24T12:00:00Z');
for (let i = 1; i <= 25; i++) {
  appendLedger(
    paths,
    // Text that JSON escapes, non-ASCII, nested data: the bytes a change can land in vary.
    { actor: i % 2 ? 'claude' : 'ada@example.com', action: 'guard.check', subject: `rm -rf "/tmp/x${i}" \\ é ✓ \n`, tier: i % 3 ? 'T2' : null, decision: 'ask', data: { i, list: [i, 'x'], nested: { ok: i % 2 === 0, nothing: null } } },
    now,
  );
}
const original = readFileSync(ledgerFile(paths));
const head = readFileSync(headFile(paths));

describe('ledger tamper detection', () => {
  it('the untouched ledger verifies', () => {
    expect(verifyLedger(paths, null)).toMatchObject({ ok: true, entries: 25 });
  });

  it('every single-byte change (any position, any other byte value) makes verify fail', () => {
    fc.assert(
      fc.property(fc.nat({ max: original.length - 1 }), fc.integer({ min: 1, max: 255 }), (position, delta) => {
        const tampered = Buffer.from(original);
        tampered[position] = ((original[position] as number) + delta) % 256;
        writeFileSync(ledgerFile(paths), tampered);
        writeFileSync(headFile(paths), head);
        const verdict = verifyLedger(paths, null);
        expect(verdict.ok, `byte ${position} changed by ${delta}`).toBe(false);
        // The finding points at the line holding the byte, or (for the final newline) at the end.
        const lineOfByte = original.subarray(0, position).filter((b) => b === 0x0a).length + 1;
        if (verdict.problem?.line !== null) expect(verdict.problem?.line).toBeLessThanOrEqual(lineOfByte);
      }),
      { numRuns: 800 },
    );
    writeFileSync(ledgerFile(paths), original);
    writeFileSync(headFile(paths), head);
    expect(verifyLedger(paths, null).ok).toBe(true);
  });
});
