// Knowledge at scale: corpora of 1,000, 10,000 and 100,000 Markdown documents of real text (the
// .md files in node_modules, cut into sections and repeated with variations), generated once
// into a temp dir. Index build throughput (MB/s), then ^recall next to `grep -ril` on the same
// files, and a command at 10k when nothing changed, against `node -e 0`, in one run.
import { linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLI, interleaved, sandbox, sh } from './lib.mjs';

export const name = 'knowledge';
// BENCH_KNOWLEDGE_SIZES=1000,10000 for a quick run; the targets compare the smallest, the middle and the largest.
const SIZES = (process.env.BENCH_KNOWLEDGE_SIZES ?? '1000,10000,100000').split(',').map(Number);
const label = (count) => `${count / 1000}k`;
const PER_FOLDER = 100;
const QUERY = ['stream', 'buffer'];

function markdownFiles(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) markdownFiles(full, out);
    else if (entry.isFile() && entry.name.endsWith('.md')) out.push(full);
  }
  return out;
}

/** Sections of real documentation: each heading starts one; tiny ones are dropped. */
function sections() {
  const root = resolve(import.meta.dirname, '../node_modules');
  const out = [];
  for (const file of markdownFiles(root)) {
    const text = readFileSync(file, 'utf8');
    for (const part of text.split(/\n(?=#{1,3} )/)) if (part.length > 300) out.push(part.slice(0, 6000));
  }
  return out;
}

/** A small deterministic PRNG, so every run generates the same corpus. */
function prng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** Document i: a section, its paragraphs shuffled, a variant line and a few words from elsewhere. */
function document(i, parts, vocabulary) {
  const random = prng(i + 1);
  const source = parts[i % parts.length];
  const paragraphs = source.split(/\n\n+/);
  for (let k = paragraphs.length - 1; k > 1; k--) {
    const j = 1 + Math.floor(random() * k);
    [paragraphs[k], paragraphs[j]] = [paragraphs[j], paragraphs[k]];
  }
  const extra = Array.from({ length: 12 }, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(' ');
  const title = (paragraphs[0] ?? 'untitled').split('\n')[0].replace(/^#+\s*/, '').replace(/["\\]/g, '').slice(0, 70) || 'untitled';
  const front = `---\nid: bench-${i}\ntype: doc\ntitle: "${title} (variant ${i})"\ntags: [bench, v${i % 50}]\nlabel: internal\ncreated: 2026-11-01T00:00:00Z\nupdated: 2026-11-01T00:00:00Z\n---\n`;
  return `${front}${paragraphs.join('\n\n')}\n\nVariant ${i}: ${extra}\n`;
}

const folderOf = (i) => `g${String(Math.floor(i / PER_FOLDER)).padStart(4, '0')}`;

/** The largest corpus is written once; the smaller ones are hard links to its first documents (bench/mcp.bench.mjs uses it too). */
export function corpora(dir, largest = SIZES[SIZES.length - 1]) {
  const parts = sections();
  const vocabulary = [...new Set(parts.join(' ').toLowerCase().match(/[a-z]{5,12}/g))].slice(0, 5000);
  const master = join(dir, 'corpus');
  let bytes = 0;
  for (let i = 0; i < largest; i++) {
    if (i % PER_FOLDER === 0) mkdirSync(join(master, folderOf(i)), { recursive: true });
    const text = document(i, parts, vocabulary);
    bytes += Buffer.byteLength(text);
    writeFileSync(join(master, folderOf(i), `d${i}.md`), text);
  }
  return { master, sections: parts.length, bytesOf: (n) => (n === largest ? bytes : sizeOf(master, n)) };
}

function sizeOf(master, n) {
  let total = 0;
  for (let i = 0; i < n; i++) total += statSync(join(master, folderOf(i), `d${i}.md`)).size;
  return total;
}

export function shard(dir, env, master, count) {
  const root = join(dir, `k${count}`);
  sh('git', ['init', '-q', root], { env });
  sh(process.execPath, [CLI, '^init'], { cwd: root, env });
  const docs = join(root, '.agence/synthetic/docs');
  for (let i = 0; i < count; i++) {
    if (i % PER_FOLDER === 0) mkdirSync(join(docs, folderOf(i)), { recursive: true });
    linkSync(join(master, folderOf(i), `d${i}.md`), join(docs, folderOf(i), `d${i}.md`));
  }
  return { root, docs };
}

export function run({ rounds }) {
  const { dir, env } = sandbox();
  const node = process.execPath;
  const started = Date.now();
  const corpus = corpora(dir);
  const generated = (Date.now() - started) / 1000;
  const shards = {};
  const builds = [];
  for (const count of SIZES) {
    const s = shard(dir, env, corpus.master, count);
    const t = process.hrtime.bigint();
    sh(node, [CLI, '^reindex', '--full'], { cwd: s.root, env });
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    const mb = corpus.bytesOf(count) / 1024 / 1024;
    builds.push({ documents: count, megabytes: Math.round(mb * 10) / 10, seconds: Math.round(seconds * 100) / 100, mb_per_s: Math.round((mb / seconds) * 10) / 10 });
    // Once more, so the stored folder stamp is settled (a walk right after writing is racy by design).
    sh(node, [CLI, '^reindex'], { cwd: s.root, env });
    shards[count] = s;
  }
  const at = (count) => ({ cwd: shards[count].root, env });
  const largest = SIZES[SIZES.length - 1];
  const middle = SIZES[Math.floor(SIZES.length / 2)];
  const cases = [
    { name: 'node -e 0', cmd: node, args: ['-e', '0'], options: at(1_000) },
    ...SIZES.map((count) => ({ name: `grep -ril @${label(count)}`, cmd: 'grep', args: ['-ril', QUERY[0], shards[count].docs], options: at(count) })),
    ...SIZES.map((count) => ({
      name: `recall @${label(count)}`,
      cmd: node,
      args: [CLI, '^recall', QUERY.join(' ')],
      options: at(count),
      ...(count === largest ? { pair: `recall @${label(SIZES[0])}`, target: 1.5 } : {}),
    })),
    { name: `recall vs grep @${label(largest)}`, alias: `recall @${label(largest)}`, pair: `grep -ril @${label(largest)}`, target: 1 },
    { name: `show @${label(SIZES[0])}`, cmd: node, args: [CLI, '^show', 'bench-7'], options: at(SIZES[0]) },
    { name: `show @${label(middle)} (no change)`, cmd: node, args: [CLI, '^show', 'bench-7'], options: at(middle), target: 1.5 },
  ];
  const measured = cases.filter((c) => !c.alias);
  let results;
  try {
    results = interleaved(measured, { rounds, warmup: 2 });
  } finally {
    // About a gigabyte at 100k: not left in /tmp, unless BENCH_KEEP=1 (to look into it).
    if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
    else console.log(`knowledge: corpora and shards kept in ${dir}`);
  }
  const median = Object.fromEntries(results.map((r) => [r.name, r.median_ms]));
  const rows = cases.map((c) => {
    const r = c.alias ? { ...results.find((x) => x.name === c.alias), name: c.name } : results.find((x) => x.name === c.name);
    const baseline = c.pair ?? 'node -e 0';
    return { ...r, baseline, ratio: c.target ? r.median_ms / median[baseline] : null, target: c.target ?? null };
  });
  console.log(`knowledge: ${corpus.sections} sections of node_modules docs -> ${largest} documents generated in ${generated.toFixed(1)} s`);
  // One build per size (a full rebuild is minutes at 100k, not a thing to repeat): throughput rows.
  const buildRows = builds.map((b) => ({
    name: `index build @${label(b.documents)}: ${b.mb_per_s} MB/s`,
    runs: 1,
    median_ms: b.seconds * 1000,
    p90_ms: b.seconds * 1000,
    baseline: null,
    ratio: null,
    target: null,
    megabytes: b.megabytes,
    mb_per_s: b.mb_per_s,
  }));
  return [...buildRows, ...rows];
}
