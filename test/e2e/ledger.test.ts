import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendLedger } from '../../src/ledger/ledger.js';
import { shardPaths } from '../../src/shard/layout.js';
import { agence, git, json, repo, sandbox } from './helpers.js';

/** The ledger from the CLI: verify names each kind of tampering, repair, tail/show/count/search. */
const sb = sandbox();
const now = new Date('2026-11-24T12:00:00Z');

function shardWith(name: string, entries: number): { dir: string; file: string; lines: string[] } {
  const dir = repo(sb, name);
  expect(agence(sb, dir, ['^init']).code).toBe(0);
  const paths = shardPaths({ root: dir, mainRoot: dir });
  for (let i = 1; i <= entries; i++) {
    appendLedger(
      paths,
      { actor: i % 3 === 0 ? 'claude' : 'test@example.com', action: i % 2 ? 'guard.check' : 'command.run', subject: `git status ${i}`, tier: 'T0', decision: i % 5 === 0 ? 'deny' : 'allow', data: { n: i } },
      now,
    );
  }
  const file = join(dir, '.agence/nexus/ledger.jsonl');
  return { dir, file, lines: readFileSync(file, 'utf8').split('\n').slice(0, -1) };
}

const write = (file: string, lines: string[]) => writeFileSync(file, lines.map((l) => `${l}\n`).join(''));

