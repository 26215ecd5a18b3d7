import * as z from '../core/zod.js';
import type { OptionValue, Outcome } from '../cli/types.js';
import type { GuardDecision } from '../guard/guard.js';
import type { Created, RecallHit, RecallResult } from '../knowledge/knowledge.js';
import type { LedgerVerdict } from '../ledger/ledgerVerify.js';
import type { SessionRow } from '../sessions/sessionIndex.js';
import { AgenceError } from '../core/errors.js';
import { ITEM_TYPES, LABELS } from '../core/knowledgeItem.js';
import { capText, decodeCursor, encodeCursor, fitPage, type Page } from '../core/mcpBounds.js';
import { PRIORITIES, SESSION_STATUSES } from '../core/session.js';

/**
 * The MCP tools: each maps its validated arguments onto one command of the routing table
 * (src/cli/routes.ts) and renders what that command's handler returned. The server runs the
 * handler exactly as the CLI does, so options, access checks and labels are the CLI's own.
 * Descriptions are short on purpose: agents pay for every token of tools/list.
 */

export interface ToolAnswer {
  text: string;
  /** A refusal the command itself does not fail on (a T3 verdict); a command's non-zero exit is one too. */
  isError?: boolean;
}

export interface CommandCall {
  /** The route: its mode and name in src/cli/routes.ts. */
  route: ['shared' | 'private', string];
  args: string[];
  opts: Record<string, OptionValue>;
}

export interface McpTool<S extends z.ZodMiniObject = z.ZodMiniObject> {
  name: string;
  description: string;
  input: S;
  command: (input: z.infer<S>) => CommandCall;
  render: (outcome: Outcome, input: z.infer<S>) => ToolAnswer;
}

const described = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.describe(description)) as T;
const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
const int = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));
const words = (maxItems: number) => z.array(text(100)).check(z.maxLength(maxItems));
const cursor = described(z.string().check(z.maxLength(64)), 'next_cursor of the previous page');

/** Recall's service returns at most this many hits, so a page never starts past it. */
const RECALL_MAX = 1000;
const SESSIONS_MAX = 100_000;

const json = (value: unknown): string => JSON.stringify(value);
const answer = (value: unknown): ToolAnswer => ({ text: capText(json(value)) });

interface PageRequest {
  offset: number;
  limit: number;
  /** How many items to ask the command for: one more than the page, to know whether there is a next one. */
  fetch: string;
}

/** The page a paged tool's input asks for. */
function pageOf(input: { cursor?: string; limit?: number }, defaultLimit: number, max: number): PageRequest {
  const limit = input.limit ?? defaultLimit;
  const offset = decodeCursor(input.cursor, max - limit);
  return { offset, limit, fetch: String(offset + limit + 1) };
}

/** A paged list: at most `limit` items and the byte cap, with next_cursor when there is more. */
function paged<T>(key: string, found: readonly T[], request: PageRequest, extra: Record<string, unknown> = {}): ToolAnswer {
  const render = (page: Page<T>) =>
    json({ ...extra, [key]: page.items, ...(page.next !== null ? { next_cursor: encodeCursor(page.next) } : {}), ...(page.truncated ? { truncated: page.truncated } : {}) });
  return { text: fitPage(found.slice(request.offset), request.offset, request.limit, render).text };
}

/** Recall's highlight marks (control characters) as Markdown bold; code chunks without their text (the snippet has the match). */
function hitForAgent(hit: RecallHit) {
  const { shard: _shard, origin: _origin, score: _score, chunk, snippet, ...rest } = hit;
  return {
    ...rest,
    snippet: snippet.replace(/[\u0002\u0003]/g, '**'),
    ...(chunk ? { chunk: { kind: chunk.kind, name: chunk.name, signature: chunk.signature, lines: `${chunk.start}-${chunk.end}` } } : {}),
  };
}

const recallInput = z.deferred(() => z.strictObject({
  query: text(500),
  limit: z.optional(int(1, 50)),
  cursor: z.optional(cursor),
  type: z.optional(z.enum(ITEM_TYPES)),
  tag: z.optional(text(100)),
  formtag: z.optional(described(text(20), 'prefix: 4 is 400-499')),
  code: z.optional(described(z.boolean(), 'only code chunks')),
  private: z.optional(described(z.boolean(), 'include private (hermetic) items')),
}));

