import { spawn } from 'node:child_process';
import { AgenceError } from '../core/errors.js';
import { WORK_TREE_STATUS_ARGS } from './early.js';

/**
 * The one place that runs git. Always an argv array, never a shell string; never prompts
 * (GIT_TERMINAL_PROMPT=0), so a bad URL fails instead of hanging.
 */

export interface GitOptions {
  cwd: string;
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
}

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export function execGit(args: readonly string[], options: GitOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: { ...(options.env ?? process.env), GIT_TERMINAL_PROMPT: '0' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new AgenceError('git', 'git is not installed or not on PATH', { fix: 'install git 2.25 or newer' })
          : error,
      );
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** git's own last word on a failure, for one-line errors. */
export function gitMessage(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('hint:'));
  const fatal = lines.find((l) => l.startsWith('fatal:') || l.startsWith('error:'));
  return (fatal ?? lines[lines.length - 1] ?? 'git failed').replace(/^(fatal|error): /, '');
}

/** Run git and return trimmed stdout; a non-zero exit is an AgenceError naming the git command. */
export async function git(args: readonly string[], options: GitOptions): Promise<string> {
  const result = await execGit(args, options);
  if (result.code !== 0) {
    // Name the subcommand, skipping `-c key=value` pairs before it.
    const subcommand = args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '-c') ?? '';
    throw new AgenceError('git', `git ${subcommand} failed: ${gitMessage(result.stderr)}`);
  }
  return result.stdout.toString('utf8').trim();
}

export async function gitVersion(cwd: string): Promise<string> {
  const out = await git(['--version'], { cwd });
  return /(\d+\.\d+(?:\.\d+)?)/.exec(out)?.[1] ?? out;
}

/** The commit a ref or revision names, or null when it does not resolve to a commit. */
export async function resolveCommit(cwd: string, rev: string): Promise<string | null> {
  const result = await execGit(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { cwd });
  return result.code === 0 ? result.stdout.toString().trim() : null;
}

export async function configGet(cwd: string, key: string): Promise<string | null> {
  const result = await execGit(['config', '--get', key], { cwd });
  return result.code === 0 ? result.stdout.toString().trim() : null;
}

/** Which of `paths` git ignores in the repository at `cwd`. */
export async function checkIgnore(cwd: string, paths: readonly string[]): Promise<Set<string>> {
  const result = await execGit(['check-ignore', '--no-index', '--stdin', '-z'], { cwd, input: paths.join('\0') });
  // exit 1 means "none ignored", anything above is an error.
  if (result.code > 1) throw new AgenceError('git', `git check-ignore failed: ${gitMessage(result.stderr)}`);
  return new Set(result.stdout.toString('utf8').split('\0').filter((p) => p !== ''));
}

/**
 * Fetch one ref of `url` into `localRef`. The URL comes after `--`, so it can never be read as an
 * option; `ext::` transports (which run commands) are refused outright.
 */
export async function fetchRef(cwd: string, url: string, remoteRef: string, localRef: string): Promise<void> {
  const result = await execGit(
    ['-c', 'protocol.ext.allow=never', 'fetch', '--no-tags', '--no-write-fetch-head', '--quiet', '--', url, `+${remoteRef}:${localRef}`],
    { cwd },
  );
  if (result.code !== 0) throw new AgenceError('git', `cannot fetch ${remoteRef} from ${url}: ${gitMessage(result.stderr)}`);
}

export interface TreeEntry {
  mode: string;
  type: 'blob' | 'tree' | 'commit';
  oid: string;
  path: string;
}

/** The names at the root of `commit`'s tree. */
export async function topLevelNames(cwd: string, commit: string): Promise<string[]> {
  const out = await git(['ls-tree', '-z', '--name-only', commit], { cwd });
  return out.split('\0').filter((n) => n !== '');
}

