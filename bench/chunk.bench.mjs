// The code index on a large real codebase none of us wrote: 5,000 source files taken from the
// packages installed on this machine (this project's node_modules, npm's own, Python's standard
// library), committed into a temp git repository. In one run: the full index (parse MB/s and
// chunks/s), a commit of 10 changed files, the no-change re-index against `node -e 0`, and query
// latency next to `git grep -n` on the same tree.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { CLI, interleaved, sandbox, sh } from './lib.mjs';

export const name = 'chunk';

const FILES = 5000;
const SOURCE = /\.(?:[cm]?js|[cm]?ts|tsx|py|md)$/;

/** Source files under `root`, in a stable order, at most `limit`. */
function sources(root, limit, into = []) {
  if (!existsSync(root)) return into;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (into.length >= limit) return;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && SOURCE.test(entry.name) && statSync(path).size < 1024 * 1024) into.push(path);
    }
  };
  walk(root);
  return into;
}

function corpus(dir, env) {
  const repo = join(dir, 'corpus');
  mkdirSync(repo);
  sh('git', ['init', '-q', repo], { env });
  const roots = [resolve(import.meta.dirname, '../node_modules'), '/usr/lib/node_modules/npm', '/usr/lib/python3', ...readdirSync('/usr/lib').filter((d) => /^python3\.\d+$/.test(d)).map((d) => `/usr/lib/${d}`)];
  const picked = [];
  for (const root of roots) {
    const before = picked.length;
    sources(root, FILES, picked);
    for (const file of picked.slice(before)) {
      const target = join(repo, 'src', root.replace(/^\//, '').replace(/node_modules/g, 'nm'), relative(root, file).replace(/node_modules/g, 'nm'));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(file, target);
    }
  }
  sh(process.execPath, [CLI, '^init'], { cwd: repo, env });
  // Every file of the corpus counts: the packages' dist/ and build/ folders are the code here.
  const manifestFile = join(repo, '.agence/agence.json');
  writeFileSync(manifestFile, JSON.stringify({ ...JSON.parse(readFileSync(manifestFile, 'utf8')), chunk: { default_excludes: false, exclude: ['.agence/**'] } }, null, 2));
  sh('git', ['add', '-A'], { cwd: repo, env });
  sh('git', ['commit', '-qm', 'corpus'], { cwd: repo, env });
  return { repo, files: picked.length };
}

function timed(args, options) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [CLI, ...args], { ...options, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`agence ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { ms, stats: JSON.parse(result.stdout) };
}

const single = (rowName, ms, extra = {}) => ({ name: rowName, runs: 1, median_ms: ms, p90_ms: ms, baseline: null, ratio: null, target: null, ...extra });

export function run({ rounds }) {
  const { dir, env } = sandbox();
  const { repo, files } = corpus(dir, env);
  const at = { cwd: repo, env };

  const full = timed(['^chunk', 'index', '--json'], at);
  const mb = full.stats.bytes / 1024 / 1024;
  const parseRate = `${(mb / full.stats.parse_seconds).toFixed(2)} MB/s, ${Math.round(full.stats.chunks / full.stats.parse_seconds)} chunks/s`;
  const indexRate = `${(mb / (full.ms / 1000)).toFixed(2)} MB/s`;

  // A commit touching 10 files: only their blobs are read again.
  // Python or Markdown files (never minified, so each is parsed): which the corpus has depends on the machine.
  const tracked = sh('git', ['ls-files', 'src/*.py', 'src/*.md'], at).split('\n').filter(Boolean).slice(0, 10);
  for (const file of tracked) writeFileSync(join(repo, file), `${readFileSync(join(repo, file), 'utf8')}\n\n# changed for the benchmark\n`);
  sh('git', ['commit', '-qam', 'ten changes'], at);
  const incremental = timed(['^chunk', 'index', '--json'], at);
  if (incremental.stats.parsed !== tracked.length) throw new Error(`expected ${tracked.length} files parsed after the commit, got ${incremental.stats.parsed}`);
  // git's index was just written: wait past the racy window so the no-change runs can trust its stat.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1100);
  timed(['^chunk', 'index', '--json'], at);
  const settled = timed(['^chunk', 'index', '--json'], at);
  if (settled.stats.parsed !== 0) throw new Error(`the no-change run parsed ${settled.stats.parsed} files`);

  const node = process.execPath;
  const query = 'parse the configuration file';
  const cases = [
    { name: 'node -e 0', cmd: node, args: ['-e', '0'], options: at },
    { name: `chunk index, no change @${files}`, cmd: node, args: [CLI, '^chunk', 'index'], options: at, target: 1.6 },
    { name: 'git grep -n configuration', cmd: 'git', args: ['grep', '-n', '-i', '-e', 'configuration', '--', '.'], options: at },
    { name: `recall --code "${query}"`, cmd: node, args: [CLI, '^recall', '--code', query], options: at, pair: 'git grep -n configuration' },
    { name: 'symbols parse*', cmd: node, args: [CLI, '^symbols', 'parse*'], options: at, pair: 'git grep -n configuration' },
    { name: 'chunk show', cmd: node, args: [CLI, '^chunk', 'show', `${tracked[0]}:5`], options: at, pair: 'git grep -n configuration' },
  ];
  const results = interleaved(cases, { rounds });
  rmSync(dir, { recursive: true, force: true }); // 5,000 files and their index: not left in /tmp
  const median = Object.fromEntries(results.map((r) => [r.name, r.median_ms]));
  return [
    single(`full index: ${files} files, ${mb.toFixed(1)} MB, ${full.stats.chunks} chunks`, full.ms, { stats: full.stats, index_rate: indexRate }),
    single(`parse: ${parseRate}`, full.stats.parse_seconds * 1000, { mb_per_s: mb / full.stats.parse_seconds, chunks_per_s: full.stats.chunks / full.stats.parse_seconds }),
    single(`commit of 10 files: ${incremental.stats.parsed} parsed`, incremental.ms, { stats: incremental.stats }),
    ...results.map((r, i) => {
      const c = cases[i];
      const baseline = c.pair ?? 'node -e 0';
      return { ...r, baseline, ratio: i === 0 || c.name.startsWith('git grep') ? null : r.median_ms / median[baseline], target: c.target ?? null };
    }),
  ];
}
