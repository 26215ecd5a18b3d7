import { existsSync, statSync } from 'node:fs';
import * as z from '../core/zod.js';
import { AgenceError } from '../core/errors.js';
import { firstIssue } from '../core/schemas.js';
import type { ShardPaths } from '../shard/layout.js';
import { grantCovering, useGrants } from './grants.js';
import { decide, type GuardDecision, loadGuard, topReasons } from './guard.js';
import { appendLedger } from '../ledger/ledger.js';

/**
 * Claude Code's PreToolUse hook: the payload on stdin names the tool and its input; for Bash the
 * guard classifies `tool_input.command` and answers allow (T0/T1), ask (T2) or deny (T3/T4).
 * Claude Code lets a command through when a hook fails (any exit but 0 and 2), so every failure
 * here, a bad payload or a malformed policy included, is answered as a deny, never as an error.
 */

const PayloadSchema = z.deferred(() => z.looseObject({
  tool_name: z.string(),
  tool_input: z.optional(z.looseObject({ command: z.optional(z.string()) })),
  cwd: z.optional(z.string()),
  session_id: z.optional(z.string()),
  hook_event_name: z.optional(z.string()),
}));

export type Permission = 'allow' | 'ask' | 'deny';

export interface HookAnswer {
  /** What Claude Code reads; null for tools the guard leaves to Claude Code's own permissions. */
  output: { hookSpecificOutput: { hookEventName: 'PreToolUse'; permissionDecision: Permission; permissionDecisionReason: string } } | null;
  decision: GuardDecision | null;
  permission: Permission | null;
  tool: string | null;
  sessionId: string | null;
  cwd: string;
  shard: ShardPaths | null;
}

const answer = (permission: Permission, reason: string) => ({
  hookSpecificOutput: { hookEventName: 'PreToolUse' as const, permissionDecision: permission, permissionDecisionReason: reason },
});

export function permissionFor(tier: string): Permission {
  return tier === 'T0' || tier === 'T1' ? 'allow' : tier === 'T2' ? 'ask' : 'deny';
}

function reasonText(d: GuardDecision): string {
  const top = d.reasons.filter((r) => r.tier === d.tier).slice(0, 3);
  const why = top.map((r) => `${r.rule && r.rule !== 'default_tier' ? `[${r.rule}] ` : ''}${r.reason}${r.part !== d.command ? ` (in: ${r.part.split('\n')[0]})` : ''}`).join('; ');
  return `agence guard ${d.tier}: ${why}${d.grants.length > 0 ? ` (capability token ${d.grants.join(', ')})` : ''}`;
}

export interface HookEnv {
  cwd: string;
  env: NodeJS.ProcessEnv;
  now: Date;
}

export async function claudeHook(stdin: string, hook: HookEnv): Promise<HookAnswer> {
  const none = { decision: null, tool: null, sessionId: null, cwd: hook.cwd, shard: null };
  let payload: z.infer<typeof PayloadSchema>;
  try {
    const parsed = PayloadSchema.safeParse(JSON.parse(stdin));
    if (!parsed.success) throw new Error(firstIssue(parsed.error));
    payload = parsed.data;
  } catch (error) {
    return { ...none, permission: 'deny', output: answer('deny', `agence guard: the hook input is not a PreToolUse payload (${(error as Error).message}); denied to be safe`) };
  }
  const cwd = payload.cwd && existsSync(payload.cwd) && statSync(payload.cwd).isDirectory() ? payload.cwd : hook.cwd;
  const base = { tool: payload.tool_name, sessionId: payload.session_id ?? null, cwd, shard: null };
  if (payload.tool_name !== 'Bash') return { ...base, decision: null, permission: null, output: null };
  const command = payload.tool_input?.command;
  if (typeof command !== 'string' || command.trim() === '') {
    return { ...base, decision: null, permission: 'deny', output: answer('deny', 'agence guard: a Bash call without a command; denied') };
  }
  try {
    // Claude is an agent even when the person who started it is an admin: it never gets the
    // admin's right to write CODEX.
    const actor = hook.env.AGENCE_AGENT || 'claude';
    const guard = await loadGuard({ cwd, env: { ...hook.env, AGENCE_AGENT: actor }, mentionsCodex: command.includes('codex') });
    const decision = await decide(guard, command, actor, guard.shard ? grantCovering(guard.shard, actor, hook.now) : null);
    const permission = permissionFor(decision.tier);
    if (guard.shard) record(guard.shard, decision, permission, base, hook.now);
    return { ...base, shard: guard.shard, decision, permission, output: answer(permission, reasonText(decision)) };
  } catch (error) {
    const message = error instanceof AgenceError ? error.line : (error as Error).message;
    return { ...base, decision: null, permission: 'deny', output: answer('deny', `agence guard refuses every command until this is fixed: ${message}`) };
  }
}

/** Ledger the decision (and count the capability tokens an allow used) before Claude Code acts on it. */
function record(shard: ShardPaths, d: GuardDecision, permission: Permission, base: { tool: string; sessionId: string | null }, now: Date): void {
  if (permission === 'allow' && d.grants.length > 0) useGrants(shard, d.grants, now);
  appendLedger(
    shard,
    {
      actor: d.actor,
      action: 'guard.hook',
      subject: d.command,
      tier: d.tier,
      decision: permission,
      data: { source: 'claude-code', tool: base.tool, session: base.sessionId, grants: d.grants, reasons: topReasons(d) },
    },
    now,
  );
}
