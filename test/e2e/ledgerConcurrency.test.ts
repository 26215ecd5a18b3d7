import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { appendLedger } from '../../src/ledger/ledger.js';
import { shardPaths } from '../../src/shard/layout.js';
import { agence, json, repo, sandbox } from './helpers.js';

/** Appends from several processes at once, and appenders killed at random: the chain holds. */
const sb = sandbox();
const appender = join(sb.dir, 'appender.mjs');

beforeAll(async () => {
  // A small program that appends N entries through the real append API.
  const lib = join(sb.dir, 'ledger-lib.mjs');
  await build({
    stdin: { contents: "export { appendLedger } from './src/ledger/ledger.ts'; export { shardPaths } from './src/shard/layout.ts';", resolveDir: resolve(import.meta.dirname, '../..'), loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: lib,
    logLevel: 'error',
  });
  writeFileSync(
    appender,
    `import { appendLedger, shardPaths } from ${JSON.stringify(lib)};
const [root, who, count] = process.argv.slice(2);
const paths = shardPaths({ root, mainRoot: root });
for (let i = 0; i < Number(count); i++) appendLedger(paths, { actor: who, action: 'test.append', subject: who + ' ' + i, decision: 'allow', data: { i } }, new Date());
`,
  );
});

function run(root: string, who: string, count: number) {
  const child = spawn(process.execPath, [appender, root, who, String(count)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((ok) => child.on('close', (code, signal) => ok({ code, signal, stderr })));
  return { child, done };
}

describe('ledger appends under concurrency and crashes', () => {
  it('4 processes appending 150 entries each at once: 600 entries, one chain, each entry once', async () => {
    const dir = repo(sb, 'concurrent');
    expect(agence(sb, dir, ['^init']).code).toBe(0);
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((who) => run(dir, who, 150).done));
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });
    const verdict = json<{ ok: boolean; entries: number }>(agence(sb, dir, ['^ledger', 'verify', '--json']));
    expect(verdict).toMatchObject({ ok: true, entries: 600 });
    const subjects = readFileSync(join(dir, '.agence/nexus/ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).subject);
    expect(new Set(subjects).size).toBe(600);
  });

  it('appenders killed at random points: the ledger still verifies and the next append carries on', async () => {
    const dir = repo(sb, 'killed');
    expect(agence(sb, dir, ['^init']).code).toBe(0);
    for (let round = 0; round < 6; round++) {
      const writers = ['k1', 'k2', 'k3'].map((who) => run(dir, `${who}-${round}`, 400));
      await new Promise((ok) => setTimeout(ok, 150 + round * 40));
      for (const w of writers) w.child.kill('SIGKILL');
      await Promise.all(writers.map((w) => w.done));
    }
    // The next append recovers whatever the kills left (a lagging head, a torn line, a stale lock).
    const paths = shardPaths({ root: dir, mainRoot: dir });
    const entry = appendLedger(paths, { actor: 'after', action: 'test.append', subject: 'after the kills', decision: 'allow' }, new Date());
    const verdict = json<{ ok: boolean; entries: number; problem: unknown }>(agence(sb, dir, ['^ledger', 'verify', '--json']));
    expect(verdict).toMatchObject({ ok: true, problem: null, entries: entry.seq });
    expect(entry.seq).toBeGreaterThan(1);
    // Torn lines, if any, were moved aside, not deleted.
    const sides = readdirSync(join(dir, '.agence/nexus')).filter((f) => f.startsWith('ledger.jsonl.partial-'));
    for (const side of sides) expect(readFileSync(join(dir, '.agence/nexus', side), 'utf8')).not.toContain('\n');
  });
});