/** Every entry under `paths` in `commit`, recursively (`git ls-tree -r`). */
export async function listTree(cwd: string, commit: string, paths: readonly string[]): Promise<TreeEntry[]> {
  const out = await execGit(['ls-tree', '-r', '-z', '--full-tree', commit, '--', ...paths], { cwd });
  if (out.code !== 0) throw new AgenceError('git', `git ls-tree failed: ${gitMessage(out.stderr)}`);
  return out.stdout
    .toString('utf8')
    .split('\0')
    .filter((line) => line !== '')
    .map((line) => {
      const tab = line.indexOf('\t');
      const [mode, type, oid] = line.slice(0, tab).split(' ') as [string, TreeEntry['type'], string];
      return { mode, type, oid, path: line.slice(tab + 1) };
    });
}

export interface GitObject {
  oid: string;
  type: string;
  data: Buffer;
}

/**
 * Many objects through one `git cat-file --batch`, in the order asked; each spec is an object id
 * or `<rev>:<path>`, and one that names nothing is null.
 */
export async function readObjects(cwd: string, specs: readonly string[]): Promise<(GitObject | null)[]> {
  if (specs.length === 0) return [];
  if (specs.some((s) => s.includes('\n'))) throw new AgenceError('usage', 'a git object name cannot contain a newline');
  const result = await execGit(['cat-file', '--batch'], { cwd, input: `${specs.join('\n')}\n` });
  if (result.code !== 0) throw new AgenceError('git', `git cat-file failed: ${gitMessage(result.stderr)}`);
  const out = result.stdout;
  const objects: (GitObject | null)[] = [];
  let pos = 0;
  for (let i = 0; i < specs.length; i++) {
    const eol = out.indexOf(0x0a, pos);
    const header = out.subarray(pos, eol).toString('utf8');
    const [oid, type, size] = header.split(' ');
    if (header.endsWith(' missing') || header.endsWith(' ambiguous') || oid === undefined || type === undefined || size === undefined) {
      objects.push(null);
      pos = eol + 1;
      continue;
    }
    const start = eol + 1;
    const end = start + Number.parseInt(size, 10);
    objects.push({ oid, type, data: out.subarray(start, end) });
    pos = end + 1;
  }
  return objects;
}

/** The contents of many blobs through one `git cat-file --batch`, in the order asked. */
export async function readBlobs(cwd: string, oids: readonly string[]): Promise<Buffer[]> {
  const objects = await readObjects(cwd, oids);
  return objects.map((object, i) => {
    if (object?.type !== 'blob') {
      throw new AgenceError('corrupt', `git object ${oids[i]} is missing or not a blob (${object ? object.type : 'missing'})`, {
        fix: 'run `git fsck` in this repository',
      });
    }
    return object.data;
  });
}

/** Who agence's own commits (handoff refs) are by, and when: never the user's identity or clock. */
export function agenceIdentity(email: string, when: Date): NodeJS.ProcessEnv {
  const date = `${Math.floor(when.getTime() / 1000)} +0000`;
  return { GIT_AUTHOR_NAME: 'agence', GIT_AUTHOR_EMAIL: email, GIT_AUTHOR_DATE: date, GIT_COMMITTER_NAME: 'agence', GIT_COMMITTER_EMAIL: email, GIT_COMMITTER_DATE: date };
}

/** Store `data` as a blob; its id. */
export async function writeBlob(cwd: string, data: string | Buffer): Promise<string> {
  return git(['hash-object', '-w', '--stdin'], { cwd, input: data });
}

/** A commit of a flat tree of blobs (`name -> blob id`), with these parents. */
export async function commitFiles(cwd: string, files: Record<string, string>, parents: readonly string[], message: string, identity: NodeJS.ProcessEnv): Promise<string> {
  const listing = Object.keys(files)
    .sort()
    .map((name) => `100644 blob ${files[name]}\t${name}\n`)
    .join('');
  const tree = await git(['mktree'], { cwd, input: listing });
  return git(['commit-tree', tree, ...parents.flatMap((p) => ['-p', p]), '-m', message], { cwd, env: { ...process.env, ...identity } });
}

