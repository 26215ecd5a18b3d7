import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll } from 'vitest';
import type { Sandbox } from './helpers.js';

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
  const daemon: ChildProcess = spawn(
    'git',
    ['daemon', '--reuseaddr', '--export-all', '--enable=receive-pack', `--base-path=${base}`, '--listen=127.0.0.1', `--port=${port}`, '--informative-errors', base],
    { env: sb.env, stdio: 'ignore' },
  );
  afterAll(() => {
    daemon.kill();
  });
  const url = `git://127.0.0.1:${port}/`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (spawnSync('git', ['ls-remote', `${url}${probe}`], { env: sb.env }).status === 0) return url;
    if (Date.now() > deadline) throw new Error(`git daemon did not answer on ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