const learnInput = z.deferred(() => z.strictObject({
  text: described(text(60_000), 'the lesson; first line is the title'),
  title: z.optional(text(200)),
  tags: z.optional(words(10)),
  formtag: z.optional(text(20)),
  label: z.optional(z.enum(LABELS)),
  files: z.optional(described(z.array(text(400)).check(z.maxLength(20)), 'PATH[:LINE] it is about')),
  private: z.optional(described(z.boolean(), 'to hermetic/: never leaves this machine')),
}));

const contextInput = z.deferred(() => z.strictObject({
  task: z.optional(described(text(500), 'pick lessons for this task')),
  budget: z.optional(described(int(100, 8000), 'tokens, default 4000')),
}));

const saveInput = z.deferred(() => z.strictObject({
  note: z.optional(text(60_000)),
  task: z.optional(text(500)),
  todos: z.optional(words(20)),
  tags: z.optional(words(10)),
  priority: z.optional(z.enum(PRIORITIES)),
  new: z.optional(described(z.boolean(), 'start a new session')),
}));

const resumeInput = z.deferred(() => z.strictObject({ id: z.optional(described(text(100), 'default: most recent saved')) }));

const sessionsInput = z.deferred(() => z.strictObject({
  status: z.optional(z.enum(SESSION_STATUSES)),
  agent: z.optional(text(64)),
  tag: z.optional(text(100)),
  limit: z.optional(int(1, 50)),
  cursor: z.optional(cursor),
}));

const handoffInput = z.deferred(() => z.strictObject({
  agent: text(64),
  note: z.optional(text(4000)),
  to_shard: z.optional(described(text(100), 'default: the shard that has the agent')),
}));

const guardInput = z.deferred(() => z.strictObject({ command: text(4000) }));

/** `^save -` reads the note from standard input, which is the protocol here: refused, not read. */
function noteArgument(note: string): string {
  if (note === '-') throw new AgenceError('usage', 'session_save: note "-" means standard input on the command line; here it has no meaning', { fix: 'give the note itself' });
  return note;
}

/** A tool with its own input type, in the table of all tools (whose inputs are checked before `command`). */
const tool = <S extends z.ZodMiniObject>(t: McpTool<S>): McpTool => t as unknown as McpTool;

/** One string option when the input has it. */
const opt = (name: string, value: string | number | undefined): Record<string, OptionValue> => (value === undefined ? {} : { [name]: String(value) });