/** Point `ref` at `commit`, only if it still points at `expected` (null: only if it does not exist). */
export async function updateRef(cwd: string, ref: string, commit: string, expected: string | null): Promise<void> {
  await git(['update-ref', ref, commit, expected ?? ''.padEnd(40, '0')], { cwd });
}

/** Delete `ref`, only if it still points at `expected`. */
export async function deleteRef(cwd: string, ref: string, expected: string): Promise<void> {
  await git(['update-ref', '-d', ref, expected], { cwd });
}

/** `refname -> object id` for the refs under `prefix`. */
export async function listRefs(cwd: string, prefix: string): Promise<Map<string, string>> {
  const out = await git(['for-each-ref', '--format=%(objectname) %(refname)', prefix], { cwd });
  const refs = new Map<string, string>();
  for (const line of out.split('\n').filter((l) => l !== '')) {
    const space = line.indexOf(' ');
    refs.set(line.slice(space + 1), line.slice(0, space));
  }
  return refs;
}

export interface PushOutcome {
  ok: boolean;
  /** git's own words when the remote refused or could not be reached. */
  message: string;
}

/** Push `commit` to `ref` on `url` (after `--`, so a URL is never an option). */
export async function pushRef(cwd: string, url: string, commit: string, ref: string): Promise<PushOutcome> {
  const result = await execGit(['-c', 'protocol.ext.allow=never', 'push', '--quiet', '--porcelain', '--', url, `${commit}:${ref}`], { cwd });
  if (result.code === 0) return { ok: true, message: '' };
  // What the remote's hooks said is the reason a person needs; git's own line says which ref.
  const remote = result.stderr.split('\n').filter((l) => l.startsWith('remote: ') && l.trim() !== 'remote:').map((l) => l.slice('remote: '.length).trim());
  const rejected = result.stdout.toString('utf8').split('\n').find((l) => l.startsWith('!'))?.split('\t').pop();
  return { ok: false, message: [...remote, rejected ?? gitMessage(result.stderr)].join('; ') };
}

/**
 * Delete `ref` on the remote only while it still points at `expected` (a lease): false when the
 * remote refused, e.g. because someone moved the ref since.
 */
export async function deleteRemoteRef(cwd: string, url: string, ref: string, expected: string): Promise<boolean> {
  const result = await execGit(['-c', 'protocol.ext.allow=never', 'push', '--quiet', '--porcelain', `--force-with-lease=${ref}:${expected}`, '--', url, `:${ref}`], { cwd });
  return result.code === 0;
}

/**
 * The uncommitted work of the tree at `root` (tracked changes and untracked files, minus ignored
 * ones) as a commit whose parent is HEAD, like `git stash create`, built in a temporary index so
 * the user's index and branch are never touched.
 */
export async function snapshotWorkTree(root: string, indexFile: string, message: string, identity: NodeJS.ProcessEnv): Promise<{ commit: string; base: string; tree: string }> {
  const base = await resolveCommit(root, 'HEAD');
  if (!base) throw new AgenceError('conflict', `${root} has no commit yet, so there is nothing to carry the work on`, { fix: 'commit once, or hand off without --with-worktree' });
  const env = { ...process.env, ...identity, GIT_INDEX_FILE: indexFile };
  await git(['read-tree', base], { cwd: root, env });
  await git(['add', '-A', '--', '.'], { cwd: root, env });
  const tree = await git(['write-tree'], { cwd: root, env });
  const commit = await git(['commit-tree', tree, '-p', base, '-m', message], { cwd: root, env });
  return { commit, base, tree };
}

/** `git diff --binary` between two commits, as bytes. */
export async function binaryDiff(cwd: string, from: string, to: string): Promise<Buffer> {
  const result = await execGit(['diff', '--binary', '--full-index', '--no-color', '--no-ext-diff', from, to, '--'], { cwd });
  if (result.code !== 0) throw new AgenceError('git', `git diff failed: ${gitMessage(result.stderr)}`);
  return result.stdout;
}

