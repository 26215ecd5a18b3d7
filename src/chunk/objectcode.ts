import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeSymbol } from '../core/chunker.js';
import { type ChunkRecord, parseChunkExport } from '../core/chunkExport.js';
import type { ShardPaths } from '../shard/layout.js';
import { readBaseMarker } from '../shard/manifest.js';
import type { Database } from '../store/sqlite.js';
import { BASE_SETTINGS_FILE } from './codeSettings.js';
import { codeMeta, codeWriter, type IndexedFile, knownFiles, setCodeMeta } from './chunkIndex.js';

/**
 * The master's OBJECTCODE layer (DESIGN §3): `base/objectcode/` as `^pull` materialised it at the
 * locked commit. Its source files are chunked like the shard's own; its `*.chunks.jsonl` files are
 * pre-built exports (`^chunk export`) taken as they are. Their chunks have origin `base`, so recall
 * shows them with layer `base/objectcode` and `--layer base` selects them. The layer is read again
 * only when the locked commit or the chunk settings change.
 */

export const EXPORT_SUFFIX = '.chunks.jsonl';

function objectcodeDir(shard: ShardPaths): string {
  return join(shard.base, 'objectcode');
}

/** Where a base file is shown: relative to the repository root, like every other path. */
const shownPath = (rel: string) => `.agence/base/objectcode/${rel}`;

/** The files of base/objectcode/ (symlinks are never materialised, and never followed here). */
function walk(dir: string, rel = '', into: { rel: string; file: string }[] = []): { rel: string; file: string }[] {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const file = join(dir, entry.name);
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) walk(file, path, into);
    else if (entry.isFile() && !(rel === '' && (entry.name === 'README.md' || entry.name === BASE_SETTINGS_FILE))) into.push({ rel: path, file });
  }
  return into;
}

/** One export's records as files: `lib.chunks.jsonl` with `src/a.ts` is shown as `lib/src/a.ts`. */
function exportFiles(rel: string, oid: string, records: readonly ChunkRecord[]): IndexedFile[] {
  const prefix = shownPath(rel.slice(0, -EXPORT_SUFFIX.length));
  const byPath = new Map<string, ChunkRecord[]>();
  for (const r of records) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
  return [...byPath].map(([path, chunks]) => ({
    row: { path: `${prefix}/${path}`, origin: 'base', oid, language: chunks[0]?.language ?? null, status: 'parsed', bytes: chunks.reduce((n, c) => n + c.text.length, 0), errors: 0, chunks: chunks.length },
    chunks: chunks.map((c) => ({ kind: c.kind as IndexedFile['chunks'][number]['kind'], name: c.name, scope: c.scope, start: c.start, end: c.end, signature: c.signature, doc: c.doc, part: null, parts: null, text: c.text })),
    symbols: chunks
      .filter((c) => c.name !== null && c.kind !== 'block' && c.kind !== 'window')
      .map((c): CodeSymbol => ({ kind: c.kind as CodeSymbol['kind'], name: c.name as string, scope: c.scope, start: c.start, end: c.end, signature: c.signature, doc: c.doc })),
  }));
}

export interface BaseRun {
  files: number;
  parsed: number;
  removed: number;
  /** Export lines that are not chunk records. */
  problems: string[];
}

/**
 * Bring the base chunks in line with base/objectcode/. `chunkSource` chunks one source file (the
 * shard's own rules); `key` names the chunk rules, so a change of them reads the layer again.
 */
export async function refreshObjectcode(
  shard: ShardPaths,
  db: Database,
  key: string,
  chunkSource: (file: { path: string; oid: string; origin: 'base' }, bytes: Buffer) => Promise<IndexedFile>,
  notify: (message: string) => void,
): Promise<BaseRun> {
  const run: BaseRun = { files: 0, parsed: 0, removed: 0, problems: [] };
  const dir = objectcodeDir(shard);
  const marker = readBaseMarker(shard);
  const present = marker !== null && existsSync(dir) && lstatSync(dir).isDirectory();
  const version = present ? `${marker.commit}:${key}` : 'none';
  if (codeMeta(db, 'base') === version) return run;
  const known = knownFiles(db, 'base');
  const indexed: IndexedFile[] = [];
  for (const { rel, file } of present ? walk(dir) : []) {
    const bytes = readFileSync(file);
    const oid = createHash('sha1').update(bytes).digest('hex');
    run.files++;
    if (rel.endsWith(EXPORT_SUFFIX)) {
      const parsed = parseChunkExport(bytes.toString('utf8'));
      for (const problem of parsed.problems) run.problems.push(`${shownPath(rel)} ${problem}`);
      indexed.push(...exportFiles(rel, oid, parsed.records));
    } else {
      const path = shownPath(rel);
      if (known.get(path)?.oid === oid) {
        known.delete(path);
        continue;
      }
      indexed.push(await chunkSource({ path, oid, origin: 'base' }, bytes));
    }
  }
  const writer = codeWriter(db);
  db.transaction(() => {
    for (const file of indexed) {
      const was = known.get(file.row.path);
      known.delete(file.row.path);
      if (was?.oid === file.row.oid) continue;
      writer.put(file);
      run.parsed++;
    }
    for (const path of known.keys()) writer.remove(path);
    run.removed = known.size;
    setCodeMeta(db, 'base', version);
  })();
  if (run.problems.length > 0) notify(`${run.problems.length} line(s) of the master's chunk exports are not chunk records and were skipped, first: ${run.problems[0]}`);
  return run;
}
