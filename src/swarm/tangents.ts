import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { checkTangentName, tangentBranch, tangentOfBranch, type TangentRecord, TangentRecordSchema } from '../core/tangent.js';
import { execGit, git, gitMessage, resolveCommit, workTreeState } from '../git/git.js';
import type { Finding } from '../shard/doctor.js';
import type { ShardPaths } from '../shard/layout.js';
import type { SessionContext } from '../sessions/sessions.js';
import { formatJson, writeFileAtomic } from '../store/atomic.js';
import { readJsonFile } from '../store/files.js';

/**
 * Tangents: a git worktree on branch `agence/tangent/<name>` per agent and task (docs/swarm-tangents.md).
 * The worktree lives in the main worktree's NEXUS, `.agence/nexus/tangents/<name>/`: local state,
 * already ignored by git, so it never shows up as untracked, and every worktree of the repository
 * finds it in the same place. Beside it, `<name>.json` records where it started and who works in it.
 */

export interface TangentContext {
  paths: ShardPaths;
  now: () => Date;
  /** To open the session of a tangent's agent (needed only when an agent is given). */
  sessions?: SessionContext;
}

export function tangentsDir(paths: ShardPaths): string {
  return join(paths.nexus, 'tangents');
}

export function tangentPath(paths: ShardPaths, name: string): string {
  return join(tangentsDir(paths), checkTangentName(name));
}

function recordFile(paths: ShardPaths, name: string): string {
  return `${tangentPath(paths, name)}.json`;
}

const shown = (name: string) => `nexus/tangents/${name}.json`;

export function readTangent(paths: ShardPaths, name: string): TangentRecord | null {
  return readJsonFile(recordFile(paths, name), TangentRecordSchema, { shown: shown(name), fix: `remove it and the worktree with \`agence ^tangent destroy ${name} --force\`` });
}

export function writeTangent(paths: ShardPaths, record: TangentRecord): void {
  writeFileAtomic(recordFile(paths, record.name), formatJson(TangentRecordSchema.parse(record)));
}

export function requireTangent(paths: ShardPaths, name: string): TangentRecord {
  const record = readTangent(paths, name);
  if (record) return record;
  const names = tangentNames(paths);
  throw new AgenceError('not_found', `no tangent named ${name}`, { fix: names.length > 0 ? `tangents here: ${names.join(', ')}` : 'create one with `agence ^tangent create NAME`' });
}

export function tangentNames(paths: ShardPaths): string[] {
  const dir = tangentsDir(paths);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** The branch checked out at `cwd`, or null when HEAD is detached. */
export async function currentBranch(cwd: string): Promise<string | null> {
  const result = await execGit(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd });
  return result.code === 0 ? result.stdout.toString('utf8').trim() : null;
}

/** The branch a revision names (`main` for `main` or `refs/heads/main`), or null for anything else. */
async function branchNamed(cwd: string, rev: string): Promise<string | null> {
  const result = await execGit(['rev-parse', '--verify', '--quiet', '--symbolic-full-name', rev], { cwd });
  const full = result.stdout.toString('utf8').trim();
  return result.code === 0 && full.startsWith('refs/heads/') ? full.slice('refs/heads/'.length) : null;
}

export interface CreateInput {
  name: string;
  /** Where to start: a branch, tag or commit (default: HEAD of the worktree at paths.root). */
  from?: string | undefined;
  /** The commit to start at when it is already known (a sequent's base, the same for all its tangents). */
  at?: string;
  agent?: string | null;
  task?: string | null;
  sequent?: string | null;
}

