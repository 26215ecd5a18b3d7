import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { type BaseMarker, BaseMarkerSchema, type Lock, LockSchema, type Manifest, ManifestSchema } from '../core/schemas.js';
import { formatJson, writeFileAtomic } from '../store/atomic.js';
import { parseJsonText, readJsonFile, readTextFile } from '../store/files.js';
import type { ShardPaths } from './layout.js';

const RESTORE = 'restore it with `git checkout -- .agence/%s`, or fix it by hand';

/** Manifests read in this process: every command reads its shard's more than once. */
const manifests = new Map<string, Manifest>();

/**
 * Every shard command reads agence.json, and validating it means constructing its schema, the
 * costliest part of a short command's start-up (docs/ARCHITECTURE.md). What the last validation
 * gave is kept in `nexus/cache/manifest.json` beside the exact text it came from, and the same
 * text is not validated again; any other text (an edit, a checkout, another worktree's) is. The
 * cache is only a cache: unreadable or unwritable, the file is validated as if it were not there.
 */
const manifestCache = (paths: ShardPaths) => join(paths.nexus, 'cache', 'manifest.json');

function cachedManifest(paths: ShardPaths, text: string): Manifest | null {
  try {
    const cached = JSON.parse(readFileSync(manifestCache(paths), 'utf8')) as { text?: unknown; manifest?: Manifest };
    return cached.text === text && cached.manifest ? cached.manifest : null;
  } catch {
    return null;
  }
}

function cacheManifest(paths: ShardPaths, text: string, manifest: Manifest): void {
  // Only into a NEXUS that exists: reading a manifest never creates the shard's folders.
  if (!existsSync(paths.nexus)) return;
  try {
    writeFileAtomic(manifestCache(paths), JSON.stringify({ text, manifest }), 0o644, false);
  } catch {
    // a read-only NEXUS: validated again next time
  }
}

export function readManifest(paths: ShardPaths): Manifest {
  const known = manifests.get(paths.manifest);
  if (known) return known;
  const text = readTextFile(paths.manifest, '.agence/agence.json');
  if (text === null) {
    throw new AgenceError('not_a_shard', `${paths.root} has no .agence/agence.json`, { fix: 'run `agence ^init`' });
  }
  let manifest = cachedManifest(paths, text);
  if (!manifest) {
    manifest = parseJsonText(text, paths.manifest, ManifestSchema, { shown: '.agence/agence.json', fix: RESTORE.replace('%s', 'agence.json') });
    cacheManifest(paths, text, manifest);
  }
  manifests.set(paths.manifest, manifest);
  return manifest;
}

export function writeManifest(paths: ShardPaths, manifest: Manifest): void {
  writeFileAtomic(paths.manifest, formatJson(manifest));
  manifests.set(paths.manifest, manifest);
}

export function readLock(paths: ShardPaths): Lock | null {
  return readJsonFile(paths.lock, LockSchema, {
    shown: '.agence/agence.lock',
    fix: `${RESTORE.replace('%s', 'agence.lock')}, or delete it and run \`agence ^pull\``,
  });
}

export function writeLock(paths: ShardPaths, lock: Lock): void {
  writeFileAtomic(paths.lock, formatJson(lock));
}

export const BASE_MARKER = '.agence-base.json';

/** Which commit `base/` holds; null when base/ is missing or was left half-written. */
export function readBaseMarker(paths: ShardPaths): BaseMarker | null {
  try {
    return readJsonFile(join(paths.base, BASE_MARKER), BaseMarkerSchema, { fix: 'run `agence ^pull --locked`' });
  } catch (error) {
    // base/ is a cache of git objects: a damaged marker only means "materialise again".
    if (error instanceof AgenceError && error.code === 'corrupt') return null;
    throw error;
  }
}

export type BaseState =
  | { state: 'no-master' | 'no-lock' }
  | { state: 'current'; commit: string }
  | { state: 'materialised'; commit: string; fetched: boolean; files: number };

/**
 * The state of base/ when nothing needs doing (no lock, or base/ already at the locked commit),
 * else null. File reads only, so the common case costs no git process. Every shard command
 * comes through here, so a corrupt manifest or lock is reported by all of them.
 */
export function settledBase(paths: ShardPaths): BaseState | null {
  const manifest = readManifest(paths);
  const lock = readLock(paths);
  if (!lock) return { state: manifest.master ? 'no-lock' : 'no-master' };
  return readBaseMarker(paths)?.commit === lock.master.commit ? { state: 'current', commit: lock.master.commit } : null;
}
