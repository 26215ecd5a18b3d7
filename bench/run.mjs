// `npm run bench`: run every bench/*.bench.mjs, print one table, write bench/results/<name>.json.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

const dir = import.meta.dirname;
const only = process.argv[2];
const rounds = Number(process.env.BENCH_ROUNDS ?? 30);
const files = readdirSync(dir).filter((f) => f.endsWith('.bench.mjs') && (!only || f.startsWith(only))).sort();
mkdirSync(join(dir, 'results'), { recursive: true });

const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
console.log(`${pad('bench', 10)} ${pad('case', 32)} ${lpad('median ms', 10)} ${lpad('p90 ms', 8)} ${lpad('ratio', 7)} ${lpad('target', 7)}  ${pad('against', 12)} verdict`);
let missed = 0;
for (const file of files) {
  const bench = await import(join(dir, file));
  const rows = await bench.run({ rounds });
  for (const r of rows) {
    // A ratio without a target is reported for comparison, not judged.
    const verdict = r.target == null ? (r.ratio == null ? 'baseline' : 'reported') : r.ratio <= r.target ? 'ok' : 'MISSED';
    if (verdict === 'MISSED') missed++;
    console.log(
      `${pad(bench.name, 10)} ${pad(r.name, 32)} ${lpad(r.median_ms.toFixed(1), 10)} ${lpad(r.p90_ms.toFixed(1), 8)} ${lpad(r.ratio == null ? '' : `${r.ratio.toFixed(2)}x`, 7)} ${lpad(r.target == null ? '' : `${r.target}x`, 7)}  ${pad(r.ratio == null ? '' : r.baseline, 12)} ${verdict}`,
    );
  }
  const record = { bench: bench.name, date: new Date().toISOString(), node: process.version, cpus: cpus().length, rounds, rows };
  writeFileSync(join(dir, 'results', `${bench.name}.json`), `${JSON.stringify(record, null, 2)}\n`);
}
console.log(missed === 0 ? '\nAll targets met.' : `\n${missed} target(s) missed (ratios are against the baseline measured in the same run).`);
