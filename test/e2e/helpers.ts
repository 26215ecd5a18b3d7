import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
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

/** `input`, when given, is written to the command's stdin (hook payloads). */
export function agence(sb: Sandbox, cwd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}, input?: string): Run {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, env: { ...sb.env, ...extraEnv }, encoding: 'utf8', ...(input === undefined ? {} : { input }) });
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
