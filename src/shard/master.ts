import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { fetchableMasterUrl } from '../core/masterUrl.js';
import { type Lock, MASTER_LAYERS, type Manifest, type MasterLayer } from '../core/schemas.js';
import { configGet, fetchRef, git, listTree, readBlobs, resolveCommit, topLevelNames } from '../git/git.js';
import { formatJson, tempName } from '../store/atomic.js';
import { isContentFile } from './layerFiles.js';
import { rel, type ShardPaths } from './layout.js';
import { BASE_MARKER, type BaseState, readLock, readManifest, settledBase, writeLock } from './manifest.js';
import { copyTemplate } from './templates.js';

export interface MasterInitResult {
  path: string;
  commit: string;
  files: number;
}

const FALLBACK_IDENTITY = ['-c', 'user.name=agence', '-c', 'user.email=agence@localhost'];

/** `^master init DIR`: a real git repository with one commit holding the built-in layers. */
export async function initMaster(cwd: string, dir: string): Promise<MasterInitResult> {
  const path = resolve(cwd, dir);
  if (existsSync(path) && readdirSync(path).length > 0) {
    throw new AgenceError('conflict', `${dir} already exists and is not empty`, { fix: 'choose a new directory for the master' });
  }
  mkdirSync(path, { recursive: true });
  await git(['init', '--quiet', '--initial-branch=main'], { cwd: path });
  const files = [...copyTemplate('codex', join(path, 'codex')).map((p) => `codex/${p}`), ...copyTemplate('master', path)];
  await git(['add', '--all'], { cwd: path });
  const identity = (await configGet(path, 'user.email')) ? [] : FALLBACK_IDENTITY;
  await git([...identity, 'commit', '--quiet', '--no-verify', '-m', 'agence master: initial layers'], { cwd: path });
  return { path, commit: await git(['rev-parse', 'HEAD'], { cwd: path }), files: files.length };
}

function requireMaster(manifest: Manifest): NonNullable<Manifest['master']> {
  if (!manifest.master) {
    throw new AgenceError('usage', 'this shard has no master', {
      fix: 'set one with `agence ^init --master URL` (or master.url in .agence/agence.json)',
    });
  }
  return manifest.master;
}

/** Where a master ref is kept in the shard repo: always under refs/agence/master/. */
export function localMasterRef(ref: string): string {
  if (ref === 'HEAD') return 'refs/agence/master/HEAD';
  return `refs/agence/master/${ref.replace(/^refs\/heads\//, '').replace(/^refs\//, '')}`;
}

async function fetchMaster(paths: ShardPaths, master: NonNullable<Manifest['master']>): Promise<string> {
  const url = fetchableMasterUrl(master.url, paths.root);
  const localRef = localMasterRef(master.ref);
  try {
    await fetchRef(paths.root, url, master.ref, localRef);
  } catch (error) {
    if (error instanceof AgenceError) {
      throw new AgenceError('git', `cannot fetch master ${master.url}: ${error.message.replace(/^cannot fetch .*?: /, '')}`, {
        fix: 'check master.url and master.ref in .agence/agence.json, and that you can reach it (`git ls-remote URL`)',
      });
    }
    throw error;
  }
  const commit = await resolveCommit(paths.root, localRef);
  if (!commit) throw new AgenceError('git', `master ${master.url} ref ${master.ref} is not a commit`, { fix: 'point master.ref at a branch' });
  return commit;
}

/** The layers a master commit really has; one without codex/ is not a master. */
async function masterLayers(paths: ShardPaths, url: string, commit: string): Promise<MasterLayer[]> {
  const top = new Set(await topLevelNames(paths.root, commit));
  const layers = MASTER_LAYERS.filter((layer) => top.has(layer));
  if (!layers.includes('codex')) {
    throw new AgenceError('not_found', `master ${url} (commit ${commit.slice(0, 12)}) has no codex/ layer, so it is not an agence master`, {
      fix: 'point master.url in .agence/agence.json at a master, or create one with `agence ^master init DIR`',
    });
  }
  return layers;
}

export interface MaterialiseResult {
  commit: string;
  layers: MasterLayer[];
  files: number;
  skipped: string[];
}

/**
 * Write the master layers of `commit` into `base/`: into a temp folder first, then swapped in by
 * rename, so readers never see half a base. The marker is written last.
 */
