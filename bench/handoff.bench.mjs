// The handoff round trip (save, handoff + push, inbox fetch, accept, resume) between two shards
// of one org sharing a master on a loopback git daemon, against the bare git operations it needs:
// a push and a fetch of one small ref on the same daemon.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CLI, interleaved, sandbox, sh } from './lib.mjs';

export const name = 'handoff';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function serve(env, base, probe) {
  const port = await freePort();
  const daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', '--enable=receive-pack', `--base-path=${base}`, '--listen=127.0.0.1', `--port=${port}`, base], { env, stdio: 'ignore', detached: true });
  // `git daemon` runs git-daemon as its child: stop the whole process group.
  const stop = () => process.kill(-daemon.pid, 'SIGTERM');
  const url = `git://127.0.0.1:${port}/`;
  for (let i = 0; i < 150; i++) {
    try {
      sh('git', ['ls-remote', `${url}${probe}`], { env });
      return { url, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  stop();
  throw new Error('git daemon did not start');
}

export async function run({ rounds }) {
  const { dir, env } = sandbox();
  const served = join(dir, 'served');
  mkdirSync(served);
  const agence = (cwd, args) => sh(process.execPath, [CLI, ...args], { cwd, env });
  agence(dir, ['^master', 'init', 'master']);
  sh('git', ['clone', '-q', '--bare', join(dir, 'master'), join(served, 'master.git')], { env });
  const { url: base, stop } = await serve(env, served, 'master.git');
  try {
    const url = `${base}master.git`;
    const shard = (label) => {
      const path = join(dir, label);
      sh('git', ['init', '-q', path], { env });
      sh('git', ['commit', '-q', '--allow-empty', '-m', 'initial'], { cwd: path, env });
      agence(path, ['^init', '--org', 'acme', '--master', url]);
      agence(path, ['^pull']);
      return path;
    };
    const front = shard('front');
    const infra = shard('infra');
    // Infra trusts front's key once, as a user would.
    agence(front, ['^save', 'setup', '--task', 'Build the login page', '--todo', 'form', '--todo', 'API']);
    agence(front, ['^handoff', 'ralph', 'setup']);
    const [first] = JSON.parse(agence(infra, ['^inbox', '--json'])).handoffs;
    agence(infra, ['^trust', first.signer]);

    // The baseline: one small new commit per round, pushed from one repository and fetched into the other.
    const commits = [];
    for (let i = 0; i < rounds + 3; i++) {
      const blob = sh('git', ['hash-object', '-w', '--stdin'], { cwd: front, env, input: `bench ${i}\n` }).trim();
      const tree = sh('git', ['mktree'], { cwd: front, env, input: `100644 blob ${blob}\tbundle.json\n` }).trim();
      commits.push(sh('git', ['commit-tree', tree, '-m', `bench ${i}`], { cwd: front, env }).trim());
    }
    const cases = [
      {
        name: 'git push + git fetch (1 ref)',
        run: (round) => {
          sh('git', ['push', '-q', url, `${commits[round]}:refs/bench/${round}`], { cwd: front, env });
          sh('git', ['fetch', '-q', '--no-tags', url, `refs/bench/${round}:refs/bench/${round}`], { cwd: infra, env });
        },
      },
      {
        name: 'save, handoff, inbox, accept, resume',
        target: 3,
        run: (round) => {
          agence(front, ['^save', `round ${round}`, '--task', 'Build the login page', '--todo', 'form']);
          const { bundle_id: id } = JSON.parse(agence(front, ['^handoff', 'ralph', `Need infrastructure setup ${round}`, '--json']));
          agence(infra, ['^inbox']);
          const { session } = JSON.parse(agence(infra, ['^accept', id, '--json']));
          agence(infra, ['^resume', session.session_id]);
        },
      },
    ];
    const results = interleaved(cases, { rounds });
    const baseline = results[0];
    return results.map((r, i) => ({ ...r, baseline: baseline.name, ratio: i === 0 ? null : r.median_ms / baseline.median_ms, target: cases[i].target ?? null }));
  } finally {
    stop();
  }
}
