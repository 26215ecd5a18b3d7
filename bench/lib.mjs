// Shared helpers for benchmarks: real processes, timed side by side against a baseline.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CLI = resolve(import.meta.dirname, '../dist/agence.cjs');

/**
 * A private HOME and git identity, so benchmarks never touch the user's registry; only PATH is
 * inherited, so machine-wide Node settings (NODE_OPTIONS, NODE_EXTRA_CA_CERTS) weigh on neither side.
 */
export function sandbox() {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'agence-bench-')));
  const home = join(dir, 'home');
  mkdirSync(home);
  const gitconfig = join(home, '.gitconfig');
  writeFileSync(gitconfig, '[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n');
  const env = { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), GIT_CONFIG_GLOBAL: gitconfig, GIT_CONFIG_NOSYSTEM: '1' };
  return { dir, env };
}

export function sh(cmd, args, options) {
  const result = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

function wall(cmd, args, options) {
  const start = process.hrtime.bigint();
  // `input` (a case's stdin) is piped; everything else of the child is ignored.
  const result = spawnSync(cmd, args, { ...options, stdio: [options?.input === undefined ? 'ignore' : 'pipe', 'ignore', 'ignore'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}`);
  return ms;
}

function timedRun(fn) {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/**
 * Run every case once per round, in a rotating order, so drift on a shared machine hits all
 * cases alike; report median and p90 wall time per case. A case is one command (`cmd`, `args`,
 * `options`) or a sequence of them (`run(round)`, timed as a whole).
 */
export function interleaved(cases, { rounds = 30, warmup = 3 } = {}) {
  const times = cases.map(() => []);
  for (let round = 0; round < warmup + rounds; round++) {
    for (let k = 0; k < cases.length; k++) {
      const i = (k + round) % cases.length;
      const c = cases[i];
      const ms = c.run ? timedRun(() => c.run(round)) : wall(c.cmd, c.args, c.options);
      if (round >= warmup) times[i].push(ms);
    }
  }
  return cases.map((c, i) => {
    const sorted = times[i].sort((a, b) => a - b);
    return { name: c.name, runs: sorted.length, median_ms: quantile(sorted, 0.5), p90_ms: quantile(sorted, 0.9) };
  });
}
