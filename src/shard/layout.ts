import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { AgenceError } from '../core/errors.js';

/**
 * Where everything of a shard lives (DESIGN §2), found with plain file reads so that start-up
 * does not pay for a git process. In a linked worktree, NEXUS and HERMETIC resolve to the main
 * worktree's `.agence/`, so every worktree sees one state.
 */
export interface ShardPaths {
  /** Top of the current worktree. */
  root: string;
  /** Top of the main worktree (same as root outside linked worktrees). */
  mainRoot: string;
  agence: string;
  manifest: string;
  lock: string;
  gitignore: string;
  base: string;
  nexus: string;
  hermetic: string;
}

export interface RepoPaths {
  root: string;
  mainRoot: string;
}

/** Walk up from `cwd` to the first directory holding `.git` (a directory, or a worktree's file). */
export function findRepo(cwd: string): RepoPaths | null {
  let dir = resolve(cwd);
  for (;;) {
    const dotGit = join(dir, '.git');
    if (existsSync(dotGit)) return { root: dir, mainRoot: mainWorktree(dir, dotGit) };
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function mainWorktree(root: string, dotGit: string): string {
  if (statSync(dotGit).isDirectory()) return root;
  // A linked worktree: `.git` says `gitdir: <main>/.git/worktrees/<name>`, whose `commondir`
  // points back at the main repository's git dir.
  const gitdirLine = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'));
  if (!gitdirLine) return root;
  const gitDir = resolve(root, (gitdirLine[1] as string).trim());
  const commondirFile = join(gitDir, 'commondir');
  if (!existsSync(commondirFile)) return root;
  const common = readFileSync(commondirFile, 'utf8').trim();
  const commonDir = isAbsolute(common) ? common : resolve(gitDir, common);
  return dirname(commonDir);
}

export function shardPaths(repo: RepoPaths): ShardPaths {
  const agence = join(repo.root, '.agence');
  const mainAgence = join(repo.mainRoot, '.agence');
  return {
    root: repo.root,
    mainRoot: repo.mainRoot,
    agence,
    manifest: join(agence, 'agence.json'),
    lock: join(agence, 'agence.lock'),
    gitignore: join(agence, '.gitignore'),
    base: join(agence, 'base'),
    nexus: join(mainAgence, 'nexus'),
    hermetic: join(mainAgence, 'hermetic'),
  };
}

export function requireRepo(cwd: string): RepoPaths {
  const repo = findRepo(cwd);
  if (!repo) {
    throw new AgenceError('not_a_repo', `${resolve(cwd)} is not inside a git repository`, {
      fix: 'run `git init` first, or cd into a repository',
    });
  }
  return repo;
}

/** The shard around `cwd`; a repository without `.agence/agence.json` is not a shard yet. */
export function requireShard(cwd: string): ShardPaths {
  const paths = shardPaths(requireRepo(cwd));
  if (!existsSync(paths.manifest)) {
    throw new AgenceError('not_a_shard', `${paths.root} is not an agence shard (no .agence/agence.json)`, {
      fix: 'run `agence ^init` in this repository',
    });
  }
  return paths;
}

/** A path relative to the shard root, for messages. */
export function rel(paths: { root: string }, file: string): string {
  return file.startsWith(`${paths.root}/`) ? file.slice(paths.root.length + 1) : file;
}
