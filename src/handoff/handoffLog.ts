import { join } from 'node:path';
import { appendLedger } from '../ledger/ledger.js';
import type { ShardPaths } from '../shard/layout.js';
import { appendLine } from '../store/jsonl.js';
import { withFileLock } from '../store/lockFile.js';

/**
 * Every export, push, accept and refusal of a handoff, one JSON line each in
 * `nexus/logs/handoffs.jsonl` (locked append, fsynced, read back), and in the ledger as
 * `handoff.<action>`.
 */
export type HandoffAction = 'export' | 'push' | 'await-approval' | 'accept' | 'import' | 'refuse' | 'trust' | 'apply';

export interface HandoffEvent {
  action: HandoffAction;
  actor: string;
  /** The bundle, or for `trust` the fingerprint. */
  subject: string;
  decision: 'done' | 'refused' | 'pending';
  data?: Record<string, unknown>;
}

export function handoffLogFile(paths: ShardPaths): string {
  return join(paths.nexus, 'logs', 'handoffs.jsonl');
}

export function logHandoff(paths: ShardPaths, event: HandoffEvent, now: Date): void {
  const file = handoffLogFile(paths);
  withFileLock(file, () => appendLine(file, JSON.stringify({ at: now.toISOString(), ...event }), now));
  appendLedger(paths, { actor: event.actor, action: `handoff.${event.action}`, subject: event.subject, decision: event.decision, ...(event.data ? { data: event.data } : {}) }, now);
}
