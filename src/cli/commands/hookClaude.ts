import { readFileSync, statSync } from 'node:fs';
import { CLAUDE_SESSION_HOOKS, type ClaudeHookPayload, ClaudeHookPayloadSchema, type ClaudeSessionHook, claudeCodeRecord } from '../../core/claudeCode.js';
import { AgenceError } from '../../core/errors.js';
import { estimateTokens } from '../../core/knowledgeText.js';
import { firstIssue } from '../../core/schemas.js';
import { qualifiedSessionName } from '../../core/session.js';
import { currentSession, resumeSession, saveSession } from '../../sessions/sessions.js';
import { requireShard } from '../../shard/layout.js';
import { settledBase } from '../../shard/manifest.js';
import type { Handler, Invocation, Outcome } from '../types.js';
import { sessionContext } from '../sessionContext.js';
import { packOutcome } from './reload.js';
import { briefText } from './resume.js';

/**
 * `^hook claude`: Claude Code's session hooks, the event named by the payload on stdin.
 * SessionStart prints the session brief and the context pack (Claude Code adds a SessionStart
 * hook's stdout to the model's context); PreCompact and SessionEnd save the shard's current
 * session with the transcript path Claude Code gives. A hook must never break Claude Code:
 * every failure is one line on stderr and exit 1, its "non-blocking error" (2 would block a
 * compaction, and show Claude the message as if it were an instruction).
 */

/** CLAUDE.md (`^regen`) carries the whole codex already; this is the session and the lessons on top, well under Claude Code's 10,000 characters of hook output. */
const SESSION_START_BUDGET = 2000;
/** The pack keeps room for the laws (never dropped) even after a long brief. */
const MIN_PACK = 500;
/** Notes are up to 64 KB each: a brief longer than this is cut (the whole one is a `^resume` away). */
const BRIEF_MAX = 4000;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n... (brief cut at ${max} characters: \`agence ^resume\` prints it whole)`;
}

function readPayload(stdin: string): ClaudeHookPayload & { hook_event_name: ClaudeSessionHook } {
  const fix = 'Claude Code writes the payload on stdin: register the hooks with `agence ^setup claude`';
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (error) {
    throw new AgenceError('usage', `the hook input is not JSON (${(error as Error).message})`, { fix });
  }
  const parsed = ClaudeHookPayloadSchema.safeParse(raw);
  if (!parsed.success) throw new AgenceError('usage', `the hook input is not a Claude Code hook payload (${firstIssue(parsed.error)})`, { fix });
  const event = parsed.data.hook_event_name;
  if (!(CLAUDE_SESSION_HOOKS as readonly string[]).includes(event)) {
    throw new AgenceError('usage', `"${event}" is not a session hook: ^hook claude answers ${CLAUDE_SESSION_HOOKS.join(', ')}`, { fix: 'PreToolUse goes to `agence ^guard hook claude`; run `agence ^setup claude` to register each where it belongs' });
  }
  let isDir = false;
  try {
    isDir = statSync(parsed.data.cwd).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new AgenceError('usage', `the hook's cwd "${parsed.data.cwd}" is not a directory`, { fix });
  return parsed.data as ClaudeHookPayload & { hook_event_name: ClaudeSessionHook };
}

/** What run.ts does before a shard command: bring base/ in line with agence.lock. */
async function readyShard(cwd: string): Promise<void> {
  const shard = requireShard(cwd);
  if (!settledBase(shard)) await (await import('../../shard/master.js')).ensureBase(shard);
}

async function sessionStart(inv: Invocation, payload: ClaudeHookPayload): Promise<Outcome> {
  const { ctx } = await sessionContext(inv);
  const current = currentSession(ctx);
  const resumable = current !== null && (current.status === 'SAVED' || current.status === 'ACTIVE');
  const brief = resumable ? await resumeSession(ctx, current.session_id) : null;
  const head = brief ? cut(briefText(brief, inv.style), BRIEF_MAX) : 'agence: no active session in this shard yet; PreCompact and SessionEnd save one (or `agence ^save "note" --task T`).';
  // The brief is printed whole and counts against the budget; the pack leaves the session out (it is the brief).
  const pack = await packOutcome(inv, Math.max(MIN_PACK, SESSION_START_BUDGET - estimateTokens(head)), false);
  return { data: { event: payload.hook_event_name, session: brief?.name ?? null, pack: pack.data }, text: `${head}\n\n${pack.text}` };
}

async function saveFromClaude(inv: Invocation, payload: ClaudeHookPayload): Promise<Outcome> {
  const { ctx } = await sessionContext(inv);
  const record = claudeCodeRecord(payload);
  const { session, created } = await saveSession(ctx, { todos: [], tags: [], forceNew: false, memory: (state) => ({ ...state, claude_code: record }) });
  const name = qualifiedSessionName(ctx.shardName, session.session_id);
  return {
    data: { event: payload.hook_event_name, session: name, created, rev: session.rev, claude_code: record },
    text: `agence: ${created ? 'saved a new session' : 'saved session'} ${name} at ${record.event}; transcript ${record.transcript_path}`,
  };
}

export const run: Handler = async (inv) => {
  try {
    const payload = readPayload(readFileSync(0, 'utf8'));
    const here: Invocation = { ...inv, cwd: payload.cwd, args: [], opts: {}, agent: null };
    await readyShard(here.cwd);
    return payload.hook_event_name === 'SessionStart' ? await sessionStart(here, payload) : await saveFromClaude(here, payload);
  } catch (error) {
    const message = error instanceof AgenceError ? error.line : (error as Error).message;
    return { data: { error: message }, text: '', exit: 1, problem: `^hook claude: ${message}` };
  }
};
