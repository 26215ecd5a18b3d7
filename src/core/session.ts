import * as z from './zod.js';
import { AgenceError } from './errors.js';
import { isoTime } from './schemas.js';

/**
 * A session: a saved unit of agent work (DESIGN §1). One schema validates every record read or
 * written, gives the TypeScript type, and is exported as JSON Schema to docs/session.schema.json.
 */

export const SESSION_ID_RE = /^[0-9a-f]{8}$/;

export const SESSION_STATUSES = ['CREATED', 'SAVED', 'ACTIVE', 'TRANSFERRED', 'COMPLETED', 'ARCHIVED'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export const TODO_STATUSES = ['pending', 'in_progress', 'done'] as const;
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

const nullableString = () => z.nullable(z.string());

export const TodoSchema = z.deferred(() => z.object({
  id: z.string().check(z.minLength(1)),
  title: z.string(),
  status: z.enum(TODO_STATUSES),
}));
export type Todo = z.infer<typeof TodoSchema>;

export const NoteSchema = z.deferred(() => z.object({ at: isoTime(), author: z.string(), text: z.string() }));
export type Note = z.infer<typeof NoteSchema>;

export const SessionSchema = z.deferred(() => z.object({
  session_id: z.string().check(z.regex(SESSION_ID_RE, '8 lowercase hex digits')),
  rev: z.int().check(z.positive()),
  created_at: isoTime(),
  updated_at: isoTime(),
  status: z.enum(SESSION_STATUSES),
  agent: z.string(),
  runstate: z.object({
    agent_context: z.string(),
    execution_stack: z.array(z.string()),
    memory_state: z.record(z.string(), z.unknown()),
    cursor_position: z.nullable(z.object({ file: z.string(), line: z.nullable(z.int()) })),
    todo_list: z.array(TodoSchema),
  }),
  metadata: z.object({
    task_description: z.string(),
    repo: z.string(),
    priority: z.enum(PRIORITIES),
    tags: z.array(z.string()),
  }),
  git: z.object({
    branch: nullableString(),
    head: nullableString(),
    dirty: z.array(z.string()),
    staged: z.array(z.string()),
  }),
  cwd: z.string(),
  notes: z.array(NoteSchema),
  shell_history: z.array(z.string()),
  lineage: z.object({
    parent: nullableString(),
    from_shard: nullableString(),
    from_agent: nullableString(),
    to_agent: nullableString(),
    handoff_note: nullableString(),
  }),
  /** The agent's tmux buffer, relative to `.agence/` (`nexus/buffers/<id>.log`), once `^save` has seen one. */
  buffer: z.optional(z.string()),
}));
export type Session = z.infer<typeof SessionSchema>;

/** Validate a session id from outside before it names anything on disk. */
export function assertSessionId(id: string, what = 'session id'): string {
  if (!SESSION_ID_RE.test(id)) {
    throw new AgenceError('usage', `"${id.length > 40 ? `${id.slice(0, 40)}...` : id}" is not a ${what}`, {
      fix: 'a session id is 8 lowercase hex digits, like 69a8f74c (see `agence ^sessions`)',
    });
  }
  return id;
}

/** A session as a user names it: `69a8f74c`, or `shard:69a8f74c` for one of this shard's. */
export function parseSessionRef(input: string, shard: string): string {
  const colon = input.lastIndexOf(':');
  if (colon === -1) return assertSessionId(input);
  const owner = input.slice(0, colon);
  const id = assertSessionId(input.slice(colon + 1));
  if (owner !== shard) {
    throw new AgenceError('not_found', `session ${input} belongs to shard ${owner}, not to this one (${shard})`, {
      fix: 'run the command in that shard, or hand the session over with `agence ^handoff`',
    });
  }
  return id;
}

/** The id for a session created at `now`: its Unix time in seconds, or the next free value. */
export function nextSessionId(now: Date, lastAllocated: string | null): string {
  const fromClock = Math.floor(now.getTime() / 1000);
  const afterLast = lastAllocated === null ? 0 : Number.parseInt(lastAllocated, 16) + 1;
  const value = Math.max(fromClock, afterLast);
  if (value > 0xffffffff) throw new AgenceError('conflict', 'session ids are exhausted (past 2106)');
  return value.toString(16).padStart(8, '0');
}

/** `shard:id`, how a session is named across shards. */
export function qualifiedSessionName(shard: string, id: string): string {
  return `${shard}:${id}`;
}

export type SessionEvent = 'save' | 'resume' | 'handoff' | 'done' | 'reopen' | 'archive';

/**
 * The lifecycle of the architecture: CREATE -> SAVED -> RESUME -> ACTIVE, HANDOFF -> TRANSFERRED,
 * COMPLETED, ARCHIVED after expiry. A completed session is reopened explicitly, never resumed.
 */
const TRANSITIONS: Record<SessionStatus, Partial<Record<SessionEvent, SessionStatus>>> = {
  CREATED: { save: 'SAVED' },
  SAVED: { save: 'SAVED', resume: 'ACTIVE', handoff: 'TRANSFERRED', done: 'COMPLETED' },
  ACTIVE: { save: 'SAVED', resume: 'ACTIVE', handoff: 'TRANSFERRED', done: 'COMPLETED' },
  TRANSFERRED: { archive: 'ARCHIVED' },
  COMPLETED: { reopen: 'SAVED', archive: 'ARCHIVED' },
  ARCHIVED: {},
};

export function allowedEvents(status: SessionStatus): SessionEvent[] {
  return Object.keys(TRANSITIONS[status]) as SessionEvent[];
}

export function transition(status: SessionStatus, event: SessionEvent, id = 'the session'): SessionStatus {
  const next = TRANSITIONS[status][event];
  if (next) return next;
  const allowed = allowedEvents(status);
  throw new AgenceError('conflict', `session ${id} is ${status} and cannot be ${PAST[event]}`, {
    fix: allowed.length > 0 ? `from ${status} it can be: ${allowed.map((e) => COMMAND[e]).join(', ')}` : `${status} is final`,
  });
}

const PAST: Record<SessionEvent, string> = {
  save: 'saved',
  resume: 'resumed',
  handoff: 'handed off',
  done: 'completed',
  reopen: 'reopened',
  archive: 'archived',
};

const COMMAND: Record<SessionEvent, string> = {
  save: 'saved (^save)',
  resume: 'resumed (^resume)',
  handoff: 'handed off (^handoff)',
  done: 'completed (^done)',
  reopen: 'reopened (^session reopen)',
  archive: 'archived (^session archive)',
};

/** "step 3/8": the first todo not done, out of all. */
export function todoProgress(todos: readonly Todo[]): { done: number; total: number; step: number } {
  const done = todos.filter((t) => t.status === 'done').length;
  return { done, total: todos.length, step: Math.min(done + 1, todos.length) };
}