export async function createTangent(ctx: TangentContext, input: CreateInput): Promise<{ record: TangentRecord; path: string }> {
  const { paths } = ctx;
  const name = checkTangentName(input.name);
  const branch = tangentBranch(name);
  const path = tangentPath(paths, name);
  if (existsSync(path) || existsSync(recordFile(paths, name))) {
    throw new AgenceError('conflict', `the tangent folder nexus/tangents/${name} is already taken`, { fix: `pick another name, or remove the old one with \`agence ^tangent destroy ${name}\` (\`agence ^doctor --repair\` if it is stray)` });
  }
  if (await resolveCommit(paths.root, `refs/heads/${branch}`)) {
    throw new AgenceError('conflict', `branch ${branch} already exists`, { fix: `pick another name, or delete the branch (\`git branch -D ${branch}\`) if its work is not needed` });
  }
  const from = input.from ?? 'HEAD';
  if (from.startsWith('-')) throw new AgenceError('usage', `--from "${from}" is not a revision`, { fix: 'name a branch, tag or commit' });
  const base = input.at ?? (await resolveCommit(paths.root, from));
  if (!base) throw new AgenceError('not_found', `--from ${from} does not name a commit here`, { fix: 'name a branch, tag or commit of this repository (`git log --oneline` shows some)' });
  const fromBranch = input.from === undefined ? await currentBranch(paths.root) : await branchNamed(paths.root, from);
  mkdirSync(tangentsDir(paths), { recursive: true });
  const added = await execGit(['worktree', 'add', '--quiet', '--no-track', '-b', branch, path, base], { cwd: paths.root });
  if (added.code !== 0) throw new AgenceError('git', `cannot create the worktree of tangent ${name}: ${gitMessage(added.stderr)}`, { fix: 'run `agence ^doctor` to find stray tangents' });
  let record: TangentRecord = {
    schema: 1,
    name,
    branch,
    base,
    from: fromBranch,
    agent: input.agent ?? null,
    task: input.task ?? null,
    session: null,
    window: null,
    sequent: input.sequent ?? null,
    created: ctx.now().toISOString(),
  };
  try {
    if (input.agent && ctx.sessions) {
      // The agent's own session, so its model calls and saves are told apart; the person's current session stays.
      const { saveSession } = await import('../sessions/sessions.js');
      const tags = input.sequent ? ['sequent', `sequent-${input.sequent}`] : ['tangent'];
      const saved = await saveSession({ ...ctx.sessions, cwd: path }, { agent: input.agent, ...(input.task ? { task: input.task } : {}), todos: [], tags, forceNew: true, keepCurrent: true });
      record = { ...record, session: saved.session.session_id };
    }
    writeTangent(paths, record);
  } catch (error) {
    // A tangent without its record would be a stray: take the worktree back out.
    await execGit(['worktree', 'remove', '--force', path], { cwd: paths.root });
    await execGit(['branch', '-D', branch], { cwd: paths.root });
    throw error;
  }
  return { record, path };
}

interface WorktreeEntry {
  path: string;
  branch: string | null;
  prunable: boolean;
}

/** `git worktree list --porcelain` (line by line: `-z` needs git 2.36, agence supports 2.28). */
async function worktrees(cwd: string): Promise<WorktreeEntry[]> {
  const out = await git(['worktree', 'list', '--porcelain'], { cwd });
  const entries: WorktreeEntry[] = [];
  let current: WorktreeEntry | null = null;
  for (const field of out.split('\n')) {
    if (field.startsWith('worktree ')) entries.push((current = { path: field.slice('worktree '.length), branch: null, prunable: false }));
    else if (current && field.startsWith('branch ')) current.branch = field.slice('branch refs/heads/'.length);
    else if (current && field.startsWith('prunable')) current.prunable = true;
  }
  return entries;
}

export interface TangentState {
  name: string;
  branch: string;
  path: string;
  agent: string | null;
  task: string | null;
  session: string | null;
  window: string | null;
  sequent: string | null;
  from: string | null;
  base: string;
  /** The branch's commit, null when the branch is gone. */
  head: string | null;
  /** Commits on the tangent since it started, and those not in its starting branch. */
  commits: number;
  unmerged: number;
  /** Uncommitted files in its worktree; null when the worktree folder is gone. */
  dirty: string[] | null;
}