describe('^ledger', () => {
  it('counts, tails, shows and searches entries', () => {
    const { dir } = shardWith('reader', 12);
    expect(json(agence(sb, dir, ['^ledger', 'count', '--json']))).toEqual({ entries: 12 });
    const tail = json<{ entries: { seq: number }[] }>(agence(sb, dir, ['^ledger', 'tail', '-n', '3', '--json']));
    expect(tail.entries.map((e) => e.seq)).toEqual([10, 11, 12]);
    expect(agence(sb, dir, ['^ledger', 'tail']).stdout.trim().split('\n')).toHaveLength(10);
    const shown = json<{ seq: number; subject: string; data: unknown }>(agence(sb, dir, ['^ledger', 'show', '5', '--json']));
    expect(shown).toMatchObject({ seq: 5, subject: 'git status 5', data: { n: 5 } });
    const byActor = json<{ matched: number; entries: { actor: string }[] }>(agence(sb, dir, ['^ledger', 'search', '--actor', 'claude', '--json']));
    expect(byActor.matched).toBe(4);
    expect(byActor.entries.every((e) => e.actor === 'claude')).toBe(true);
    const byText = json<{ matched: number; entries: { seq: number }[] }>(agence(sb, dir, ['^ledger', 'search', 'STATUS 1', '--action', 'guard', '--json']));
    expect(byText.entries.map((e) => e.seq)).toEqual([1, 11]);
    expect(agence(sb, dir, ['^ledger', 'search', 'deny']).stdout).toContain('git status 10');
  });

  it('refuses bad arguments with a one-line error', () => {
    const { dir } = shardWith('args', 2);
    for (const args of [
      ['^ledger', 'show', '0'],
      ['^ledger', 'show', 'abc'],
      ['^ledger', 'show', '9'],
      ['^ledger', 'tail', '-n', '-1'],
      ['^ledger', 'search'],
      ['^ledger', 'prove'],
      ['^ledger', 'prove', '3'],
      ['^ledger', 'prove', '1', '--from', '1'],
    ]) {
      const run = agence(sb, dir, args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    const outside = agence(sb, sb.dir, ['^ledger', 'verify']);
    expect(outside.code).toBe(1);
  });

  it('verifies a sound ledger, on one thread or several', () => {
    const { dir } = shardWith('sound', 30);
    for (const env of [{}, { AGENCE_LEDGER_PARALLEL_FROM: '0' }]) {
      const run = agence(sb, dir, ['^ledger', 'verify', '--json'], env);
      expect(run.code).toBe(0);
      expect(json(run)).toMatchObject({ ok: true, entries: 30, bytes: readFileSync(join(dir, '.agence/nexus/ledger.jsonl')).length, problem: null });
    }
  });

  // Each way of tampering, and what verify must say about it.
  const cases: { name: string; tamper: (lines: string[]) => string[]; line: number | null; message: RegExp }[] = [
    { name: 'an edit', tamper: (l) => l.map((x, i) => (i === 6 ? x.replace('git status 7', 'git status 8') : x)), line: 7, message: /entry 7 was edited/ },
    { name: 'a rewrite with a recomputed hash', tamper: (l) => l.map((x, i) => (i === 3 ? x.replace(/"mac":"[0-9a-f]{64}"/, `"mac":"${'0'.repeat(64)}"`) : x)), line: 4, message: /entry 4 has a wrong mac/ },
    { name: 'a deletion', tamper: (l) => l.filter((_, i) => i !== 4), line: 5, message: /entry 6 follows entry 4: entry 5 was deleted/ },
    { name: 'an insertion', tamper: (l) => [...l.slice(0, 5), l[2] as string, ...l.slice(5)], line: 6, message: /entry 3 comes again after entry 5: an entry was inserted/ },
    { name: 'a reorder', tamper: (l) => [...l.slice(0, 4), l[5] as string, l[4] as string, ...l.slice(6)], line: 5, message: /entry 6 stands where entry 5 belongs: entries were reordered/ },
    { name: 'a truncation', tamper: (l) => l.slice(0, 7), line: null, message: /ends at entry 7 but its head says 10: entries 8-10 were cut off \(truncation\)/ },
    { name: 'a corrupt line', tamper: (l) => l.map((x, i) => (i === 8 ? '{"seq":9,"garbage' : x)), line: 9, message: /line 9: corrupt line: not valid JSON/ },
    { name: 'a torn last line', tamper: (l) => [...l.slice(0, 9), (l[9] as string).slice(0, 40)], line: 10, message: /line 10: an incomplete last line/ },
  ];

  for (const c of cases) {
    it(`names ${c.name}`, () => {
      const { dir, file, lines } = shardWith(`t-${c.name.replace(/\W+/g, '-')}`, 10);
      const tampered = c.tamper(lines);
      if (c.name === 'a torn last line') writeFileSync(file, `${tampered.slice(0, -1).map((l) => `${l}\n`).join('')}${tampered.at(-1)}`);
      else write(file, tampered);
      // Single-threaded, and with the parallel verify forced on (it hands problems to the single scan).
      for (const env of [{}, { AGENCE_LEDGER_PARALLEL_FROM: '0' }]) {
        const run = agence(sb, dir, ['^ledger', 'verify', '--json'], env);
        expect(run.code).toBe(3);
        const verdict = json<{ ok: boolean; problem: { line: number | null; message: string } }>(run);
        expect(verdict.ok).toBe(false);
        expect(verdict.problem.line).toBe(c.line);
        expect(verdict.problem.message).toMatch(c.message);
      }
      expect(agence(sb, dir, ['^ledger', 'verify']).stdout).toMatch(c.message);
    });
  }

  it('a corrupt line blocks appends until repair moves the tail aside; nothing is deleted and the chain continues', () => {
    const { dir, file, lines } = shardWith('repair', 10);
    const paths = shardPaths({ root: dir, mainRoot: dir });
    write(file, lines.map((x, i) => (i === 5 ? x.replace('"n":6', '"n":66') : x)));
    expect(agence(sb, dir, ['^ledger', 'verify']).code).toBe(3);
    expect(() => appendLedger(paths, { actor: 'a', action: 'x', subject: '', decision: 'allow' }, now)).toThrow(/line 6 is bad .*appends are refused/);
    const repaired = agence(sb, dir, ['^ledger', 'repair', '--json']);
    expect(repaired.code).toBe(0);
    const result = json<{ repaired: boolean; quarantined: string; movedLines: number; entry: { seq: number } }>(repaired);
    expect(result).toMatchObject({ repaired: true, movedLines: 5, entry: { seq: 6 } });
    // Every byte of the bad tail is in the side file.
    expect(readFileSync(result.quarantined, 'utf8')).toBe(lines.slice(5).map((l, i) => `${i === 0 ? l.replace('"n":6', '"n":66') : l}\n`).join(''));
    expect(readdirSync(join(dir, '.agence/nexus')).some((f) => f.startsWith('ledger.jsonl.quarantine-'))).toBe(true);
    expect(json(agence(sb, dir, ['^ledger', 'verify', '--json']))).toMatchObject({ ok: true, entries: 6 });
    const repairEntry = json<{ action: string; data: { moved_lines: number } }>(agence(sb, dir, ['^ledger', 'show', '6', '--json']));
    expect(repairEntry).toMatchObject({ action: 'ledger.repair', data: { moved_lines: 5 } });
    expect(appendLedger(paths, { actor: 'a', action: 'x', subject: '', decision: 'allow' }, now).seq).toBe(7);
    expect(agence(sb, dir, ['^ledger', 'verify']).code).toBe(0);
    expect(agence(sb, dir, ['^ledger', 'repair']).stdout).toMatch(/nothing to repair/);
  });

  it('repair rebuilds a deleted head and records a truncation it cannot undo', () => {
    const { dir, file, lines } = shardWith('repair-head', 8);
    const head = join(dir, '.agence/nexus/ledger.head.json');
    writeFileSync(head, '');
    expect(agence(sb, dir, ['^ledger', 'verify']).stdout).toMatch(/head.json is not valid JSON/);
    expect(agence(sb, dir, ['^ledger', 'repair']).code).toBe(0);
    expect(agence(sb, dir, ['^ledger', 'verify']).code).toBe(0);
    write(file, readFileSync(file, 'utf8').split('\n').slice(0, 5));
    expect(agence(sb, dir, ['^ledger', 'verify']).stdout).toMatch(/truncation/);
    expect(json(agence(sb, dir, ['^ledger', 'repair', '--json']))).toMatchObject({ repaired: true, entry: { seq: 6 } });
    expect(json<{ data: { problem: string } }>(agence(sb, dir, ['^ledger', 'show', '6', '--json'])).data.problem).toMatch(/entries 6-9 were cut off/);
    expect(lines).toHaveLength(8);
  });

  it('publishes a signed root; proves inclusion; checks roots, proofs and that the log only grew', () => {
    const { dir } = shardWith('roots', 20);
    const paths = shardPaths({ root: dir, mainRoot: dir });
    const rootPath = join(dir, '.agence/organic/ledger-root.json');
    expect(agence(sb, dir, ['^ledger', 'root']).code).toBe(0);
    const root = JSON.parse(readFileSync(rootPath, 'utf8'));
    expect(root).toMatchObject({ schema: 1, tree_size: 20, consistency: null });
    expect(root.signer).toMatch(/^ssh-ed25519 /);
    const old = join(sb.dir, 'old-root.json');
    copyFileSync(rootPath, old);

    const proof = join(sb.dir, 'proof-7.json');
    writeFileSync(proof, agence(sb, dir, ['^ledger', 'prove', '7']).stdout);
    expect(JSON.parse(readFileSync(proof, 'utf8'))).toMatchObject({ type: 'inclusion', seq: 7, tree_size: 20 });
    const checked = agence(sb, dir, ['^ledger', 'check-root', rootPath, '--proof', proof]);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(/ok\s+root signature: signed by this shard's own key/);
    expect(checked.stdout).toMatch(/ok\s+inclusion: entry 7 is in the tree of 20 entries/);

    // A proof for another entry's text does not verify.
    const forged = JSON.parse(readFileSync(proof, 'utf8'));
    forged.entry = forged.entry.replace('git status 7', 'git status 9');
    writeFileSync(proof, JSON.stringify(forged));
    expect(agence(sb, dir, ['^ledger', 'check-root', rootPath, '--proof', proof]).code).toBe(3);

    // A changed root no longer matches its signature.
    const changed = join(sb.dir, 'changed-root.json');
    writeFileSync(changed, JSON.stringify({ ...root, tree_size: 19 }));
    const bad = agence(sb, dir, ['^ledger', 'check-root', changed]);
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/FAIL root signature: the signature does not match/);

    // The log grows: the new root carries a consistency proof from the old one.
    for (let i = 0; i < 13; i++) appendLedger(paths, { actor: 'a', action: 'x', subject: `more ${i}`, decision: 'allow' }, now);
    expect(agence(sb, dir, ['^ledger', 'root']).stdout).toMatch(/extends the previous root of 20 entries/);
    const grown = agence(sb, dir, ['^ledger', 'check-root', rootPath, '--old', old]);
    expect(grown.code).toBe(0);
    expect(grown.stdout).toMatch(/the log only grew from 20 to 33 entries \(proof from the proof the new root carries\)/);
    // A consistency proof from prove --from, checked on its own.
    const cproof = join(sb.dir, 'consistency.json');
    writeFileSync(cproof, agence(sb, dir, ['^ledger', 'prove', '--from', '20']).stdout);
    expect(agence(sb, dir, ['^ledger', 'check-root', rootPath, '--proof', cproof]).code).toBe(0);
    expect(agence(sb, dir, ['^ledger', 'verify']).code).toBe(0);

    // History rewritten: cut back, repaired, grown again. The new root does not extend the old.
    const file = join(dir, '.agence/nexus/ledger.jsonl');
    write(file, readFileSync(file, 'utf8').split('\n').slice(0, 15));
    expect(agence(sb, dir, ['^ledger', 'verify']).stdout).toMatch(/truncat/);
    expect(agence(sb, dir, ['^ledger', 'repair']).code).toBe(0);
    for (let i = 0; i < 25; i++) appendLedger(paths, { actor: 'a', action: 'x', subject: `other ${i}`, decision: 'allow' }, now);
    const rerooted = agence(sb, dir, ['^ledger', 'root']);
    expect(rerooted.stderr).toMatch(/does not extend the previous one/);
    const rewritten = agence(sb, dir, ['^ledger', 'check-root', rootPath, '--old', old]);
    expect(rewritten.code).toBe(3);
    expect(rewritten.stdout).toMatch(/FAIL consistency: the log did not only grow from 20 to 41 entries/);
  });

  it('trusts another shard\'s root only when trust.yaml lists its key', () => {
    const a = shardWith('trust-a', 3);
    const b = shardWith('trust-b', 5);
    expect(agence(sb, b.dir, ['^ledger', 'root']).code).toBe(0);
    const bRoot = join(b.dir, '.agence/organic/ledger-root.json');
    const untrusted = agence(sb, a.dir, ['^ledger', 'check-root', bRoot]);
    expect(untrusted.code).toBe(3);
    expect(untrusted.stdout).toMatch(/is not listed in codex\/trust.yaml/);
    const signed = JSON.parse(readFileSync(bRoot, 'utf8'));
    const trust = join(a.dir, '.agence/codex/trust.yaml');
    writeFileSync(trust, readFileSync(trust, 'utf8').replace('shards: []', `shards:\n  - { id: "${signed.shard}", name: trust-b, key: "${signed.signer} trust-b" }`));
    const trusted = agence(sb, a.dir, ['^ledger', 'check-root', bRoot]);
    expect(trusted.stdout).toMatch(/signed by shard trust-b, whose key codex\/trust.yaml lists/);
    expect(trusted.code).toBe(0);
    expect(existsSync(join(a.dir, '.agence/organic/ledger-root.json'))).toBe(false);
    git(sb, a.dir, ['status', '--short']);
  });
});
