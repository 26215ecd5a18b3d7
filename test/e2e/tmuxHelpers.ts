import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Sandbox } from './helpers.js';

/**
 * tmux in e2e tests. Waiting for what other processes do (panes, detached agents): poll until a
 * condition holds, failing with what was last seen; end a tmux server only once its panes'
 * processes are gone (a shell writes its history to HOME as it ends, which would race the
 * sandbox's removal); and a PATH without tmux, for "tmux missing".
 */

export async function until<T>(what: string, fn: () => T | null | undefined | false, ms = 10_000, seen?: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${seen ? `; saw ${seen()}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function killServer(tmux: (...args: string[]) => { stdout: string }): Promise<void> {
  const pids = tmux('list-panes', '-a', '-F', '#{pane_pid}').stdout.split('\n').filter(Boolean).map(Number);
  tmux('kill-server');
  const gone = (pid: number) => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  };
  await until('the panes to end', () => pids.every(gone));
}

/** PATH with everything of the sandbox's PATH but tmux (symlinks), made once per sandbox. */
export function pathWithoutTmux(sb: Sandbox): string {
  const noTmux = join(sb.dir, 'no-tmux-bin');
  if (existsSync(noTmux)) return noTmux;
  mkdirSync(noTmux, { recursive: true });
  for (const d of (sb.env.PATH ?? '').split(delimiter)) {
    if (!existsSync(d)) continue;
    for (const name of readdirSync(d)) {
      if (name === 'tmux' || existsSync(join(noTmux, name))) continue;
      symlinkSync(join(d, name), join(noTmux, name));
    }
  }
  return noTmux;
}