export const MCP_TOOLS: readonly McpTool[] = [
  tool({
    name: 'recall',
    description: 'Search the shard knowledge (lessons, docs, faults, code), best first.',
    input: recallInput,
    command: (i) => ({
      route: ['shared', 'recall'],
      args: [i.query],
      opts: { limit: pageOf(i, 10, RECALL_MAX).fetch, ...opt('type', i.type), ...opt('tag', i.tag), ...opt('formtag', i.formtag), code: i.code === true, private: i.private === true },
    }),
    render: (outcome, i) => {
      const result = outcome.data as RecallResult;
      return paged('hits', result.hits.map(hitForAgent), pageOf(i, 10, RECALL_MAX), { matched: result.matched });
    },
  }),
  tool({
    name: 'learn',
    description: 'Record a lesson (shared through git unless private).',
    input: learnInput,
    command: (i) => ({
      route: [i.private ? 'private' : 'shared', 'learn'],
      args: [i.text],
      opts: { ...opt('title', i.title), ...opt('formtag', i.formtag), ...opt('label', i.label), tag: i.tags ?? [], file: i.files ?? [] },
    }),
    render: (outcome) => {
      const { item, path, similar } = outcome.data as Created;
      return answer({ id: item.id, title: item.title, path, formtag: item.formtag, label: item.label, similar: similar.map((s) => ({ id: s.id, title: s.title })) });
    },
  }),
  tool({
    name: 'context',
    description: 'The context pack: laws, principles, rules, persona, session brief, relevant lessons.',
    input: contextInput,
    command: (i) => ({ route: ['shared', 'reload'], args: [], opts: { budget: String(i.budget ?? 4000), ...opt('task', i.task) } }),
    render: (outcome) => ({ text: capText(outcome.text) }),
  }),
  tool({
    name: 'session_save',
    description: 'Save the work in progress as the current session (creates one if none).',
    input: saveInput,
    command: (i) => ({
      route: ['shared', 'save'],
      args: i.note === undefined ? [] : [noteArgument(i.note)],
      opts: { ...opt('task', i.task), ...opt('priority', i.priority), todo: i.todos ?? [], tag: i.tags ?? [], new: i.new === true },
    }),
    render: (outcome) => {
      const { created, session } = outcome.data as { created: boolean; session: { session_id: string; rev: number; status: string } };
      return answer({ session_id: session.session_id, rev: session.rev, status: session.status, created });
    },
  }),
  tool({
    name: 'session_resume',
    description: 'Make a session active and get its brief (task, todos, notes, git drift).',
    input: resumeInput,
    command: (i) => ({ route: ['shared', 'resume'], args: i.id === undefined ? [] : [i.id], opts: {} }),
    render: (outcome) => ({ text: capText(outcome.text) }),
  }),
  tool({
    name: 'sessions',
    description: 'List sessions, newest first.',
    input: sessionsInput,
    command: (i) => ({ route: ['shared', 'sessions'], args: [], opts: { limit: pageOf(i, 20, SESSIONS_MAX).fetch, ...opt('status', i.status), ...opt('agent', i.agent), ...opt('tag', i.tag) } }),
    render: (outcome, i) => {
      // The index's own columns (tier, offset, length) mean nothing to an agent.
      const rows = (outcome.data as { sessions: SessionRow[] }).sessions.map(({ tier: _t, offset: _o, length: _l, ...row }) => row);
      return paged('sessions', rows, pageOf(i, 20, SESSIONS_MAX));
    },
  }),
  tool({
    name: 'handoff',
    description: 'Hand the current session to another agent (signed bundle over the exchange remote).',
    input: handoffInput,
    command: (i) => ({ route: ['shared', 'handoff'], args: i.note === undefined ? [i.agent] : [i.agent, i.note], opts: opt('to', i.to_shard) }),
    // Not pushed (an agent's cross-shard handoff waits for a person's approval) exits 2: the call is an error.
    render: (outcome) => {
      const { bundle: _bundle, approval, ...rest } = outcome.data as { bundle?: unknown; approval?: unknown; bundle_id: string };
      if (approval) return { text: `not pushed: a cross-shard handoff by an agent needs a person's approval: agence ^approve ${rest.bundle_id}` };
      return answer(rest);
    },
  }),
  tool({
    name: 'guard_check',
    description: 'Classify a shell command: tier T0 run .. T4 never, and why. Runs nothing.',
    input: guardInput,
    command: (i) => ({ route: ['shared', 'guard check'], args: [i.command], opts: {} }),
    render: (outcome) => {
      const d = outcome.data as GuardDecision;
      const reasons = d.reasons.map((r) => `${r.tier}${r.rule ? ` [${r.rule}]` : ''} ${r.reason}`);
      // Blocked and never-run commands are refusals: the agent sees them as errors, with the reason.
      if (d.tier === 'T3' || d.tier === 'T4') return { text: `refused: ${d.tier} ${d.tier === 'T3' ? 'blocked' : 'never'}: ${reasons.join('; ')}`, isError: true };
      return answer({ tier: d.tier, reasons, ...(d.grants.length ? { grants: d.grants } : {}) });
    },
  }),
  tool({
    name: 'ledger_verify',
    description: 'Verify the decision ledger hash chain.',
    input: z.strictObject({}),
    command: () => ({ route: ['shared', 'ledger verify'], args: [], opts: {} }),
    render: (outcome) => {
      const v = outcome.data as LedgerVerdict;
      return answer({ ok: v.ok, entries: v.entries, bytes: v.bytes, problem: v.problem?.message ?? null, notes: v.notes });
    },
  }),
];

type ListedTool = { name: string; description: string; inputSchema: Record<string, unknown> };
let listed: ListedTool[] | undefined;

/** tools/list as sent: JSON Schemas from the zod schemas, without what clients do not need (made once per process). */
export function toolList(): ListedTool[] {
  return (listed ??= MCP_TOOLS.map((tool) => {
    const { $schema: _schema, ...inputSchema } = z.toJSONSchema(tool.input) as Record<string, unknown>;
    return { name: tool.name, description: tool.description, inputSchema };
  }));
}