async function countCommits(cwd: string, range: string): Promise<number> {
  return Number(await git(['rev-list', '--count', range], { cwd }));
}

export async function tangentState(ctx: TangentContext, name: string): Promise<TangentState> {
  const { paths } = ctx;
  const record = requireTangent(paths, name);
  const path = tangentPath(paths, name);
  const head = await resolveCommit(paths.root, `refs/heads/${record.branch}`);
  const target = record.from && (await resolveCommit(paths.root, `refs/heads/${record.from}`)) ? `refs/heads/${record.from}` : record.base;
  return {
    name,
    branch: record.branch,
    path,
    agent: record.agent,
    task: record.task,
    session: record.session,
    window: record.window,
    sequent: record.sequent,
    from: record.from,
    base: record.base,
    head,
    commits: head ? await countCommits(paths.root, `${record.base}..${head}`) : 0,
    unmerged: head ? await countCommits(paths.root, `${target}..${head}`) : 0,
    dirty: existsSync(join(path, '.git')) ? [...new Set([...(await workTreeState(path)).dirty])] : null,
  };
}

export async function listTangents(ctx: TangentContext): Promise<TangentState[]> {
  return Promise.all(tangentNames(ctx.paths).map((name) => tangentState(ctx, name)));
}

/** The tangent's changes since it started, uncommitted ones included; untracked files are listed. */
export async function tangentDiff(ctx: TangentContext, name: string, stat: boolean): Promise<{ diff: string; untracked: string[] }> {
  const record = requireTangent(ctx.paths, name);
  const path = tangentPath(ctx.paths, name);
  if (!existsSync(join(path, '.git'))) {
    const diff = await git(['diff', '--no-color', '--no-ext-diff', ...(stat ? ['--stat'] : []), record.base, `refs/heads/${record.branch}`, '--'], { cwd: ctx.paths.root });
    return { diff, untracked: [] };
  }
  const diff = await git(['diff', '--no-color', '--no-ext-diff', ...(stat ? ['--stat'] : []), record.base, '--'], { cwd: path });
  const untracked = (await git(['ls-files', '--others', '--exclude-standard', '-z'], { cwd: path })).split('\0').filter((f) => f !== '');
  return { diff, untracked };
}

export interface Destroyed {
  name: string;
  branch: string;
  /** Commits thrown away with --force (not in the starting branch). */
  discarded: number;
  /** Uncommitted files thrown away with --force. */
  uncommitted: number;
}

export async function destroyTangent(ctx: TangentContext, name: string, force: boolean): Promise<Destroyed> {
  const { paths } = ctx;
  const state = await tangentState(ctx, name);
  if (paths.root === state.path) throw new AgenceError('conflict', `you are inside tangent ${name}`, { fix: `cd ${paths.mainRoot} and run it again` });
  if (!force && state.unmerged > 0) {
    throw new AgenceError('conflict', `tangent ${name} has ${state.unmerged} commit${state.unmerged === 1 ? '' : 's'} not merged into ${state.from ?? `its start (${state.base.slice(0, 12)})`}`, {
      fix: `merge it first (\`git merge ${state.branch}\`, or \`agence ^sequent pick\`), or pass --force to throw the work away`,
    });
  }
  const uncommitted = state.dirty?.length ?? 0;
  if (!force && uncommitted > 0) {
    throw new AgenceError('conflict', `tangent ${name} has ${uncommitted} uncommitted file${uncommitted === 1 ? '' : 's'} (${state.dirty?.slice(0, 3).join(', ')})`, { fix: 'commit them in the tangent, or pass --force to throw them away' });
  }
  if (existsSync(state.path)) {
    const removed = await execGit(['worktree', 'remove', '--force', state.path], { cwd: paths.root });
    if (removed.code !== 0) throw new AgenceError('git', `cannot remove the worktree of tangent ${name}: ${gitMessage(removed.stderr)}`, { fix: 'run `agence ^doctor` to see what is left' });
  } else {
    await git(['worktree', 'prune'], { cwd: paths.root });
  }
  if (state.head) await git(['branch', '-D', '--quiet', state.branch], { cwd: paths.root });
  rmSync(recordFile(paths, name), { force: true });
  return { name, branch: state.branch, discarded: force ? state.unmerged : 0, uncommitted: force ? uncommitted : 0 };
}