/**
 * The commits of HEAD that no remote-tracking ref has (what a push of HEAD's history would
 * upload), each with its patch, or null when there are more than `max` of them.
 */
export async function unpushedPatches(cwd: string, max: number): Promise<{ commits: number; patches: string } | null> {
  const count = Number(await git(['rev-list', '--count', 'HEAD', '--not', '--remotes'], { cwd }));
  if (count > max) return null;
  if (count === 0) return { commits: 0, patches: '' };
  const patches = await git(['log', '-p', '--no-color', '--no-ext-diff', '--format=commit %H', 'HEAD', '--not', '--remotes', '--'], { cwd });
  return { commits: count, patches };
}

/** Apply a patch to the work tree (not the index); with `check`, only say whether it would apply. */
export async function applyPatch(cwd: string, patch: Buffer, check: boolean): Promise<PushOutcome> {
  const result = await execGit(['apply', '--binary', ...(check ? ['--check'] : []), '-'], { cwd, input: patch });
  return { ok: result.code === 0, message: result.code === 0 ? '' : gitMessage(result.stderr) };
}

export interface WorkTreeState {
  branch: string | null;
  head: string | null;
  /** Changed in the work tree (untracked included), relative to the repository root. */
  dirty: string[];
  /** Changed in the index. */
  staged: string[];
}

/** Parse `git status --porcelain=v2 --branch -z`. */
export function parseStatusV2(out: string): WorkTreeState {
  const state: WorkTreeState = { branch: null, head: null, dirty: [], staged: [] };
  const fields = out.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i] as string;
    if (entry.startsWith('# branch.oid ')) {
      const oid = entry.slice('# branch.oid '.length);
      state.head = oid === '(initial)' ? null : oid;
    } else if (entry.startsWith('# branch.head ')) {
      const head = entry.slice('# branch.head '.length);
      state.branch = head === '(detached)' ? null : head;
    } else if (entry.startsWith('? ')) {
      state.dirty.push(entry.slice(2));
    } else if (/^[12u] /.test(entry)) {
      const parts = entry.split(' ');
      const xy = parts[1] ?? '..';
      // ordinary: 8 fields before the path; rename/copy: 9 (and the original path follows); unmerged: 10
      const before = entry[0] === '1' ? 8 : entry[0] === '2' ? 9 : 10;
      const path = parts.slice(before).join(' ');
      if (entry[0] === '2') i++; // skip the original path of a rename
      if (xy[0] !== '.') state.staged.push(path);
      if (xy[1] !== '.') state.dirty.push(path);
    }
  }
  return state;
}

/** Branch, HEAD, and the changed files of the work tree at `cwd`. */
export async function workTreeState(cwd: string): Promise<WorkTreeState> {
  const out = await git(WORK_TREE_STATUS_ARGS, { cwd });
  return parseStatusV2(out);
}

/** Files that differ between `from` and HEAD, or null when `from` is not a known commit. */
export async function changedSince(cwd: string, from: string): Promise<string[] | null> {
  if (!(await resolveCommit(cwd, from))) return null;
  const out = await git(['diff', '--name-only', '-z', from, 'HEAD', '--'], { cwd });
  return out.split('\0').filter((p) => p !== '');
}

/** The oldest commit reachable from HEAD that added `path`, or null. */
export async function commitAdding(cwd: string, path: string): Promise<string | null> {
  const result = await execGit(['log', '--diff-filter=A', '--format=%H', '--reverse', 'HEAD', '--', path], { cwd });
  if (result.code !== 0) return null;
  return result.stdout.toString('utf8').split('\n')[0]?.trim() || null;
}

export async function isAncestor(cwd: string, ancestor: string, of = 'HEAD'): Promise<boolean> {
  return (await execGit(['merge-base', '--is-ancestor', ancestor, of], { cwd })).code === 0;
}

