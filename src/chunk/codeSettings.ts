import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ChunkSettings, ChunkSettingsSchema } from '../core/chunkSettings.js';
import { AgenceError } from '../core/errors.js';
import { firstIssue } from '../core/schemas.js';
import type { ShardPaths } from '../shard/layout.js';
import { readManifest } from '../shard/manifest.js';

/** The chunk settings in effect: small on purpose, the no-change check of every code command reads it. */

/** The master's chunk settings, under the shard's own (`chunk` of agence.json wins key by key). */
export const BASE_SETTINGS_FILE = 'chunk.json';

/** Bumped when the chunk rules change, so every file is chunked again. */
const RULES_VERSION = 2;

function baseChunkSettings(shard: ShardPaths): Record<string, unknown> {
  const file = join(shard.base, 'objectcode', BASE_SETTINGS_FILE);
  if (!existsSync(file)) return {};
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below, with the fix
  }
  throw new AgenceError('corrupt', `.agence/base/objectcode/${BASE_SETTINGS_FILE} is not a JSON object`, {
    file,
    fix: 'fix it in the master, or run `agence ^pull --locked` to materialise base/ again',
  });
}

/**
 * The effective chunk settings: the master's (base/objectcode/chunk.json), the shard's own `chunk`
 * of `.agence/agence.json` over them key by key, then the defaults.
 */
export function codeSettings(shard: ShardPaths): ChunkSettings {
  const local = (readManifest(shard) as Record<string, unknown>).chunk ?? {};
  if (typeof local !== 'object' || local === null || Array.isArray(local)) {
    throw new AgenceError('usage', '.agence/agence.json: "chunk" is not an object', { file: shard.manifest, fix: 'see docs/chunk.md for its keys' });
  }
  const base = baseChunkSettings(shard);
  const parsed = ChunkSettingsSchema.safeParse({ ...base, ...local });
  if (!parsed.success) {
    const key = String(parsed.error.issues[0]?.path[0] ?? '');
    const where = key in local || !(key in base) ? '.agence/agence.json: chunk' : `.agence/base/objectcode/${BASE_SETTINGS_FILE}:`;
    throw new AgenceError('usage', `${where}.${firstIssue(parsed.error)}`, {
      file: shard.manifest,
      fix: 'fix the chunk settings (docs/chunk.md): include, exclude, default_excludes, max_file_bytes, max_lines, merge_lines, window_lines',
    });
  }
  return parsed.data;
}

/** What decides the chunks of a file: when it changes, every file is chunked again. */
export function chunkingKey(settings: ChunkSettings): string {
  return JSON.stringify([RULES_VERSION, settings.max_lines, settings.merge_lines, settings.window_lines, settings.max_file_bytes]);
}

/** Every setting: the no-change check compares this. */
export function settingsKey(settings: ChunkSettings): string {
  return JSON.stringify([RULES_VERSION, settings]);
}
