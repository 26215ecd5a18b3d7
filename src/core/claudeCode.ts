import * as z from './zod.js';
import type { Session } from './session.js';

/**
 * Claude Code's session hooks (`^hook claude`): the payload Claude Code writes on the hook's
 * stdin, and what a save keeps of it in the session, under `runstate.memory_state.claude_code`
 * (memory_state is the agent's own state; chat keeps its turns there too), so `^resume` and
 * `^handoff` can point at the transcript.
 */

export const CLAUDE_SESSION_HOOKS = ['SessionStart', 'PreCompact', 'SessionEnd'] as const;
export type ClaudeSessionHook = (typeof CLAUDE_SESSION_HOOKS)[number];

// One line, no control characters: these strings end up in briefs and on terminals.
const text = () => z.string().check(z.minLength(1), z.maxLength(4096), z.regex(/^[^\u0000-\u001f\u007f]*$/, 'one line of text'));

/** The fields every hook gets, and the one of each event that says why it ran. */
export const ClaudeHookPayloadSchema = z.deferred(() => z.looseObject({
  session_id: text(),
  transcript_path: text(),
  cwd: text(),
  hook_event_name: z.string(),
  /** SessionStart: startup, resume, clear or compact. */
  source: z.optional(z.string()),
  /** PreCompact: manual or auto. */
  trigger: z.optional(z.string()),
  /** SessionEnd: clear, logout, prompt_input_exit, other. */
  reason: z.optional(z.string()),
}));
export type ClaudeHookPayload = z.infer<typeof ClaudeHookPayloadSchema>;

export const ClaudeCodeRecordSchema = z.deferred(() => z.object({
  session_id: text(),
  transcript_path: text(),
  /** The hook that saved it, with its trigger or reason: `PreCompact (auto)`. */
  event: z.string(),
  cwd: z.string(),
}));
export type ClaudeCodeRecord = z.infer<typeof ClaudeCodeRecordSchema>;

export function claudeCodeRecord(payload: ClaudeHookPayload): ClaudeCodeRecord {
  const why = payload.trigger ?? payload.reason ?? payload.source;
  return { session_id: payload.session_id, transcript_path: payload.transcript_path, event: `${payload.hook_event_name}${why ? ` (${why})` : ''}`, cwd: payload.cwd };
}

/** The Claude Code session a session was saved from, or null (never saved by a hook, or not readable). */
export function claudeCodeOf(session: Session): ClaudeCodeRecord | null {
  const parsed = ClaudeCodeRecordSchema.safeParse(session.runstate.memory_state.claude_code);
  return parsed.success ? parsed.data : null;
}
