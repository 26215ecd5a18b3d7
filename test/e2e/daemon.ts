import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, expect } from 'vitest';
import { agence, git, repo, type Sandbox } from './helpers.js';

const daemons: ChildProcess[] = [];

// `git daemon` runs git-daemon as a child of its own: the whole process group is stopped.
afterAll(() => {
  for (const daemon of daemons) if (daemon.pid) process.kill(-daemon.pid, 'SIGTERM');
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * `git daemon` on 127.0.0.1 serving the repositories under `base` (push enabled), stopped after
 * the test file. Returns the URL prefix: `git://127.0.0.1:<port>/`.
 */
export async function gitDaemon(sb: Sandbox, base: string, probe: string): Promise<string> {
  const port = await freePort();
  const daemon = spawn(
    'git',
    ['daemon', '--reuseaddr', '--export-all', '--enable=receive-pack', `--base-path=${base}`, '--listen=127.0.0.1', `--port=${port}`, '--informative-errors', base],
    { env: sb.env, stdio: 'ignore', detached: true },
  );
  daemons.push(daemon);
  const url = `git://127.0.0.1:${port}/`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (spawnSync('git', ['ls-remote', `${url}${probe}`], { env: sb.env }).status === 0) return url;
    if (Date.now() > deadline) throw new Error(`git daemon did not answer on ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Shards of org acme whose origin (their exchange remote) is one bare repository. */
export function shardsOnExchange(sb: Sandbox, exchange: string, names: string[]): string[] {
  git(sb, sb.dir, ['init', '-q', '--bare', exchange]);
  return names.map((name) => {
    const dir = repo(sb, name);
    git(sb, dir, ['remote', 'add', 'origin', exchange]);
    expect(agence(sb, dir, ['^init', '--org', 'acme']).code).toBe(0);
    return dir;
  });
}

