import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The file of the index git keeps for the work tree at `root` (`.git/index`, or a linked
 * worktree's own), found with file reads only, no git process: its stat tells cheaply whether
 * anything was staged or committed since (git replaces the file through a rename each time).
 */
export function indexFilePath(root: string): string {
  const dotGit = join(root, '.git');
  try {
    if (statSync(dotGit).isDirectory()) return join(dotGit, 'index');
    const gitdir = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1];
    if (gitdir) return join(resolve(root, gitdir.trim()), 'index');
  } catch {
    // no .git at all: the git commands that follow say so
  }
  return join(dotGit, 'index');
}
