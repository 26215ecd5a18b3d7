import type { Handler, OptionSpec } from './types.js';

/**
 * The routing table: the one source for dispatch, `--help`, `help <command>` and shell completion.
 * A route without `load` is a command another part of agence brings; it answers "not available
 * yet" (exit 1), never a fake success.
 */

export type ModeName = 'ask' | 'auto' | 'run' | 'system' | 'private' | 'shared';

export interface Mode {
  name: ModeName;
  prefix: string;
  /** The word that means the same as the prefix (`shared` for `^`), for shells where it is special. */
  alias: ModeName;
  summary: string;
  /** Modes with commands of their own (`^init`); the others take free text or an external name. */
  hasCommands: boolean;
  /** For a mode that is not built yet: what brings it. */
  later?: string;
  placeholder: string;
}

export const MODES: readonly Mode[] = [
  { name: 'ask', prefix: '', alias: 'ask', placeholder: '<text>', summary: 'chat in natural language with an agent', hasCommands: false, later: 'agents and LLM providers' },
  { name: 'auto', prefix: '+', alias: 'auto', placeholder: '+<task>', summary: 'autonomous: plan, then execute guarded steps', hasCommands: false, later: 'agents and LLM providers' },
  { name: 'run', prefix: '/', alias: 'run', placeholder: '/<name>', summary: 'validated external command from codex/commands.json', hasCommands: false, later: 'governance (the command guard)' },
  { name: 'system', prefix: '!', alias: 'system', placeholder: '!<agent>', summary: 'shells and agent launchers (!bash, !claude, !aider, !codex)', hasCommands: false, later: 'the swarm (agent launchers)' },
  { name: 'private', prefix: '~', alias: 'private', placeholder: '~<command>', summary: 'hermetic (private) knowledge commands', hasCommands: true },
  { name: 'shared', prefix: '^', alias: 'shared', placeholder: '^<command>', summary: 'shard commands', hasCommands: true },
];

export interface Route {
  mode: 'shared' | 'private' | 'meta';
  /** One or two words: `init`, `master init`. */
  name: string;
  summary: string;
  /** Positional part of the usage line, e.g. `DIR` or `[FILE]`. */
  usage?: string;
  args?: { min: number; max: number };
  options?: OptionSpec[];
  /** Resolve the shard (and bring base/ in line with the lock) before running. */
  shard?: 'required' | 'report';
  load?: () => Promise<Handler>;
  /** For a command another part of agence brings: what brings it. */
  later?: string;
}

const later = (mode: Route['mode'], names: string[], summary: string, by: string): Route[] =>
  names.map((name) => ({ mode, name, summary, later: by }));

const ITEM_OPTIONS: OptionSpec[] = [
  { name: 'title', type: 'string', value: 'T', description: 'title (default: the first line of the text)' },
  { name: 'tag', type: 'string', multiple: true, value: 'X', description: 'add a tag (repeatable)' },
  { name: 'formtag', type: 'string', value: 'CODE', description: 'class in codex/formtags.yaml (default: suggested from the text)' },
  { name: 'label', type: 'string', value: 'L', description: 'public, internal (default), secret or top-secret' },
  { name: 'file', type: 'string', multiple: true, value: 'PATH[:LINE]', description: 'a file the item is about (repeatable); recall says when it changed' },
];

const RECALL_OPTIONS: OptionSpec[] = [
  { name: 'type', type: 'string', value: 'T', description: 'lesson, doc, plan, fault or note' },
  { name: 'formtag', type: 'string', value: 'PREFIX', description: 'formtag prefix: 4 is 400-499, 42 is 420-429, 420.3 is 420.3 and below' },
  { name: 'tag', type: 'string', value: 'X', description: 'only items with this tag' },
  { name: 'layer', type: 'string', value: 'L', description: 'codex, synthetic, base, globalcache, hermetic, nexus or objectcode (code chunks)' },
  { name: 'code', type: 'boolean', description: 'only code chunks (functions, classes, ...) of the code index' },
  { name: 'limit', type: 'string', value: 'N', description: 'at most N results (default 10)' },
  { name: 'private', type: 'boolean', description: 'include private (hermetic) items' },
  { name: 'all', type: 'boolean', description: 'include superseded items' },
  { name: 'shards', type: 'string', value: 'org', description: 'search every registered shard of this org' },
];

/** A command taking one item id. */
const itemRoute = (name: string, summary: string, pick: (m: typeof import('./commands/items.js')) => Handler): Route[] => [
  { mode: 'shared', name, summary, usage: 'ID', args: { min: 1, max: 1 }, shard: 'required', load: () => import('./commands/items.js').then(pick) },
];

