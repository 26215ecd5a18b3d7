import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GENESIS, checkLine, type ChainPoint } from '../../src/core/ledgerChain.js';
import { appendLedger, headFile, ledgerFile } from '../../src/ledger/ledger.js';
import { hmacKey } from '../../src/shard/keys.js';
import { shardPaths } from '../../src/shard/layout.js';

const dir = mkdtempSync(join(tmpdir(), 'agence-ledger-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function freshShard() {
  const root = join(dir, `s${n++}`);
  mkdirSync(join(root, '.agence', 'nexus'), { recursive: true });
  return shardPaths({ root, mainRoot: root });
}
const now = new Date('2026-11-24T10:00:00Z');
const rec = (i: number) => ({ actor: 'user:test@example.com', action: 'command.run', subject: `ls ${i}`, tier: 'T0' as const, decision: 'allow', data: { i } });

describe('appendLedger', () => {
  it('appends chained, MACed entries and keeps the head in step', () => {
    const paths = freshShard();
    const entries = [0, 1, 2].map((i) => appendLedger(paths, rec(i), now));
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    const lines = readFileSync(ledgerFile(paths), 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    let point: ChainPoint = GENESIS;
    const key = hmacKey(paths);
    for (const line of lines) {
      const result = checkLine(Buffer.from(line), point, key);
      expect(result).toHaveProperty('ok');
      if ('ok' in result) point = result.ok;
    }
    const head = JSON.parse(readFileSync(headFile(paths), 'utf8'));
    expect(head).toMatchObject({ seq: 3, hash: entries[2]!.hash, broken: null });
  });

  it('refuses to append to a truncated ledger, an edited last entry, or an edited head', () => {
    const paths = freshShard();
    for (let i = 0; i < 3; i++) appendLedger(paths, rec(i), now);
    const file = ledgerFile(paths);
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    writeFileSync(file, `${lines.slice(0, 2).join('\n')}\n`);
    expect(() => appendLedger(paths, rec(9), now)).toThrow(/truncated/);
    writeFileSync(file, text.replace('"subject":"ls 2"', '"subject":"ls 7"'));
    expect(() => appendLedger(paths, rec(9), now)).toThrow(/last entry \(3\) does not match the head/);
    writeFileSync(file, text);
    const head = readFileSync(headFile(paths), 'utf8');
    writeFileSync(headFile(paths), head.replace('"seq":3', '"seq":2'));
    expect(() => appendLedger(paths, rec(9), now)).toThrow(/wrong mac/);
    writeFileSync(headFile(paths), head);
    expect(appendLedger(paths, rec(3), now).seq).toBe(4);
  });

  it('takes in an entry whose head update was lost, and moves a torn line aside', () => {
    const paths = freshShard();
    appendLedger(paths, rec(0), now);
    const head = readFileSync(headFile(paths), 'utf8');
    appendLedger(paths, rec(1), now);
    writeFileSync(headFile(paths), head); // as if the process died before moving the head
    appendFileSync(ledgerFile(paths), '{"seq":3,"ts":"20'); // and a later append was torn
    expect(appendLedger(paths, rec(2), now).seq).toBe(3);
    expect(readFileSync(ledgerFile(paths), 'utf8').split('\n').length).toBe(4);
  });

  it('refuses when the head is missing but the ledger is not empty', () => {
    const paths = freshShard();
    appendLedger(paths, rec(0), now);
    rmSync(headFile(paths));
    expect(() => appendLedger(paths, rec(1), now)).toThrow(/head.json is missing/);
  });
});
