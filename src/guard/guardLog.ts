import { join } from 'node:path';
import { appendLine } from '../store/jsonl.js';
import { withFileLock } from '../store/lockFile.js';
import type { ShardPaths } from '../shard/layout.js';

/**
 * `nexus/logs/commands.jsonl`: one JSON line per validated command (`/name`), whatever became of
 * it, appended under the file's lock and read back before the caller goes on. The ledger holds
 * the same decisions, tamper-evident; this log is the one people grep.
 */
export function appendCommandLog(paths: ShardPaths, record: Record<string, unknown>, now: Date): void {
  const file = join(paths.nexus, 'logs', 'commands.jsonl');
  withFileLock(file, () => appendLine(file, JSON.stringify({ ts: now.toISOString(), ...record }), now));
}