export const ROUTES: readonly Route[] = [
  {
    mode: 'shared',
    name: 'init',
    summary: 'make this git repository a shard: create .agence/ and register it',
    options: [
      { name: 'name', type: 'string', value: 'N', description: 'shard name (default: the repository folder name)' },
      { name: 'org', type: 'string', value: 'O', description: 'organisation (default: the owner in the origin URL, else "local")' },
      { name: 'master', type: 'string', value: 'URL', description: 'master repository to inherit layers from (any git URL or path)' },
    ],
    load: () => import('./commands/init.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'status',
    summary: 'shard name, org, master, locked commit and file counts per layer',
    shard: 'report',
    load: () => import('./commands/status.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'doctor',
    summary: 'check git, ignore rules, lock and base, codex, sessions and the registry; say how to fix each finding',
    options: [{ name: 'repair', type: 'boolean', description: 'move damaged session lines aside (nothing is deleted) and rebuild the index' }],
    shard: 'report',
    load: () => import('./commands/doctor.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'pull',
    summary: 'fetch the master, pin it in agence.lock and materialise base/',
    options: [
      { name: 'check', type: 'boolean', description: 'only say whether the master moved past the lock (exit 1 if it did)' },
      { name: 'locked', type: 'boolean', description: 'materialise the locked commit without moving the lock' },
    ],
    load: () => import('./commands/pull.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'codex',
    summary: 'print the effective CODEX (base + local), or list its files',
    usage: '[FILE]',
    args: { min: 0, max: 1 },
    options: [{ name: 'explain', type: 'boolean', description: 'show which layer each part came from' }],
    shard: 'required',
    load: () => import('./commands/codex.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'shards',
    summary: 'list the shards registered on this machine',
    options: [{ name: 'prune', type: 'boolean', description: 'remove entries whose folder no longer exists' }],
    load: () => import('./commands/shards.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'master init',
    summary: 'create a master repository (git repo, one commit) from the built-in template',
    usage: 'DIR',
    args: { min: 1, max: 1 },
    load: () => import('./commands/masterInit.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'save',
    summary: 'save the work in progress as a session (a second save updates it; note - reads stdin)',
    usage: '["note"|-]',
    args: { min: 0, max: 1 },
    options: [
      { name: 'agent', type: 'string', value: 'A', description: 'the agent doing the work (default: AGENCE_AGENT, else the shard default)' },
      { name: 'task', type: 'string', value: 'T', description: 'what the session is for' },
      { name: 'todo', type: 'string', multiple: true, value: 'TITLE', description: 'add a todo item (repeatable)' },
      { name: 'priority', type: 'string', value: 'P', description: 'low, normal, high or urgent' },
      { name: 'tag', type: 'string', multiple: true, value: 'X', description: 'add a tag (repeatable)' },
      { name: 'new', type: 'boolean', description: 'start a new session even if one is current' },
    ],
    shard: 'required',
    load: () => import('./commands/save.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'resume',
    summary: 'make a session active and brief on it (default: the most recent saved)',
    usage: '[ID]',
    args: { min: 0, max: 1 },
    options: [{ name: 'shell', type: 'boolean', description: 'print shell code to eval: cd, AGENCE_SESSION, AGENCE_AGENT' }],
    shard: 'required',
    load: () => import('./commands/resume.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'sessions',
    summary: 'list sessions, newest first',
    options: [
      { name: 'status', type: 'string', value: 'S', description: 'saved, active, completed, transferred, archived' },
      { name: 'agent', type: 'string', value: 'A', description: 'only this agent' },
      { name: 'since', type: 'string', value: 'DATE', description: 'updated at or after (2026-11-01, ISO time, or 7d)' },
      { name: 'until', type: 'string', value: 'DATE', description: 'updated before' },
      { name: 'tag', type: 'string', value: 'X', description: 'only sessions with this tag' },
      { name: 'limit', type: 'string', value: 'N', description: 'at most N (default 20)' },
      { name: 'archived', type: 'boolean', description: 'include archived sessions' },
    ],
    shard: 'required',
    load: () => import('./commands/sessions.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'session show',
    summary: 'print one session',
    usage: 'ID',
    args: { min: 1, max: 1 },
    shard: 'required',
    load: () => import('./commands/sessionShow.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'session reopen',
    summary: 'reopen a completed session (back to saved)',
    usage: 'ID',
    args: { min: 1, max: 1 },
    shard: 'required',
    load: () => import('./commands/sessionReopen.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'session archive',
    summary: 'move completed and transferred sessions to nexus/sessions/archive/',
    options: [{ name: 'older-than', type: 'string', value: 'AGE', description: 'untouched for longer than this (default 30d; 12h, 2w, ...)' }],
    shard: 'required',
    load: () => import('./commands/sessionArchive.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'done',
    summary: 'mark a session completed (default: the current one)',
    usage: '[ID]',
    args: { min: 0, max: 1 },
    shard: 'required',
    load: () => import('./commands/done.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'reindex',
    summary: 'rebuild the session index and bring the knowledge index up to date (--full: rebuild it)',
    options: [{ name: 'full', type: 'boolean', description: 'rebuild the knowledge index from the files, not only what changed' }],
    shard: 'required',
    load: () => import('./commands/reindex.js').then((m) => m.run),
  },
  ...later('shared', ['handoff', 'export', 'import', 'inbox', 'accept'], 'hand a session to another agent, machine or shard', 'handoff'),
  {
    mode: 'shared',
    name: 'learn',
    summary: 'write a lesson to synthetic/lessons/ (shared through git), with its provenance',
    usage: '"text"',
    args: { min: 1, max: 1 },
    options: ITEM_OPTIONS,
    shard: 'required',
    load: () => import('./commands/learn.js').then((m) => m.learn),
  },
  {
    mode: 'shared',
    name: 'recall',
    summary: 'search every layer of knowledge (BM25), best first',
    usage: '"query"',
    args: { min: 1, max: 50 },
    options: RECALL_OPTIONS,
    shard: 'required',
    load: () => import('./commands/recall.js').then((m) => m.recall),
  },
  {
    mode: 'shared',
    name: 'fault',
    summary: 'record what went wrong (local nexus/faults/; --share for synthetic/faults/)',
    usage: '"what went wrong"',
    args: { min: 1, max: 1 },
    options: [...ITEM_OPTIONS, { name: 'share', type: 'boolean', description: 'write it to synthetic/faults/, shared through git' }],
    shard: 'required',
    load: () => import('./commands/learn.js').then((m) => m.fault),
  },
  {
    mode: 'shared',
    name: 'doc add',
    summary: 'copy a Markdown or text file into synthetic/docs/ as a doc item',
    usage: 'FILE',
    args: { min: 1, max: 1 },
    options: ITEM_OPTIONS,
    shard: 'required',
    load: () => import('./commands/learn.js').then((m) => m.docAdd),
  },
  ...itemRoute('show', 'print one knowledge item', (m) => m.show),
  ...itemRoute('edit', 'edit one item in $EDITOR (it must still be an item afterwards)', (m) => m.edit),
  ...itemRoute('forget', 'remove an item of this shard (file and index entries)', (m) => m.forget),
  ...itemRoute('share', 'move a private (hermetic) item to synthetic; refused above internal', (m) => m.share),
  {
    mode: 'shared',
    name: 'supersede',
    summary: 'record that NEW replaces OLD (OLD is hidden from recall unless --all)',
    usage: 'OLD NEW',
    args: { min: 2, max: 2 },
    shard: 'required',
    load: () => import('./commands/items.js').then((m) => m.supersede),
  },
  {
    mode: 'shared',
    name: 'formtags',
    summary: 'the formtag tree with item counts (PREFIX: 4 is 400-499, 42 is 420-429, 420.3 and below)',
    usage: '[PREFIX]',
    args: { min: 0, max: 1 },
    shard: 'required',
    load: () => import('./commands/formtags.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'related',
    summary: 'items linked to an item ([[id]] and related:), two hops out',
    usage: 'ID',
    args: { min: 1, max: 1 },
    shard: 'required',
    load: () => import('./commands/related.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'promote',
    summary: "propose an item to the org's master on a branch agence/promote/<shard>/<id>, pushed for review",
    usage: 'ID',
    args: { min: 1, max: 1 },
    shard: 'required',
    load: () => import('./commands/promote.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'reload',
    summary: 'the context pack an agent loads at session start: laws, principles, rules, persona, brief, lessons',
    options: [
      { name: 'agent', type: 'string', value: 'A', description: 'the persona (default: AGENCE_AGENT, else the shard default)' },
      { name: 'task', type: 'string', value: 'T', description: 'pick lessons for this task (default: the active session task)' },
      { name: 'budget', type: 'string', value: 'TOKENS', description: 'at most this many tokens, least relevant dropped first (default 8000)' },
    ],
    shard: 'required',
    load: () => import('./commands/reload.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'guard check',
    summary: 'classify a shell command line: its tier (T0 run .. T4 never) and why, without running it',
    usage: '"<command>"',
    args: { min: 1, max: 1 },
    load: () => import('./commands/guard.js').then((m) => m.run),
  },
  ...later('shared', ['verify', 'ledger'], 'command guard, approvals and the ledger', 'governance'),
  ...later('shared', ['approve', 'deny', 'grant', 'revoke', 'setup'], 'command guard, approvals and the ledger', 'governance'),
  ...later('shared', ['agents', 'agent'], 'agent personas', 'agents and LLM providers'),
  ...later('shared', ['mcp', 'regen'], 'MCP server and instruction files', 'agent integration'),
  ...later('shared', ['buffers', 'tangent', 'sequent', 'task'], 'tangents, sequents and tasks', 'the swarm'),
  {
    mode: 'shared',
    name: 'chunk index',
    summary: 'index the tracked source code by syntax (functions, classes, ...): only files whose git blob changed are parsed',
    options: [{ name: 'full', type: 'boolean', description: 're-read and re-chunk every file' }],
    shard: 'required',
    load: () => import('./commands/chunk.js').then((m) => m.index),
  },
  {
    mode: 'shared',
    name: 'chunk show',
    summary: 'print the chunk (function, class, section, ...) that encloses a line, or the outline of a file',
    usage: 'PATH[:LINE]',
    args: { min: 1, max: 1 },
    shard: 'required',
    load: () => import('./commands/chunk.js').then((m) => m.show),
  },
  {
    mode: 'shared',
    name: 'chunk export',
    summary: "write the shard's chunks to FILE (*.chunks.jsonl), for a master's objectcode/ layer",
    usage: 'FILE',
    args: { min: 1, max: 1 },
    shard: 'required',
    load: () => import('./commands/chunk.js').then((m) => m.exportFile),
  },
  {
    mode: 'shared',
    name: 'symbols',
    summary: 'list the declarations of the code index (PATTERN: part of the name, or a glob)',
    usage: '[PATTERN]',
    args: { min: 0, max: 1 },
    options: [
      { name: 'kind', type: 'string', value: 'K', description: 'function, method, class, interface, type, struct, enum, impl, trait, module, namespace, constant, macro, section' },
      { name: 'limit', type: 'string', value: 'N', description: 'at most N (default 200)' },
    ],
    shard: 'required',
    load: () => import('./commands/chunk.js').then((m) => m.symbols),
  },
  {
    mode: 'private',
    name: 'learn',
    summary: 'write a private lesson to hermetic/lessons/ (never leaves this machine)',
    usage: '"text"',
    args: { min: 1, max: 1 },
    options: ITEM_OPTIONS,
    shard: 'required',
    load: () => import('./commands/learn.js').then((m) => m.learnPrivate),
  },
  {
    mode: 'private',
    name: 'recall',
    summary: 'search knowledge including private (hermetic) items',
    usage: '"query"',
    args: { min: 1, max: 50 },
    options: RECALL_OPTIONS,
    shard: 'required',
    load: () => import('./commands/recall.js').then((m) => m.recallPrivate),
  },
  {
    mode: 'private',
    name: 'note',
    summary: 'write a private note to hermetic/notes/',
    usage: '"text"',
    args: { min: 1, max: 1 },
    options: ITEM_OPTIONS,
    shard: 'required',
    load: () => import('./commands/learn.js').then((m) => m.note),
  },
  {
    mode: 'meta',
    name: 'help',
    summary: 'show help for agence or one command',
    usage: '[COMMAND]',
    args: { min: 0, max: 2 },
  },
  {
    mode: 'meta',
    name: 'completion',
    summary: 'print a shell completion script',
    usage: 'bash|zsh|fish',
    args: { min: 1, max: 1 },
    load: () => import('./commands/completion.js').then((m) => m.run),
  },
];

export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'json', type: 'boolean', description: 'one JSON document on stdout, nothing else there' },
  { name: 'help', type: 'boolean', short: 'h', description: 'show help' },
  { name: 'version', type: 'boolean', short: 'V', description: 'print the version' },
];

export function modeByName(name: ModeName): Mode {
  return MODES.find((m) => m.name === name) as Mode;
}

export function modePrefix(route: Route): string {
  return route.mode === 'meta' ? '' : modeByName(route.mode).prefix;
}

/** How a route is typed: `^init`, `~learn`, `help`. */
export function displayName(route: Route): string {
  return `${modePrefix(route)}${route.name}`;
}

export function findRoute(mode: Route['mode'], words: readonly string[]): { route: Route; used: number } | null {
  const two = words.slice(0, 2).join(' ');
  const byTwo = words.length >= 2 ? ROUTES.find((r) => r.mode === mode && r.name === two) : undefined;
  if (byTwo) return { route: byTwo, used: 2 };
  const byOne = ROUTES.find((r) => r.mode === mode && r.name === words[0]);
  return byOne ? { route: byOne, used: 1 } : null;
}