/** Commits after `from` (null: from the first) up to HEAD that change `path`, oldest first (every line of history, merges included). */
export async function commitsTouching(cwd: string, from: string | null, path: string): Promise<string[]> {
  const out = await git(['rev-list', '--reverse', '--full-history', from === null ? 'HEAD' : `${from}..HEAD`, '--', path], { cwd });
  return out.split('\n').filter((l) => l !== '');
}

/** The content of `path` at `rev`, or null when it is not there. */
export async function fileAt(cwd: string, rev: string, path: string): Promise<string | null> {
  const result = await execGit(['show', `${rev}:${path}`], { cwd });
  return result.code === 0 ? result.stdout.toString('utf8') : null;
}

export interface CommitSignature {
  commit: string;
  parents: string[];
  /** git's %G?: G good, B bad, U good but unknown validity, X/Y expired, R revoked, E cannot check, N none. */
  status: string;
  /** The signing key's fingerprint (%GK) and the principal it matched (%GS). */
  key: string;
  signer: string;
  author: string;
  subject: string;
}

/**
 * How git judges the signature of `commit` with SSH signing and the given allowed-signers file
 * (git runs `ssh-keygen -Y verify`; nothing of the user's own git config decides).
 */
export async function commitSignature(cwd: string, commit: string, allowedSignersFile: string): Promise<CommitSignature> {
  const out = await git(
    ['-c', 'gpg.format=ssh', '-c', `gpg.ssh.allowedSignersFile=${allowedSignersFile}`, 'log', '-1', '--format=%H%x1f%P%x1f%G?%x1f%GK%x1f%GS%x1f%an <%ae>%x1f%s', commit, '--'],
    { cwd },
  );
  const [hash = '', parents = '', status = 'N', key = '', signer = '', author = '', subject = ''] = out.split('\x1f');
  return { commit: hash, parents: parents.split(' ').filter((p) => p !== ''), status, key, signer, author, subject };
}

/** Which of `files` differ between `commit` and the work tree; null when `commit` is not known here. */
export async function changedSinceCommit(cwd: string, commit: string, files: readonly string[]): Promise<string[] | null> {
  if (files.length === 0) return [];
  if (!(await resolveCommit(cwd, commit))) return null;
  const out = await git(['diff', '--name-only', '-z', commit, '--', ...files], { cwd });
  return out.split('\0').filter((p) => p !== '');
}

export interface IndexEntry {
  mode: string;
  oid: string;
  /** 0 normally; 1-3 for the sides of a conflict. */
  stage: number;
  path: string;
}

/**
 * The files git tracks, as its index holds them (`git ls-files -s`): mode, blob id, stage, path.
 * `raw` is the listing itself, so a caller can tell in one comparison that nothing changed.
 */
export async function listIndex(cwd: string): Promise<{ entries: IndexEntry[]; raw: Buffer }> {
  const result = await execGit(['ls-files', '-s', '-z'], { cwd });
  if (result.code !== 0) throw new AgenceError('git', `git ls-files failed: ${gitMessage(result.stderr)}`);
  const entries: IndexEntry[] = [];
  for (const line of result.stdout.toString('utf8').split('\0')) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    const [mode, oid, stage] = line.slice(0, tab).split(' ') as [string, string, string];
    entries.push({ mode, oid, stage: Number(stage), path: line.slice(tab + 1) });
  }
  return { entries, raw: result.stdout };
}

/** The size of each blob (`git cat-file --batch-check`), in the order asked; -1 when it is missing. */
export async function blobSizes(cwd: string, oids: readonly string[]): Promise<number[]> {
  if (oids.length === 0) return [];
  const result = await execGit(['cat-file', '--batch-check=%(objecttype) %(objectsize)'], { cwd, input: `${oids.join('\n')}\n` });
  if (result.code !== 0) throw new AgenceError('git', `git cat-file failed: ${gitMessage(result.stderr)}`);
  return result.stdout
    .toString('utf8')
    .split('\n')
    .slice(0, oids.length)
    .map((line) => (line.startsWith('blob ') ? Number(line.slice(5)) : -1));
}