/**
 * `^doctor`'s view of tangents: worktrees whose folder is gone (an agent deleted it), records
 * without a worktree, and tangent branches nobody records. With `repair`, git forgets the missing
 * worktrees (`git worktree prune`) and their records go; branches with work are never deleted, since
 * they may hold the only copy of an agent's work (a stray's branch goes only when all of it is
 * merged): the finding says how to look and drop them.
 */
export async function tangentFindings(ctx: TangentContext, repair: boolean): Promise<Finding[]> {
  const { paths } = ctx;
  const listed = await worktrees(paths.root);
  const names = tangentNames(paths);
  const findings: Finding[] = [];
  const missing = listed.filter((w) => w.branch && tangentOfBranch(w.branch) !== null && (w.prunable || !existsSync(w.path)));
  const recordsWithoutTree = names.filter((n) => !existsSync(join(tangentPath(paths, n), '.git')));
  const strays = new Set([...missing.map((w) => tangentOfBranch(w.branch as string) as string), ...recordsWithoutTree]);
  if (!repair) {
    for (const name of [...strays].sort()) {
      findings.push({ check: 'tangents', severity: 'warn', message: `tangent ${name}: its worktree folder is gone (deleted by its agent?)`, fix: 'run `agence ^doctor --repair` to prune it (a branch with unmerged work is kept)' });
    }
  } else if (strays.size > 0) {
    await git(['worktree', 'prune'], { cwd: paths.root });
    for (const name of [...strays].sort()) {
      const record = readTangent(paths, name);
      const branch = tangentBranch(name);
      const head = await resolveCommit(paths.root, `refs/heads/${branch}`);
      const target = record?.from && (await resolveCommit(paths.root, `refs/heads/${record.from}`)) ? `refs/heads/${record.from}` : record?.base;
      const unmerged = head && target ? await countCommits(paths.root, `${target}..${head}`) : null;
      if (head && unmerged === 0) await git(['branch', '-D', '--quiet', branch], { cwd: paths.root });
      rmSync(recordFile(paths, name), { force: true });
      const kept = head === null ? '' : unmerged === 0 ? `; branch ${branch} had nothing unmerged and was deleted` : `; branch ${branch} is kept (${unmerged ?? 'unknown'} commits not merged)`;
      findings.push({ check: 'tangents', severity: 'ok', message: `tangent ${name}: its worktree folder was gone; pruned${kept}` });
    }
  }
  const branches = (await git(['for-each-ref', '--format=%(refname:short)', `refs/heads/agence/tangent/`], { cwd: paths.root })).split('\n').filter((b) => b !== '');
  const checkedOut = new Set(listed.filter((w) => !missing.includes(w)).map((w) => w.branch));
  const live = new Set(names.filter((n) => !strays.has(n)));
  for (const branch of branches) {
    const name = tangentOfBranch(branch) as string;
    if (checkedOut.has(branch) || live.has(name) || strays.has(name)) continue;
    findings.push({ check: 'tangents', severity: 'warn', message: `branch ${branch} has no tangent worktree`, fix: `look at it (\`git log ${branch}\`), merge what is worth keeping, then \`git branch -D ${branch}\`` });
  }
  if (findings.length === 0) findings.push({ check: 'tangents', severity: 'ok', message: names.length === 0 ? 'no tangents' : `${names.length} tangent${names.length === 1 ? '' : 's'}, all with their worktree` });
  return findings;
}
