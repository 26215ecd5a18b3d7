// The ledger: append rate (in-process, the API every decision goes through) on an empty ledger
// and on one of 1,000,000 entries, and `agence ^ledger verify` over those 1,000,000 entries
// against `sha256sum` over the same file, interleaved in the same run.
import { writeFileSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { CLI, interleaved, sandbox, sh } from './lib.mjs';

export const name = 'ledger';
const ENTRIES = Number(process.env.BENCH_LEDGER_ENTRIES ?? 1_000_000);

/** The ledger code itself, bundled from src/ for in-process use. */
async function ledgerLib(dir) {
  const outfile = join(dir, 'ledger-lib.mjs');
  await build({
    stdin: { contents: "export * from './src/core/ledgerChain.ts'; export { appendLedger } from './src/ledger/ledger.ts'; export { shardPaths } from './src/shard/layout.ts';", resolveDir: resolve(import.meta.dirname, '..'), loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile,
    logLevel: 'error',
  });
  return import(outfile);
}

function shard(dir, env, label) {
  const root = join(dir, label);
  sh('git', ['init', '-q', root], { env });
  sh(process.execPath, [CLI, '^init'], { cwd: root, env });
  sh(process.execPath, [CLI, '^ledger', 'verify'], { cwd: root, env }); // creates the ledger key
  return root;
}

const decision = (i) => ({ actor: i % 3 ? 'claude' : 'ada@example.com', action: 'guard.check', subject: `git log --oneline -${i % 50}`, tier: 'T1', decision: 'allow', data: { exit: 0, duration_ms: i % 1000 } });

/** Write `count` entries straight into the ledger and its head, with the ledger's own sealing code. */
function generate(lib, root, count) {
  const key = Buffer.from(readFileSync(join(root, '.agence/hermetic/keys/ledger-hmac.key'), 'utf8').trim(), 'hex');
  const parts = [];
  let point = lib.GENESIS;
  let size = 0;
  let offset = 0;
  const start = new Date('2026-01-01T00:00:00Z').getTime();
  for (let i = 0; i < count; i++) {
    const { entry, line } = lib.sealEntry(decision(i), point, new Date(start + i * 1000).toISOString(), key);
    point = { seq: entry.seq, hash: entry.hash };
    offset = size;
    size += Buffer.byteLength(line) + 1;
    parts.push(`${line}\n`);
  }
  writeFileSync(join(root, '.agence/nexus/ledger.jsonl'), parts.join(''));
  writeFileSync(join(root, '.agence/nexus/ledger.head.json'), `${JSON.stringify(lib.sealHead(key, { seq: point.seq, hash: point.hash, size, offset, broken: null }))}\n`);
}

/** Median and p90 milliseconds per append, over batches of appends. */
function appendRate(lib, root, batches, perBatch) {
  const paths = lib.shardPaths({ root, mainRoot: root });
  const times = [];
  for (let b = 0; b < batches; b++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i++) lib.appendLedger(paths, decision(i), new Date());
    times.push(Number(process.hrtime.bigint() - t) / 1e6 / perBatch);
  }
  times.sort((x, y) => x - y);
  return { runs: batches * perBatch, median_ms: times[Math.floor(batches / 2)], p90_ms: times[Math.min(batches - 1, Math.floor(batches * 0.9))] };
}

export async function run({ rounds }) {
  const { dir, env } = sandbox();
  const lib = await ledgerLib(dir);
  const empty = shard(dir, env, 'empty');
  const big = shard(dir, env, 'big');
  generate(lib, big, ENTRIES);
  const file = join(big, '.agence/nexus/ledger.jsonl');
  const mb = statSync(file).size / 1e6;

  const verifyRounds = Math.max(3, Math.min(rounds, 7));
  const [sha, verify] = interleaved(
    [
      { name: `sha256sum ${mb.toFixed(0)} MB`, cmd: 'sha256sum', args: [file], options: { env } },
      { name: `^ledger verify ${ENTRIES / 1e6}M entries`, cmd: process.execPath, args: [CLI, '^ledger', 'verify'], options: { cwd: big, env } },
    ],
    { rounds: verifyRounds, warmup: 1 },
  );
  // Appends on the big ledger after verify, which must not have changed it.
  const atEmpty = appendRate(lib, empty, 20, 50);
  const atBig = appendRate(lib, big, 20, 50);
  const mbps = (r) => Number((mb / (r.median_ms / 1000)).toFixed(1));
  return [
    { ...sha, baseline: null, ratio: null, target: null, mb_per_s: mbps(sha) },
    // Time ratio: at most 1/0.3 means at least 0.3x sha256sum's MB/s.
    { ...verify, baseline: sha.name, ratio: verify.median_ms / sha.median_ms, target: 3.33, mb_per_s: mbps(verify), throughput_vs_sha256sum: Number((sha.median_ms / verify.median_ms).toFixed(2)) },
    { name: 'append @0 (ms each)', ...atEmpty, baseline: null, ratio: null, target: null, appends_per_s: Math.round(1000 / atEmpty.median_ms) },
    { name: `append @${ENTRIES / 1e6}M (ms each)`, ...atBig, baseline: 'append @0 (ms each)', ratio: atBig.median_ms / atEmpty.median_ms, target: 1.5, appends_per_s: Math.round(1000 / atBig.median_ms) },
  ];
}
