import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type MergeKind, mergeKindFor } from '../core/layering.js';
import type { BaseMarker, MasterLayer } from '../core/schemas.js';
import { TEMP_SUFFIX } from '../store/atomic.js';
import type { ShardPaths } from './layout.js';

/** Which files each side of a layer has; kept apart from effectiveView so `^status` loads no YAML parser. */

export interface LayerFile {
  path: string;
  origin: 'base' | 'local' | 'both';
  merge: MergeKind;
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  // Plain concatenation: the names come from readdir, so there is nothing for path.join to
  // normalise, and `^status` walks every layer at each run.
  const visit = (d: string, rel: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (!isContentFile(entry.name)) continue;
      const name = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) visit(`${d}/${entry.name}`, name);
      else if (entry.isFile()) out.push(name);
    }
  };
  visit(dir, '');
  return out;
}

export function layerDirs(paths: ShardPaths, layer: MasterLayer): { base: string; local: string } {
  return { base: join(paths.base, layer), local: join(paths.agence, layer) };
}

/** Every file of a layer in the effective view, with where it comes from. */
export function listLayer(paths: ShardPaths, layer: MasterLayer): LayerFile[] {
  const dirs = layerDirs(paths, layer);
  const base = new Set(walk(dirs.base));
  const local = new Set(walk(dirs.local));
  return [...new Set([...base, ...local])].sort().map((path) => ({
    path,
    origin: base.has(path) && local.has(path) ? 'both' : base.has(path) ? 'base' : 'local',
    merge: mergeKindFor(layer, path),
  }));
}

/**
 * File counts per side, for `^status`. The base side comes from the marker written when base/
 * was materialised, so status walks only the shard's own folders.
 */
export function countLayer(paths: ShardPaths, layer: MasterLayer, marker: BaseMarker | null): { base: number; local: number } {
  return { base: marker?.counts[layer] ?? 0, local: walk(layerDirs(paths, layer).local).length };
}

/** Whether a layer file counts as content (`.gitkeep` only keeps an empty folder in git). */
export function isContentFile(name: string): boolean {
  return name !== '.gitkeep' && !name.endsWith(TEMP_SUFFIX);
}

