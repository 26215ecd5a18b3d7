import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { type LlmCall, LlmCallSchema, monthStart, sumCalls } from '../core/llmCall.js';
import { firstIssue } from '../core/schemas.js';
import type { ShardPaths } from '../shard/layout.js';
import { appendLine, scanJsonl } from '../store/jsonl.js';
import { withFileLock } from '../store/lockFile.js';

/** `nexus/logs/llm-calls.jsonl`: appended under a lock, one fsynced line per call. */

export function callLogFile(paths: ShardPaths): string {
  return join(paths.nexus, 'logs', 'llm-calls.jsonl');
}

function decode(value: unknown): LlmCall {
  const parsed = LlmCallSchema.safeParse(value);
  if (!parsed.success) throw new AgenceError('corrupt', `not a call record (${firstIssue(parsed.error)})`);
  return parsed.data;
}

export function appendCall(paths: ShardPaths, call: LlmCall, now: Date): void {
  const file = callLogFile(paths);
  mkdirSync(join(paths.nexus, 'logs'), { recursive: true });
  const line = JSON.stringify(decode(call));
  withFileLock(file, () => appendLine(file, line, now));
}

/** Every call recorded; damaged lines are skipped and counted (the log is an account, not a record agence depends on). */
export function readCalls(paths: ShardPaths): { calls: LlmCall[]; damaged: number } {
  const file = callLogFile(paths);
  if (!existsSync(file)) return { calls: [], damaged: 0 };
  const scan = scanJsonl(file, decode);
  return { calls: scan.lines.map((r) => r.value), damaged: scan.bad.length };
}

/** What this shard spent on model calls in the current UTC month. */
export function spentThisMonth(paths: ShardPaths, now: Date): number {
  return sumCalls(readCalls(paths).calls, 'agent', monthStart(now)).total.cost;
}
