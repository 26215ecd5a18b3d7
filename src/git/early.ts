import { closeSync, openSync, readSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A git command started by the front door (`cli/main.ts`) before the app bundle is loaded, so
 * that git runs while Node loads agence instead of after. Its output goes to an unlinked temp
 * file rather than a pipe: a pipe makes Node build stream objects, which costs more than git's
 * whole run. Kept free of other agence modules, because the front door must stay tiny.
 *
 * The result is a hint: null when git could not be started or failed, and the caller then runs
 * the command the ordinary way, which reports the error properly.
 */
export type EarlyGit = Promise<string | null>;

/** What `workTreeState` runs; shared so a prefetched answer is the same answer. */
export const WORK_TREE_STATUS_ARGS = ['status', '--porcelain=v2', '--branch', '-z', '--untracked-files=normal'] as const;

export function startEarlyGit(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): EarlyGit {
  let fd: number;
  try {
    // Asked for here, not imported at the top: node:child_process and node:os load Node's stream
    // and network modules, milliseconds that every command would pay for ^save's sake.
    const file = join(process.getBuiltinModule('node:os').tmpdir(), `.agence-git-${process.pid}-${Math.floor(Math.random() * 0x100000000).toString(16)}`);
    fd = openSync(file, 'wx+', 0o600);
    unlinkSync(file); // the descriptors keep it alive; nothing is left behind, even after a crash
  } catch {
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    const finish = (output: string | null) => {
      closeSync(fd);
      resolve(output);
    };
    try {
      const child = process.getBuiltinModule('node:child_process').spawn('git', args, { cwd, env: { ...env, GIT_TERMINAL_PROMPT: '0' }, stdio: ['ignore', fd, 'ignore'] });
      child.on('error', () => finish(null));
      child.on('exit', (code) => finish(code === 0 ? readAll(fd) : null));
    } catch {
      finish(null);
    }
  });
}

function readAll(fd: number): string {
  const chunks: Buffer[] = [];
  let position = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(64 * 1024);
    const n = readSync(fd, chunk, 0, chunk.length, position);
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
    position += n;
  }
  return Buffer.concat(chunks).toString('utf8');
}
