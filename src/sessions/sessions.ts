import { closeSync, existsSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { bufferPath } from '../core/buffers.js';
import { AgenceError } from '../core/errors.js';
import {
  assertSessionId,
  parseSessionRef,
  type Priority,
  qualifiedSessionName,
  type Session,
  SessionSchema,
  type SessionEvent,
  type Todo,
  todoProgress,
  transition,
} from '../core/session.js';
import type { WorkTreeState } from '../git/git.js';
import type { Finding } from '../shard/doctor.js';
import type { ShardPaths } from '../shard/layout.js';
import { writeFileAtomic } from '../store/atomic.js';
import { readRange } from '../store/jsonl.js';
import { type ListFilter, list, lookup, openIndex, type OpenedIndex, recordRevision, type SessionRow } from './sessionIndex.js';
import {
  allocateId,
  appendRevision,
  compact,
  quarantined,
  readAt,
  scanTier,
  type SessionPaths,
  sessionPaths,
  type StoredAt,
  type Tier,
  TIERS,
  withStoreLock,
} from './sessionStore.js';
import { addToArchive, archiveMonth, archiveMonths, readArchive, readArchived } from './sessionArchive.js';

/**
 * The sessions service: save, resume, list, show, complete and reopen agent sessions. The tier
 * files are the record; the index (SQLite) finds things in them; the `current` file remembers the
 * session this shard is working on, with where its latest revision is, so `^save` needs no index.
 */

export interface SessionContext {
  shard: ShardPaths;
  /** This shard's name: sessions are `name:id` across shards. */
  shardName: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  /** The agent when none is given: AGENCE_AGENT, else the shard's default agent. */
  defaultAgent: string;
  /** Who writes notes: AGENCE_AGENT, else the user (asked of git only when needed). */
  actor: () => Promise<string>;
  /** Branch, HEAD and changed files of the work tree at a folder (git, or an answer git gave early). */
  workTree: (cwd: string) => Promise<WorkTreeState>;
  /** Where to say that the index was (re)built. */
  notify: (message: string) => void;
}

/** The session this shard is working on, and where its latest revision is stored. */
interface CurrentPointer extends StoredAt {
  id: string;
  rev: number;
}

/** Only saving and resuming look at git: listing and showing do not pay for loading child_process. */
const loadGit = () => import('../git/git.js');

const MAX_NOTE_BYTES = 64 * 1024;
const HISTORY_LINES = 20;
const HISTORY_TAIL_BYTES = 64 * 1024;
const SECRETISH = /(pass(word|wd)?|secret|token|api[_-]?key|authorization|bearer|private[_-]?key)/i;

function paths(ctx: SessionContext): SessionPaths {
  return sessionPaths(ctx.shard.nexus);
}

function readPointer(p: SessionPaths, env: NodeJS.ProcessEnv): CurrentPointer | { id: string } | null {
  const fromEnv = env.AGENCE_SESSION;
  if (fromEnv) return { id: assertSessionId(fromEnv, 'AGENCE_SESSION value') };
  if (!existsSync(p.current)) return null;
  try {
    const value = JSON.parse(readFileSync(p.current, 'utf8')) as CurrentPointer;
    if (typeof value.id !== 'string' || !/^[0-9a-f]{8}$/.test(value.id)) return null;
    // The location is used only if it names a tier file or a month's archive, nothing else.
    const placed = ((TIERS as readonly string[]).includes(value.tier) || /^archive\/\d{4}-\d{2}$/.test(value.tier)) && Number.isSafeInteger(value.offset) && Number.isSafeInteger(value.length) && Number.isSafeInteger(value.rev);
    return placed ? value : { id: value.id };
  } catch {
    return null; // the pointer is a hint; the index knows where the session is
  }
}

function writePointer(p: SessionPaths, session: Session, at: StoredAt): void {
  writeFileAtomic(p.current, `${JSON.stringify({ id: session.session_id, rev: session.rev, ...at })}\n`);
}

function clearPointer(p: SessionPaths, id: string): void {
  const pointer = readPointer(p, {});
  if (pointer?.id === id) writeFileAtomic(p.current, '{}\n');
}

/** A stored revision wherever it is: a tier file, or a month's archive. */
function readStored(p: SessionPaths, at: StoredAt): Session | null {
  if (at.tier.startsWith('archive/')) return readArchived(p, at.tier.slice('archive/'.length), at.offset, at.length);
  return readAt(p, at as StoredAt & { tier: Tier });
}

/** The latest revision of `id`, found through the index (rebuilt once if it points at the wrong line). */
function loadLatest(ctx: SessionContext, id: string): { session: Session; at: StoredAt; index: OpenedIndex } {
  const p = paths(ctx);
  let index = openIndex(p, { notify: ctx.notify });
  for (let attempt = 0; attempt < 2; attempt++) {
    const row = lookup(index.db, id);
    if (!row) break;
    const at: StoredAt = { tier: row.tier, offset: row.offset, length: row.length };
    const session = readStored(p, at);
    if (session && session.session_id === id && session.rev === row.rev) return { session, at, index };
    index.db.close();
    ctx.notify(`the session index pointed ${id} at the wrong line; rebuilt it`);
    index = openIndex(p, { rebuild: true });
  }
  index.db.close();
  throw new AgenceError('not_found', `no session ${id} in this shard`, { fix: 'list them with `agence ^sessions`' });
}

/** The latest revision via the `current` pointer when it is still right, else via the index. */
function loadCurrent(ctx: SessionContext, pointer: CurrentPointer | { id: string }): { session: Session; at: StoredAt } {
  if ('tier' in pointer) {
    const session = readStored(paths(ctx), pointer);
    if (session && session.session_id === pointer.id && session.rev === pointer.rev) return { session, at: pointer };
  }
  const { session, at, index } = loadLatest(ctx, pointer.id);
  index.db.close();
  return { session, at };
}

function recentShellHistory(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME || homedir();
  const file = [env.HISTFILE, join(home, '.bash_history'), join(home, '.zsh_history')].find((f) => f && existsSync(f));
  if (!file) return [];
  try {
    // The last 64 KB hold the last lines: a history file of megabytes is not read whole at every save.
    const fd = openSync(file, 'r');
    let lines: string[];
    try {
      const size = fstatSync(fd).size;
      const start = Math.max(0, size - HISTORY_TAIL_BYTES);
      lines = readRange(fd, start, size - start).toString('utf8').split('\n');
      if (start > 0) lines.shift(); // cut by the start of the tail
    } finally {
      closeSync(fd);
    }
    return lines
      .slice(-200)
      .map((l) => l.replace(/^: \d+:\d+;/, '').trim()) // zsh extended history
      .filter((l) => l !== '' && !SECRETISH.test(l))
      .slice(-HISTORY_LINES);
  } catch {
    return [];
  }
}

function checkNote(text: string): string {
  if (Buffer.byteLength(text, 'utf8') > MAX_NOTE_BYTES) {
    throw new AgenceError('usage', `the note is ${Math.ceil(Buffer.byteLength(text, 'utf8') / 1024)} KB; notes are at most ${MAX_NOTE_BYTES / 1024} KB`, {
      fix: 'put long material in a file and reference it, or learn it as a doc (`agence ^doc add FILE`)',
    });
  }
  return text;
}

export interface SaveInput {
  note?: string;
  agent?: string;
  task?: string;
  todos: string[];
  priority?: Priority;
  tags: string[];
  forceNew: boolean;
  /** Update the session's memory_state (chat keeps its conversation there). */
  memory?: (state: Record<string, unknown>) => Record<string, unknown>;
  /** Leave the shard's current session as it is (a session made for an agent elsewhere: a tangent's). */
  keepCurrent?: boolean;
}

export interface SaveResult {
  session: Session;
  created: boolean;
  /** A torn line a crash left, moved aside before this save. */
  quarantined: string | null;
}

function mergeTodos(existing: Todo[], titles: string[]): Todo[] {
  const todos = [...existing];
  for (const title of titles) {
    if (todos.some((t) => t.title === title)) continue;
    todos.push({ id: String(todos.length + 1), title, status: 'pending' });
  }
  return todos;
}

interface SaveState {
  tree: Session['git'];
  history: string[];
  notes: Session['notes'];
  now: Date;
}

/** What `^save` (and `^handoff`, which saves first) records: git state, shell history, the note. */
async function saveState(ctx: SessionContext, input: { note?: string }): Promise<SaveState> {
  const note = input.note === undefined ? undefined : checkNote(input.note);
  const [tree, author] = await Promise.all([ctx.workTree(ctx.cwd), note ? ctx.actor() : Promise.resolve('')]);
  const now = ctx.now();
  return { tree, history: recentShellHistory(ctx.env), notes: note ? [{ at: now.toISOString(), author, text: note }] : [], now };
}

/** The current session with a save applied, as its next revision (not stored). */
function savedRevision(ctx: SessionContext, current: Session, input: Partial<SaveInput>, state: SaveState): Session {
  return {
    ...current,
    rev: current.rev + 1,
    updated_at: state.now.toISOString(),
    status: transition(current.status, 'save', current.session_id),
    agent: input.agent ?? current.agent,
    runstate: {
      ...current.runstate,
      todo_list: mergeTodos(current.runstate.todo_list, input.todos ?? []),
      memory_state: input.memory ? input.memory(current.runstate.memory_state) : current.runstate.memory_state,
    },
    metadata: {
      ...current.metadata,
      task_description: input.task ?? current.metadata.task_description,
      priority: input.priority ?? current.metadata.priority,
      tags: [...new Set([...current.metadata.tags, ...(input.tags ?? [])])],
    },
    git: state.tree,
    cwd: ctx.cwd,
    notes: [...current.notes, ...state.notes],
    shell_history: state.history,
  };
}

/** `^save`: a new session, or a new revision of the one this shard is working on. */
export async function saveSession(ctx: SessionContext, input: SaveInput): Promise<SaveResult> {
  const p = paths(ctx);
  const state = await saveState(ctx, input);
  const { now } = state;
  const at = now.toISOString();
  return withStoreLock(p, () => {
    const pointer = input.forceNew ? null : readPointer(p, ctx.env);
    const current = pointer ? loadCurrent(ctx, pointer).session : null;
    let session: Session;
    let created = false;
    if (current && (current.status === 'SAVED' || current.status === 'ACTIVE')) {
      session = savedRevision(ctx, current, input, state);
    } else {
      created = true;
      session = {
        session_id: allocateId(p, now),
        rev: 1,
        created_at: at,
        updated_at: at,
        status: transition('CREATED', 'save'),
        agent: input.agent ?? ctx.defaultAgent,
        runstate: { agent_context: '', execution_stack: [], memory_state: input.memory ? input.memory({}) : {}, cursor_position: null, todo_list: mergeTodos([], input.todos) },
        metadata: { task_description: input.task ?? '', repo: ctx.shard.mainRoot, priority: input.priority ?? 'normal', tags: [...new Set(input.tags)] },
        git: state.tree,
        cwd: ctx.cwd,
        notes: state.notes,
        shell_history: state.history,
        lineage: { parent: null, from_shard: null, from_agent: null, to_agent: null, handoff_note: null },
      };
    }
    // An agent ran in tmux for this session: the save says where its buffer is.
    const buffer = bufferPath(session.session_id);
    if (existsSync(join(dirname(ctx.shard.nexus), buffer))) session = { ...session, buffer };
    const stored = appendRevision(p, session, now); // validates the record before it is written
    if (!input.keepCurrent) writePointer(p, session, stored);
    return { session, created, quarantined: stored.quarantined };
  });
}

/**
 * The latest revision of `id`: through the `current` pointer when it names `id` (no SQLite, as
 * for `^save`), else through the index, which is returned open so the caller can record in it.
 */
function latestOf(ctx: SessionContext, id: string): { session: Session; index: OpenedIndex | null } {
  const pointer = readPointer(paths(ctx), ctx.env);
  if (pointer?.id === id) return { session: loadCurrent(ctx, pointer).session, index: null };
  return loadLatest(ctx, id);
}

/**
 * The first half of `^handoff` (the current session, saved first, with `note`) and of `^export
 * <id>` (that session as it is): the TRANSFERRED revision it becomes once the bundle is out.
 * Nothing is stored: the caller builds, signs and sends the bundle, then calls `storeTransfer`,
 * so a refused push leaves the store as it was.
 */
export async function prepareTransfer(ctx: SessionContext, input: { current: true; note?: string } | { current: false; id: string }): Promise<Session> {
  if (input.current && !readPointer(paths(ctx), ctx.env)) {
    throw new AgenceError('usage', 'no session to hand off: this shard has no current session', { fix: 'save the work first (`agence ^save "note"`), or resume a saved one (`agence ^resume ID`)' });
  }
  const target = targetId(ctx, input.current ? undefined : input.id, 'hand off');
  const state = input.current ? await saveState(ctx, input) : null;
  const { session: latest, index } = latestOf(ctx, target);
  index?.db.close();
  const saved = state && (latest.status === 'SAVED' || latest.status === 'ACTIVE') ? savedRevision(ctx, latest, {}, state) : latest;
  return { ...saved, rev: latest.rev + 1, updated_at: ctx.now().toISOString(), status: transition(saved.status, 'handoff', target) };
}

function assertUnchanged(latest: Session, transfer: Session): void {
  if (latest.rev !== transfer.rev - 1) {
    throw new AgenceError('conflict', `session ${transfer.session_id} changed since it was handed off (now rev ${latest.rev})`, { fix: 'hand it off again' });
  }
}

/** Whether a TRANSFERRED revision `prepareTransfer` made can still be stored (checked again when it is). */
export function checkTransfer(ctx: SessionContext, session: Session): void {
  const { session: latest, index } = latestOf(ctx, session.session_id);
  index?.db.close();
  assertUnchanged(latest, session);
}

/** Store the TRANSFERRED revision `prepareTransfer` made, unless the session moved on meanwhile. */
export function storeTransfer(ctx: SessionContext, session: Session): void {
  const p = paths(ctx);
  withStoreLock(p, () => {
    const { session: latest, index } = latestOf(ctx, session.session_id);
    try {
      assertUnchanged(latest, session);
      const at = appendRevision(p, session, ctx.now());
      // Without the index open, it takes the new line in at its next read, as after `^save`.
      if (index) recordRevision(index.db, p, session, at);
    } finally {
      index?.db.close();
    }
    clearPointer(p, session.session_id);
  });
}

/** Whether a session with this id is in the store (any tier, the archive included). */
export function sessionExists(ctx: SessionContext, id: string): boolean {
  try {
    loadLatest(ctx, id).index.db.close();
    return true;
  } catch (error) {
    if (error instanceof AgenceError && error.code === 'not_found') return false;
    throw error;
  }
}

/**
 * `^accept` / `^import`: store a handed-off session as a new local session (SAVED, with its
 * lineage), once. Under the store lock, `claim` throws to refuse a replay, or returns the id of
 * a session whose import was cut short (to finish it under that id), or null. `record` (the
 * accepted mark) is written before the session is appended: an import cut short between the two
 * is finished by the next attempt, never stored twice.
 */
export function storeImported(ctx: SessionContext, make: (id: string, now: Date) => Session, claim: (exists: (id: string) => boolean) => string | null, record: (session: Session) => void): Session {
  const p = paths(ctx);
  return withStoreLock(p, () => {
    const unfinished = claim((id) => sessionExists(ctx, id));
    const now = ctx.now();
    const session = SessionSchema.parse(make(unfinished ?? allocateId(p, now), now));
    record(session);
    appendRevision(p, session, now);
    return session;
  });
}

/** Apply a lifecycle event to a session and store the new revision. */
function applyEvent(ctx: SessionContext, id: string, event: SessionEvent): { session: Session; at: StoredAt } {
  const p = paths(ctx);
  return withStoreLock(p, () => {
    const { session: latest, index } = loadLatest(ctx, id);
    try {
      const now = ctx.now();
      const session: Session = { ...latest, rev: latest.rev + 1, updated_at: now.toISOString(), status: transition(latest.status, event, id) };
      const at = appendRevision(p, session, now);
      recordRevision(index.db, p, session, at);
      return { session, at };
    } finally {
      index.db.close();
    }
  });
}

export interface GitDrift {
  branchMoved: { from: string | null; to: string | null } | null;
  headMoved: { from: string | null; to: string | null; files: string[] | null } | null;
  dirtyNow: string[];
}

export interface ResumeBrief {
  session: Session;
  name: string;
  task: string;
  todo: { done: number; total: number; step: number; next: string | null };
  notes: Session['notes'];
  drift: GitDrift;
  cd: string | null;
}

async function driftSince(ctx: SessionContext, session: Session): Promise<GitDrift> {
  const { changedSince } = await loadGit();
  const now = await ctx.workTree(existsSync(session.cwd) ? session.cwd : ctx.cwd);
  const branchMoved = now.branch !== session.git.branch ? { from: session.git.branch, to: now.branch } : null;
  const headMoved =
    now.head !== session.git.head
      ? { from: session.git.head, to: now.head, files: session.git.head ? await changedSince(existsSync(session.cwd) ? session.cwd : ctx.cwd, session.git.head) : null }
      : null;
  return { branchMoved, headMoved, dirtyNow: now.dirty };
}

/** The id to act on: the one given, else the shard's current session. */
function targetId(ctx: SessionContext, id: string | undefined, what: string): string {
  if (id !== undefined) return parseSessionRef(id, ctx.shardName);
  const pointer = readPointer(paths(ctx), ctx.env);
  if (!pointer) throw new AgenceError('usage', `no session to ${what}: this shard has no current session`, { fix: `give an id (see \`agence ^sessions\`)` });
  return pointer.id;
}

/** The session `^resume [id]` acts on: the one given, else the most recently saved. */
export function resumeTarget(ctx: SessionContext, id?: string): string {
  if (id !== undefined) return parseSessionRef(id, ctx.shardName);
  const index = openIndex(paths(ctx), { notify: ctx.notify });
  const [row] = list(index.db, { status: 'SAVED', limit: 1 });
  index.db.close();
  if (!row) throw new AgenceError('not_found', 'there is no saved session to resume', { fix: 'save one with `agence ^save "note"`, or list them with `agence ^sessions`' });
  return row.id;
}

/** `^resume [id]`: mark a session active (default: the most recently saved) and brief on it. */
export async function resumeSession(ctx: SessionContext, id?: string): Promise<ResumeBrief> {
  const p = paths(ctx);
  const { session, at } = applyEvent(ctx, resumeTarget(ctx, id), 'resume');
  writePointer(p, session, at);
  const progress = todoProgress(session.runstate.todo_list);
  return {
    session,
    name: qualifiedSessionName(ctx.shardName, session.session_id),
    task: session.metadata.task_description,
    todo: { ...progress, next: session.runstate.todo_list.find((t) => t.status !== 'done')?.title ?? null },
    notes: session.notes.slice(-5),
    drift: await driftSince(ctx, session),
    cd: session.cwd !== ctx.cwd ? session.cwd : null,
  };
}

/** `^done [id]`. */
export function completeSession(ctx: SessionContext, id?: string): Session {
  const target = targetId(ctx, id, 'complete');
  const { session } = applyEvent(ctx, target, 'done');
  clearPointer(paths(ctx), target);
  return session;
}

/** `^session reopen <id>`: a completed session back to SAVED, explicitly. */
export function reopenSession(ctx: SessionContext, id: string): Session {
  return applyEvent(ctx, parseSessionRef(id, ctx.shardName), 'reopen').session;
}

export function showSession(ctx: SessionContext, id: string): { session: Session; at: StoredAt } {
  const { session, at, index } = loadLatest(ctx, parseSessionRef(id, ctx.shardName));
  index.db.close();
  return { session, at };
}

export function listSessions(ctx: SessionContext, filter: ListFilter): SessionRow[] {
  const index = openIndex(paths(ctx), { notify: ctx.notify });
  try {
    return list(index.db, filter);
  } finally {
    index.db.close();
  }
}

export function reindexSessions(ctx: SessionContext): { sessions: number } {
  const index = openIndex(paths(ctx), { rebuild: true });
  try {
    return { sessions: (index.db.prepare('SELECT COUNT(*) AS n FROM sessions').get() as { n: number }).n };
  } finally {
    index.db.close();
  }
}


export interface StoreProblem {
  file: string;
  kind: 'torn-tail' | 'bad-line';
  line?: number;
  reason: string;
}

/** What a crash or an outside edit left in the tier files, for `^doctor`. */
export function checkStore(ctx: SessionContext): StoreProblem[] {
  const p = paths(ctx);
  const problems: StoreProblem[] = [];
  for (const tier of TIERS) {
    const file = `nexus/sessions/session-${tier}.jsonl`;
    const scan = scanTier(p, tier);
    for (const bad of scan.bad) problems.push({ file, kind: 'bad-line', line: bad.line, reason: bad.reason });
    if (scan.partialTail) problems.push({ file, kind: 'torn-tail', reason: `${scan.partialTail.length} bytes after the last complete line (an interrupted save)` });
  }
  return problems;
}

/**
 * `^doctor --repair` for the session store: compaction moves torn tails and bad lines into
 * quarantine files beside the tier files (nothing is deleted), keeps every complete record's
 * latest revision, and the index is rebuilt.
 */
export function repairStore(ctx: SessionContext): { quarantined: string[]; live: number } {
  const p = paths(ctx);
  return withStoreLock(p, () => {
    const before = new Set(quarantined(p));
    const { live } = compact(p, ctx.now());
    openIndex(p, { rebuild: true }).db.close();
    return { quarantined: quarantined(p).filter((f) => !before.has(f)), live };
  });
}

/** The session store's part of `^doctor`. */
export function sessionFindings(ctx: SessionContext): Finding[] {
  const problems = checkStore(ctx);
  const archives: Finding[] = damagedArchives(ctx).map((message) => ({
    check: 'sessions',
    severity: 'fail',
    integrity: true,
    message,
    fix: 'move it aside and restore it from a backup; `gzip -dc FILE | tar -t` shows what is left',
  }));
  if (problems.length === 0 && archives.length === 0) return [{ check: 'sessions', severity: 'ok', message: 'session files and archives read cleanly' }];
  return [...archives, ...problems.map((problem): Finding => ({
    check: 'sessions',
    severity: 'fail',
    integrity: true,
    message: `${problem.file}${problem.line ? ` line ${problem.line}` : ''}: ${problem.kind === 'torn-tail' ? problem.reason : `not a session record (${problem.reason})`}`,
    fix: 'run `agence ^doctor --repair` (it moves the damaged bytes aside into a quarantine file and keeps every complete record)',
  }))];
}

export interface ArchiveResult {
  archived: string[];
  months: string[];
}

/**
 * `^session archive [--older-than 30d]`: completed and transferred sessions untouched for longer
 * than that move to the cold tier. The archives are written and read back first; only then are
 * the sessions dropped from the tier files (by compaction) and the index rebuilt.
 */
export function archiveSessions(ctx: SessionContext, olderThanMs: number): ArchiveResult {
  const p = paths(ctx);
  return withStoreLock(p, () => {
    const now = ctx.now();
    const cutoff = new Date(now.getTime() - olderThanMs).toISOString();
    const index = openIndex(p, { notify: ctx.notify });
    const due: Session[] = [];
    try {
      const rows = index.db
        .prepare("SELECT * FROM sessions WHERE status IN ('COMPLETED', 'TRANSFERRED') AND updated_at < ? ORDER BY id")
        .all(cutoff) as SessionRow[];
      for (const row of rows) {
        const session = readStored(p, row);
        if (!session || session.rev !== row.rev) throw new AgenceError('corrupt', `session ${row.id} is not where the index says`, { fix: 'run `agence ^reindex`, then archive again' });
        due.push({ ...session, rev: session.rev + 1, updated_at: now.toISOString(), status: transition(session.status, 'archive', session.session_id) });
      }
    } finally {
      index.db.close();
    }
    if (due.length === 0) return { archived: [], months: [] };
    const byMonth = new Map<string, Session[]>();
    for (const session of due) byMonth.set(archiveMonth(session), [...(byMonth.get(archiveMonth(session)) ?? []), session]);
    for (const [month, sessions] of byMonth) addToArchive(p, month, sessions);
    compact(p, now, new Set(due.map((s) => s.session_id)));
    openIndex(p, { rebuild: true, notify: ctx.notify }).db.close();
    return { archived: due.map((s) => s.session_id), months: [...byMonth.keys()].sort() };
  });
}

/** Archives that cannot be read, for `^doctor`. */
export function damagedArchives(ctx: SessionContext): string[] {
  const p = paths(ctx);
  const damaged: string[] = [];
  for (const month of archiveMonths(p)) {
    try {
      readArchive(p, month);
    } catch (error) {
      if (!(error instanceof AgenceError)) throw error;
      damaged.push(error.message);
    }
  }
  return damaged;
}

/** The id of the session this shard is working on (AGENCE_SESSION, else the current pointer), or null. */
export function currentSessionId(ctx: Pick<SessionContext, 'shard' | 'env'>): string | null {
  return readPointer(sessionPaths(ctx.shard.nexus), ctx.env)?.id ?? null;
}

/** The current session, for briefs that do not change it (context packs): null when there is none. */
export function currentSession(ctx: SessionContext): Session | null {
  const id = currentSessionId(ctx);
  if (!id) return null;
  try {
    return showSession(ctx, id).session;
  } catch (error) {
    if (error instanceof AgenceError && error.code === 'not_found') return null;
    throw error;
  }
}