export async function materialiseBase(paths: ShardPaths, commit: string, wanted: readonly MasterLayer[], url: string): Promise<MaterialiseResult> {
  const present = await masterLayers(paths, url, commit);
  const layers = present.filter((layer) => wanted.includes(layer));
  const entries = await listTree(paths.root, commit, layers);
  const blobs = entries.filter((e) => e.type === 'blob' && e.mode !== '120000');
  const skipped = entries.filter((e) => !blobs.includes(e)).map((e) => e.path);
  const contents = await readBlobs(paths.root, blobs.map((e) => e.oid));

  const temp = join(paths.agence, tempName('base'));
  try {
    blobs.forEach((entry, i) => {
      const target = resolve(temp, entry.path);
      if (!target.startsWith(temp + sep)) throw new AgenceError('corrupt', `master tree path ${entry.path} escapes base/`);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, contents[i] as Buffer);
      if (entry.mode === '100755') chmodSync(target, 0o755);
    });
    const counts = Object.fromEntries(
      layers.map((layer) => [layer, blobs.filter((e) => e.path.startsWith(`${layer}/`) && isContentFile(basename(e.path))).length]),
    );
    writeFileSync(join(temp, BASE_MARKER), formatJson({ commit, layers, files: blobs.length, counts }));
    const old = join(paths.agence, tempName('base-old'));
    if (existsSync(paths.base)) renameSync(paths.base, old);
    renameSync(temp, paths.base);
    rmSync(old, { recursive: true, force: true });
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  return { commit, layers, files: blobs.length, skipped };
}

export type PullMode = 'update' | 'check' | 'locked';

export interface PullResult {
  mode: PullMode;
  url: string;
  ref: string;
  /** The master commit now fetched. */
  latest: string;
  /** The commit pinned before this pull (null: no lock yet). */
  previous: string | null;
  /** The commit pinned after this pull. */
  locked: string | null;
  upToDate: boolean;
  base: MaterialiseResult | null;
}

/**
 * `^pull`: fetch the master into refs/agence/master/*, pin it in agence.lock and materialise base/.
 * `check` only compares; `locked` materialises the pinned commit without moving the pin.
 */
export async function pull(paths: ShardPaths, mode: PullMode): Promise<PullResult> {
  const manifest = readManifest(paths);
  const master = requireMaster(manifest);
  const lock = readLock(paths); // a corrupt lock stops us before anything changes
  if (mode === 'locked' && !lock) {
    throw new AgenceError('usage', 'there is no .agence/agence.lock to restore', { fix: 'run `agence ^pull` to pin the master' });
  }
  const latest = await fetchMaster(paths, master);
  await masterLayers(paths, master.url, latest);
  const previous = lock?.master.commit ?? null;
  const result: PullResult = { mode, url: master.url, ref: master.ref, latest, previous, locked: previous, upToDate: previous === latest, base: null };
  if (mode === 'check') return result;

  if (mode === 'locked') {
    const pinned = (lock as Lock).master.commit;
    if (!(await resolveCommit(paths.root, pinned))) throw unknownLockedCommit(paths, pinned, master.url);
    result.base = await materialiseBase(paths, pinned, master.layers, master.url);
    return result;
  }
  result.base = await materialiseBase(paths, latest, master.layers, master.url);
  if (previous !== latest || lock?.master.url !== master.url || lock.master.ref !== master.ref) {
    writeLock(paths, { schema: 1, master: { url: master.url, ref: master.ref, commit: latest } });
  }
  result.locked = latest;
  return result;
}

function unknownLockedCommit(paths: ShardPaths, commit: string, url: string): AgenceError {
  return new AgenceError('corrupt', `${rel(paths, paths.lock)} pins master commit ${commit.slice(0, 12)}, which neither this repository nor ${url} has`, {
    file: paths.lock,
    fix: 'run `agence ^pull` to pin the master\'s current commit (or restore the lock from git history)',
  });
}

/**
 * Make `base/` match agence.lock before anything reads the effective view. A teammate's fresh
 * clone gets base/ this way: from local objects when present, else by fetching the master once.
 */
export async function ensureBase(paths: ShardPaths): Promise<BaseState> {
  const settled = settledBase(paths);
  if (settled) return settled;
  const manifest = readManifest(paths);
  const lock = readLock(paths) as Lock;
  const master = manifest.master ?? { url: lock.master.url, ref: lock.master.ref, layers: [...MASTER_LAYERS] };
  let fetched = false;
  if (!(await resolveCommit(paths.root, lock.master.commit))) {
    try {
      await fetchMaster(paths, master);
    } catch (error) {
      throw new AgenceError('corrupt', `${rel(paths, paths.lock)} pins master commit ${lock.master.commit.slice(0, 12)}, which is not in this repository, and fetching ${master.url} failed (${(error as Error).message})`, {
        file: paths.lock,
        fix: 'make the master reachable and run `agence ^pull --locked`',
      });
    }
    fetched = true;
    if (!(await resolveCommit(paths.root, lock.master.commit))) throw unknownLockedCommit(paths, lock.master.commit, master.url);
  }
  const base = await materialiseBase(paths, lock.master.commit, master.layers, master.url);
  return { state: 'materialised', commit: lock.master.commit, fetched, files: base.files };
}
