import { join } from 'node:path';
import { appendLine } from '../store/jsonl.js';
import { withFileLock } from '../store/lockFile.js';
import type { ShardPaths } from '../shard/layout.js';

/**
 * The guard's own logs in `nexus/logs/`: `guard.jsonl` (every hook decision) and `commands.jsonl`
 * (every validated command run). One JSON line per event, appended under the file's lock and
 * read back before the caller goes on.
 */
export function appendGuardLog(paths: ShardPaths, log: 'guard' | 'commands', record: Record<string, unknown>, now: Date): void {
  const file = join(paths.nexus, 'logs', `${log}.jsonl`);
  withFileLock(file, () => appendLine(file, JSON.stringify({ ts: now.toISOString(), ...record }), now));
}
