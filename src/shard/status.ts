import { MASTER_LAYERS, type Manifest, type MasterLayer } from '../core/schemas.js';
import type { ShardPaths } from './layout.js';
import { countLayer } from './layerFiles.js';
import { type BaseState, readBaseMarker, readLock, readManifest } from './manifest.js';

export interface ShardStatus {
  shard: Manifest['shard'];
  root: string;
  master: { url: string; ref: string } | null;
  lock: { commit: string } | null;
  base: { state: 'none' | 'current' | 'stale' | 'missing'; commit: string | null; problem?: string };
  layers: Record<MasterLayer, { base: number; local: number }>;
}

/**
 * `^status`, from files only (no git process), so it stays near Node's start-up time. `ensured`
 * is what the CLI's base check found before; its failure is shown here rather than thrown.
 */
export function shardStatus(paths: ShardPaths, ensured: BaseState | Error | null): ShardStatus {
  const manifest = readManifest(paths);
  const lock = readLock(paths);
  const marker = readBaseMarker(paths);
  let base: ShardStatus['base'];
  if (!lock) base = { state: 'none', commit: marker?.commit ?? null };
  else if (marker?.commit === lock.master.commit) base = { state: 'current', commit: marker.commit };
  else base = { state: marker ? 'stale' : 'missing', commit: marker?.commit ?? null };
  if (ensured instanceof Error) base.problem = ensured.message;
  const layers = Object.fromEntries(MASTER_LAYERS.map((layer) => [layer, countLayer(paths, layer, marker)])) as ShardStatus['layers'];
  return {
    shard: manifest.shard,
    root: paths.root,
    master: manifest.master ? { url: manifest.master.url, ref: manifest.master.ref } : null,
    lock: lock ? { commit: lock.master.commit } : null,
    base,
    layers,
  };
}
