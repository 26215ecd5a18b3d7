import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';

/** The built CLI: e2e tests run exactly what users run. `npm test` builds it first. */
export const CLI = resolve(import.meta.dirname, '../../dist/agence.cjs');

export interface Sandbox {
  dir: string;
  env: NodeJS.ProcessEnv;
}

/**
 * A temp dir with its own HOME, XDG config and git identity, so tests touch nothing of the user's
 * and do not depend on the machine's git config. Removed after the test file.
 */
export function sandbox(): Sandbox {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'agence-e2e-')));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const gitconfig = join(home, '.gitconfig');
  writeFileSync(gitconfig, '[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n[protocol "file"]\n\tallow = always\n');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    GIT_CONFIG_GLOBAL: gitconfig,
    GIT_CONFIG_NOSYSTEM: '1',
    LANG: 'C.UTF-8',
  };
  return { dir, env };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function agence(sb: Sandbox, cwd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Run {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, env: { ...sb.env, ...extraEnv }, encoding: 'utf8' });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export function git(sb: Sandbox, cwd: string, args: string[]): string {
  const result = spawnSync('git', args, { cwd, env: sb.env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed in ${cwd}: ${result.stderr}`);
  return result.stdout.trim();
}

/** A fresh git repository with one commit. */
export function repo(sb: Sandbox, name: string): string {
  const dir = join(sb.dir, name);
  mkdirSync(dir, { recursive: true });
  git(sb, dir, ['init', '-q']);
  writeFileSync(join(dir, 'README.md'), `# ${name}\n`);
  git(sb, dir, ['add', '.']);
  git(sb, dir, ['commit', '-qm', 'initial']);
  return dir;
}

export function json<T = Record<string, unknown>>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document:\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

function freePort(): Promise<number> {
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
 * `git daemon` on 127.0.0.1 serving the repositories under `served` (`push`: receive-pack too),
 * stopped after the test file; resolves once `repoName` answers ls-remote, with its git:// URL.
 */
export async function gitDaemon(sb: Sandbox, served: string, repoName: string, options: { push?: boolean } = {}): Promise<string> {
  const port = await freePort();
  const daemon = spawn(
    'git',
    ['daemon', '--reuseaddr', '--export-all', ...(options.push ? ['--enable=receive-pack'] : []), `--base-path=${served}`, '--listen=127.0.0.1', `--port=${port}`, '--informative-errors', served],
    { env: sb.env, stdio: 'ignore' },
  );
  afterAll(() => {
    daemon.kill();
  });
  const url = `git://127.0.0.1:${port}/${repoName}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      git(sb, served, ['ls-remote', url]);
      return url;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
