import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as z from '../core/zod.js';
import { AgenceError } from '../core/errors.js';
import { assertBundleId, BUNDLE_ID_RE } from '../core/handoff.js';
import { COMMIT_RE } from '../core/schemas.js';
import type { ShardPaths } from '../shard/layout.js';
import { formatJson, writeFileAtomic } from '../store/atomic.js';
import { readJsonFile } from '../store/files.js';

/**
 * The bundles this shard accepted, one record each in `nexus/handoffs/accepted/<id>.json`: replays
 * are refused by them, and `^resume --apply` finds the work a session brought through them.
 */
const AcceptedSchema = z.deferred(() => z.object({
  bundle_id: z.string().check(z.regex(BUNDLE_ID_RE)),
  session_id: z.string(),
  from_shard: z.string(),
  from_agent: z.string(),
  accepted_at: z.string(),
  via: z.enum(['ref', 'file']),
  worktree: z.nullable(z.object({ commit: z.string().check(z.regex(COMMIT_RE)), base: z.string().check(z.regex(COMMIT_RE)) })),
}));
export type Accepted = z.infer<typeof AcceptedSchema>;

function acceptedDir(paths: ShardPaths): string {
  return join(paths.nexus, 'handoffs', 'accepted');
}

function acceptedFile(paths: ShardPaths, id: string): string {
  return join(acceptedDir(paths), `${assertBundleId(id)}.json`);
}

export function readAccepted(paths: ShardPaths, id: string): Accepted | null {
  const file = acceptedFile(paths, id);
  return readJsonFile(file, AcceptedSchema, { fix: `move ${file} aside; the bundle can then be accepted again` });
}

export function writeAccepted(paths: ShardPaths, record: Accepted): void {
  writeFileAtomic(acceptedFile(paths, record.bundle_id), formatJson(record));
}

/**
 * Whether bundle `id` was accepted here before: a replay (refused) once its session is stored;
 * the id of that session if its import was cut short after the mark was written (to finish it);
 * null if never.
 */
export function unfinishedImport(paths: ShardPaths, id: string, exists: (sessionId: string) => boolean): string | null {
  const previous = readAccepted(paths, id);
  if (!previous) return null;
  if (!exists(previous.session_id)) return previous.session_id;
  throw new AgenceError('refused', `bundle ${id} was already accepted here on ${previous.accepted_at} (session ${previous.session_id}): a replay`, {
    fix: `continue that session: \`agence ^resume ${previous.session_id}\``,
  });
}

/** The accepted bundle a session came from, by session id. */
export function acceptedFor(paths: ShardPaths, sessionId: string): Accepted | null {
  const dir = acceptedDir(paths);
  if (!existsSync(dir)) return null;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json') || !BUNDLE_ID_RE.test(name.slice(0, -5))) continue;
    const record = readAccepted(paths, name.slice(0, -5));
    if (record?.session_id === sessionId) return record;
  }
  return null;
}
