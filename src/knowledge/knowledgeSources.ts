import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isContentFile } from '../shard/layerFiles.js';
import type { ShardPaths } from '../shard/layout.js';
import { indexFilePath } from '../git/indexFile.js';

/**
 * What the knowledge index reads, in the effective view (DESIGN §3): the codex and the master's
 * synthetic and globalcache layers from base/, the shard's own layers over them (a local file
 * with the same path replaces the base one, so it is indexed once), the private hermetic layer
 * (lessons, docs, notes; never keys) and the local faults in nexus.
 */

export const KNOWLEDGE_LAYERS = ['codex', 'synthetic', 'base', 'globalcache', 'hermetic', 'nexus'] as const;
/** Where an item lives; `base` is not a layer of its own: it is a base/ origin of the others. */
export type KnowledgeLayer = 'codex' | 'synthetic' | 'globalcache' | 'hermetic' | 'nexus';

export interface SourceFile {
  /** `layer/relative path`: one entry per path of the effective view. */
  key: string;
  layer: KnowledgeLayer;
  rel: string;
  origin: 'local' | 'base';
  /** The file read (for the codex, the local file when there is one). */
  file: string;
  /** Relative to the repository root, for messages and results. */
  shown: string;
  size: number;
  /** Size and mtime of every file the entry is made of: what a no-change check compares. */
  sig: string;
}

interface Root {
  layer: KnowledgeLayer;
  origin: 'local' | 'base';
  dir: string;
  shown: string;
  /** Only files with these endings count (the codex's YAML and JSON are settings, not knowledge). */
  only?: RegExp;
}

function roots(paths: ShardPaths): Root[] {
  const local = (layer: 'codex' | 'synthetic' | 'globalcache') => ({ layer, origin: 'local' as const, dir: join(paths.agence, layer), shown: `.agence/${layer}` });
  const base = (layer: 'codex' | 'synthetic' | 'globalcache') => ({ layer, origin: 'base' as const, dir: join(paths.base, layer), shown: `.agence/base/${layer}` });
  const md = /\.md$/;
  return [
    { ...base('codex'), only: md },
    { ...local('codex'), only: md },
    base('synthetic'),
    local('synthetic'),
    base('globalcache'),
    local('globalcache'),
    ...['lessons', 'docs', 'notes'].map((sub) => ({ layer: 'hermetic' as const, origin: 'local' as const, dir: join(paths.hermetic, sub), shown: `.agence/hermetic/${sub}` })),
    { layer: 'nexus', origin: 'local', dir: join(paths.nexus, 'faults'), shown: '.agence/nexus/faults' },
  ];
}

/** Where the item keys of a root start (hermetic and nexus roots are subfolders of their layer). */
function keyPrefix(root: Root): string {
  if (root.layer === 'hermetic' || root.layer === 'nexus') return `${root.shown.split('/').slice(2).join('/')}/`;
  return '';
}

/** A layer's own README explains the folder; it is not an item. */
const isLayerReadme = (root: Root, rel: string) => rel === 'README.md' && root.layer !== 'hermetic' && root.layer !== 'nexus';

/** Every folder whose mtime says whether anything was added, removed or renamed below it. */
export function watchedFolders(paths: ShardPaths): string[] {
  return [paths.agence, paths.base, ...roots(paths).map((r) => r.dir), indexFilePath(paths.root)];
}

export interface Walk {
  files: SourceFile[];
  /** Local items proposed to the master (`promoted:`) whose master copy is now in base/: the base copy wins. */
  landed: { file: string; shown: string }[];
  /** Folders seen, for the next no-change check. */
  folders: string[];
}

/** Walk every root: the stat walk an update does when a folder changed (or on `^reindex`). */
export function walkSources(paths: ShardPaths): Walk {
  const byKey = new Map<string, SourceFile>();
  const folders: string[] = [];
  const landed: Walk['landed'] = [];
  for (const root of roots(paths)) {
    if (!existsSync(root.dir)) continue;
    const prefix = keyPrefix(root);
    const visit = (dir: string, rel: string) => {
      folders.push(dir);
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (!isContentFile(entry.name) || entry.name.startsWith('.')) continue;
        const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
        const full = join(dir, entry.name);
        if (entry.isDirectory()) visit(full, path);
        else if (entry.isFile() && (!root.only || root.only.test(entry.name)) && !isLayerReadme(root, path)) {
          const st = statSync(full);
          const key = `${root.layer}/${prefix}${path}`;
          const sig = fileSig(st);
          const previous = byKey.get(key);
          if (previous && root.layer !== 'codex' && wasPromoted(full)) {
            landed.push({ file: full, shown: `${root.shown}/${path}` });
            continue;
          }
          // Roots are listed base first: a local file of the same path replaces the base one.
          // The codex is merged (laws, items), so its entry depends on both files.
          byKey.set(key, {
            key,
            layer: root.layer,
            rel: `${prefix}${path}`,
            origin: root.origin,
            file: full,
            shown: `${root.shown}/${path}`,
            size: st.size,
            sig: root.layer === 'codex' && previous ? `${previous.sig}+${sig}` : sig,
          });
        }
      }
    };
    visit(root.dir, '');
  }
  return { files: [...byKey.values()], folders, landed };
}

/** Whether an item's front matter records a promotion (read only when a base file has the same path). */
function wasPromoted(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(8192);
    const text = head.subarray(0, readSync(fd, head, 0, head.length, 0)).toString('utf8');
    const end = text.indexOf('\n---', 3);
    return text.startsWith('---') && /^promoted:/m.test(end > 0 ? text.slice(0, end) : text);
  } finally {
    closeSync(fd);
  }
}

/** What the index keeps of a file to tell whether it changed since it was read: size and mtime. */
export function fileSig(st: { size: number; mtimeMs: number }): string {
  return `${st.size}:${st.mtimeMs}`;
}

/** mtimes of the watched folders: equal to the stored ones means nothing was added or removed. */
export function folderStamp(folders: readonly string[]): { stamp: string; newest: number } {
  let newest = 0;
  const parts: string[] = [];
  for (const folder of folders) {
    // A folder that is gone stamps as 0; its parent's mtime changed too.
    const mtime = statSync(folder, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    newest = Math.max(newest, mtime);
    parts.push(String(mtime));
  }
  return { stamp: parts.join(','), newest };
}
