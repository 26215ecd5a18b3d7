import type { Handler, OptionSpec } from './types.js';

/**
 * The routing table: the one source for dispatch, `--help`, `help <command>` and shell completion.
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
  placeholder: string;
  /** Options of a mode that takes free text (the text is its arguments). */
  options?: OptionSpec[];
  /** Resolve the shard (and bring base/ in line) before the handler, as for a route. */
  shard?: Route['shard'];
  /** The handler of a mode without commands of its own; it gets the input as its arguments. */
  load?: () => Promise<Handler>;
}

export const MODES: readonly Mode[] = [
  {
    name: 'ask',
    prefix: '',
    alias: 'ask',
    placeholder: '<text>',
    summary: 'chat in natural language with an agent (@agent[.model] picks who answers; @peers asks three models)',
    hasCommands: false,
    options: [
      { name: 'new', type: 'boolean', description: 'start a fresh conversation (in a new session)' },
      { name: 'over-budget', type: 'boolean', description: "go past the shard's monthly budget for this call (people only)" },
      { name: 'judge', type: 'boolean', description: 'with @peers: add a call that reconciles the answers' },
    ],
    shard: 'required',
    load: () => import('./commands/ask.js').then((m) => m.run),
  },
  {
    name: 'auto',
    prefix: '+',
    alias: 'auto',
    placeholder: '+<task>',
    summary: 'autonomous: plan, then execute guarded steps',
    hasCommands: false,
    options: [
      { name: 'steps', type: 'string', value: 'N', description: 'at most N model steps (default 20)' },
      { name: 'new', type: 'boolean', description: 'start a fresh conversation (in a new session)' },
      { name: 'over-budget', type: 'boolean', description: "go past the shard's monthly budget (people only)" },
    ],
    shard: 'required',
    load: () => import('./commands/auto.js').then((m) => m.run),
  },
  {
    name: 'run',
    prefix: '/',
    alias: 'run',
    placeholder: '/<name>',
    summary: 'validated external command from codex/commands.json, guarded and logged (`agence /` lists them)',
    hasCommands: false,
    load: () => import('./commands/validated.js').then((m) => m.run),
  },
  {
    name: 'system',
    prefix: '!',
    alias: 'system',
    placeholder: '!<agent>',
    summary: 'shells and agent launchers: !bash is the guarded shell (every line classified first); !claude, !codex, !aider, !gemini, !copilot or !<persona> start that agent with the shard wired in (-- ARGS go to the agent)',
    hasCommands: false,
    options: [
      { name: 'tmux', type: 'boolean', description: 'run the agent in a tmux window beside your pane, its output kept in nexus/buffers/ (default when tmux is on PATH and stdout is a terminal)' },
      { name: 'no-tmux', type: 'boolean', description: 'run the agent in this terminal' },
      { name: 'task', type: 'string', value: 'T', description: 'what the agent is to do: in its context, and its first message where the tool takes one' },
    ],
    load: () => import('./commands/guardedShell.js').then((m) => m.run),
  },
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
  /** Run by tools, not people (git's merge driver): left out of completion and the overview. */
  hidden?: boolean;
}

/** The skills agence ships (templates/codex/skills/); a shard's own run with `^skill NAME`. */
const SKILLS: [string, string, string][] = [
  ['review', '[FOCUS]', 'review the changes in the work tree (git diff HEAD) with @pilot'],
  ['fix', '"PROBLEM"', 'find the cause of a problem and propose the smallest fix, with a test'],
  ['explain', 'FILE...', 'explain what files do and how they fit together'],
  ['plan', '"TASK"', 'turn a task into small, tested, reviewable steps'],
  ['test', 'FILE...', 'write the tests these files are missing'],
  ['document', 'FILE...', 'write the documentation these files need'],
  ['refactor', 'FILE...', 'propose a refactoring that keeps behaviour, step by step'],
  ['design', '"PROBLEM"', 'design options with their trade-offs and a recommendation'],
  ['brainstorm', '"TOPIC"', 'many ideas, then the few worth trying'],
  ['precommit', '', 'check the staged changes (git diff --cached) before a commit'],
];
const CHAT_OPTIONS: OptionSpec[] = [
  { name: 'new', type: 'boolean', description: 'start a fresh conversation (in a new session)' },
  { name: 'over-budget', type: 'boolean', description: "go past the shard's monthly budget for this call (people only)" },
];
const skillRoute = ([name, usage, summary]: [string, string, string]): Route => ({
  mode: 'shared',
  name,
  summary: `skill: ${summary}`,
  ...(usage ? { usage } : {}),
  args: { min: 0, max: 50 },
  options: CHAT_OPTIONS,
  shard: 'required',
  load: () => import('./commands/skills.js').then((m) => m.runner(name)),
});

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

/** `^tangent create|list|status|attach|diff|destroy` (src/swarm/tangents.ts). */
function tangentRoutes(): Route[] {
  const load = (pick: (m: typeof import('./commands/tangent.js')) => Handler) => () => import('./commands/tangent.js').then(pick);
  const one = { usage: 'NAME', args: { min: 1, max: 1 }, shard: 'required' as const };
  return [
    {
      mode: 'shared',
      name: 'tangent create',
      summary: 'a git worktree on branch agence/tangent/NAME (in .agence/nexus/tangents/); with --agent, the agent starts there in its own session',
      ...one,
      options: [
        { name: 'agent', type: 'string', value: 'A', description: 'the agent who works there (gets its own session)' },
        { name: 'task', type: 'string', value: '"..."', description: 'what the agent should do' },
        { name: 'from', type: 'string', value: 'REF', description: 'start from this branch, tag or commit (default: HEAD)' },
        { name: 'tmux', type: 'boolean', description: "start the agent in a tmux window (default when tmux is on PATH and stdout is a terminal)" },
        { name: 'no-tmux', type: 'boolean', description: 'start the agent in this terminal' },
      ],
      load: load((m) => m.create),
    },
    { mode: 'shared', name: 'tangent list', summary: 'the tangents: agent, commits, unmerged, uncommitted, task', shard: 'required', load: load((m) => m.list) },
    { mode: 'shared', name: 'tangent status', summary: 'one tangent: branch, start, commits, worktree state, agent and session', ...one, load: load((m) => m.status) },
    { mode: 'shared', name: 'tangent attach', summary: "shell code to eval: cd into the tangent, as its agent and session", ...one, load: load((m) => m.attach) },
    {
      mode: 'shared',
      name: 'tangent diff',
      summary: 'the changes of a tangent since it started (uncommitted ones included)',
      ...one,
      options: [{ name: 'stat', type: 'boolean', description: 'files and line counts only' }],
      load: load((m) => m.diff),
    },
    {
      mode: 'shared',
      name: 'tangent destroy',
      summary: 'remove the worktree and branch; refuses unmerged commits or uncommitted files unless --force',
      ...one,
      options: [{ name: 'force', type: 'boolean', description: 'throw away unmerged commits and uncommitted files' }],
      load: load((m) => m.destroy),
    },
  ];
}

/** `^sequent run|show|list|pick` (src/swarm/sequents.ts). */
function sequentRoutes(): Route[] {
  const load = (pick: (m: typeof import('./commands/sequent.js')) => Handler) => () => import('./commands/sequent.js').then(pick);
  return [
    {
      mode: 'shared',
      name: 'sequent run',
      summary: 'one tangent per agent from the same commit, each agent given the task without a person; then the tournament picks the resultant',
      usage: '"TASK"',
      args: { min: 1, max: 1 },
      options: [
        { name: 'agents', type: 'string', value: 'a,b,c', description: 'the agents, comma separated (each runs its persona\'s batch command)' },
        { name: 'judge', type: 'string', value: '"npm test"', description: 'a command run in each tangent (plain words, guarded); exit 0 and its test counts score' },
        { name: 'timeout', type: 'string', value: 'DURATION', description: 'stop an agent (its whole process group) after this long (default 20m; 45s, 2h)' },
        { name: 'llm-judge', type: 'string', value: 'AGENT', description: "add this agent's review (0-10) of each change to the scores" },
      ],
      shard: 'required',
      load: load((m) => m.run),
    },
    { mode: 'shared', name: 'sequent show', summary: 'a sequent as a table: each tangent measured and scored, the resultant', usage: 'ID', args: { min: 1, max: 1 }, shard: 'required', load: load((m) => m.show) },
    { mode: 'shared', name: 'sequent list', summary: 'the sequents recorded in organic/sequents/', shard: 'required', load: load((m) => m.list) },
    {
      mode: 'shared',
      name: 'sequent pick',
      summary: 'merge the resultant (or the named tangent) onto the starting branch, with the record; never with a dirty tree',
      usage: 'ID [TANGENT]',
      args: { min: 1, max: 2 },
      options: [{ name: 'squash', type: 'boolean', description: 'one squashed commit instead of a merge commit' }],
      shard: 'required',
      load: load((m) => m.pick),
    },
  ];
}
const TASK_FIELDS: OptionSpec[] = [
  { name: 'priority', type: 'string', value: 'P', description: 'low, normal (default), high or urgent' },
  { name: 'agent', type: 'string', value: 'A', description: 'who does it: a persona or an email ("-" for nobody)' },
  { name: 'stars', type: 'string', value: 'N', description: 'how much people want it (0..1000000; counts 2 in the ready score)' },
  { name: 'heat', type: 'string', value: 'N', description: 'how pressing it is now (0..1000000; counts 1 in the ready score)' },
];
const task = (name: string, summary: string, usage: string, args: Route['args'], pick: (m: typeof import('./commands/task.js')) => Handler, options: OptionSpec[] = []): Route => ({
  mode: 'shared',
  name: `task ${name}`,
  summary,
  usage,
  args,
  options,
  load: () => import('./commands/task.js').then(pick),
});
/** Tasks and workflows of ORGANIC (docs/tasks.md); they need no base/, so no shard preparation. */
const TASK_ROUTES: Route[] = [
  task('add', 'add a task (or, with --workflow, one task per step of a workflow)', '[TITLE]', { min: 0, max: 1 }, (m) => m.add, [
    { name: 'id', type: 'string', value: 'ID', description: 'its id, like TEST-001 (default: T-<time><random>, never the same on two clones)' },
    ...TASK_FIELDS,
    { name: 'dep', type: 'string', multiple: true, value: 'TASK', description: 'a task it waits for: ID, or SHARD:ID in another shard (repeatable)' },
    { name: 'workflow', type: 'string', value: 'NAME', description: 'instantiate .agence/organic/workflows/NAME.json; TITLE becomes a label before each step' },
  ]),
  task('list', 'list the tasks of this shard', '', { min: 0, max: 0 }, (m) => m.list, [
    { name: 'state', type: 'string', value: 'S', description: 'only todo, doing, blocked, done or cancelled' },
    { name: 'agent', type: 'string', value: 'A', description: 'only tasks of this agent' },
  ]),
  task('show', 'show one task (SHARD:ID for another shard\'s)', 'ID', { min: 1, max: 1 }, (m) => m.show),
  task('set', 'change fields of a task (state changes follow the task lifecycle)', 'ID', { min: 1, max: 1 }, (m) => m.set, [
    { name: 'title', type: 'string', value: 'T', description: 'new title' },
    { name: 'state', type: 'string', value: 'S', description: 'todo, doing, blocked, done or cancelled' },
    ...TASK_FIELDS,
  ]),
  task('assign', 'give a task to an agent or a person ("-" for nobody)', 'ID AGENT', { min: 2, max: 2 }, (m) => m.assign),
  task('done', 'mark a task done (refused while a task it waits for is not done)', 'ID', { min: 1, max: 1 }, (m) => m.done),
  task('dep', 'TASK waits for DEP (ID, or SHARD:ID in another shard); cycles are refused', 'TASK DEP', { min: 2, max: 2 }, (m) => m.dep, [
    { name: 'remove', type: 'boolean', description: 'TASK no longer waits for DEP' },
  ]),
  task('ready', 'tasks ready to start (todo, everything they wait for done), best score first', '', { min: 0, max: 0 }, (m) => m.ready, [
    { name: 'limit', type: 'string', value: 'N', description: 'at most N (default 20)' },
  ]),
  {
    mode: 'shared',
    name: 'merge-driver',
    summary: "git's merge driver for task files (run by git: .agence/.gitattributes and `merge.agence-task.driver`, set by ^init)",
    usage: '%O %A %B [%P]',
    args: { min: 3, max: 4 },
    hidden: true,
    load: () => import('./commands/mergeDriver.js').then((m) => m.run),
  },
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
    summary: 'check git, ignore rules, lock and base, codex, sessions, the registry, tangents and the task merge driver; say how to fix each finding',
    options: [{ name: 'repair', type: 'boolean', description: 'move damaged session lines aside (nothing is deleted) and rebuild the index; prune tangent worktrees whose folder is gone; register the task merge driver' }],
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
    options: [
      { name: 'shell', type: 'boolean', description: 'print shell code to eval: cd, AGENCE_SESSION, AGENCE_AGENT' },
      { name: 'apply', type: 'boolean', description: 'restore the uncommitted work a handoff brought (refused if it would overwrite local changes)' },
    ],
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
  {
    mode: 'shared',
    name: 'handoff',
    summary: 'hand the current session to an agent (here or in another shard), signed, over the exchange remote',
    usage: 'AGENT ["note"]',
    args: { min: 1, max: 2 },
    options: [
      { name: 'to', type: 'string', value: 'SHARD', description: 'the shard it is for (default: whichever shard has the agent)' },
      { name: 'with-worktree', type: 'boolean', description: 'carry the uncommitted work as a commit (your branch and index are not touched)' },
    ],
    shard: 'required',
    load: () => import('./commands/handoff.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'export',
    summary: 'write a session as a signed handoff bundle, for a manual transfer or CI',
    usage: 'ID',
    args: { min: 1, max: 1 },
    options: [{ name: 'out', type: 'string', value: 'FILE', description: 'write the bundle here (default: stdout)' }],
    shard: 'required',
    load: () => import('./commands/export.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'import',
    summary: 'verify a handoff bundle file and import it as a new session',
    usage: 'FILE',
    args: { min: 1, max: 1 },
    shard: 'required',
    load: () => import('./commands/import.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'inbox',
    summary: 'fetch handoffs from the exchange remote and list the open ones for this shard or its agents',
    options: [{ name: 'all', type: 'boolean', description: 'accepted handoffs too' }],
    shard: 'required',
    load: () => import('./commands/inbox.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'accept',
    summary: 'verify a handoff from the inbox, import it as a new session and mark it accepted',
    usage: 'BUNDLE-ID',
    args: { min: 1, max: 1 },
    shard: 'required',
    load: () => import('./commands/accept.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'trust',
    summary: 'trust the key that signed a handoff (users only, never an agent)',
    usage: 'FINGERPRINT',
    args: { min: 1, max: 1 },
    options: [{ name: 'bundle', type: 'string', value: 'FILE', description: 'the bundle file signed by it (default: the fetched handoff refs)' }],
    shard: 'required',
    load: () => import('./commands/trust.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'guard check',
    summary: 'classify a shell command line: its tier (T0 run .. T4 never) and why, without running it',
    usage: '"<command>"',
    args: { min: 1, max: 1 },
    load: () => import('./commands/guard.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'guard hook',
    summary: "Claude Code's PreToolUse hook: reads the payload on stdin, answers allow (T0/T1), ask (T2) or deny (T3/T4)",
    usage: 'claude',
    args: { min: 1, max: 1 },
    load: () => import('./commands/guardHook.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'approve',
    summary: 'approve a pending request (a T2 command runs once after it); --list shows what is pending',
    usage: '[ID]',
    args: { min: 0, max: 1 },
    options: [
      { name: 'list', type: 'boolean', description: 'list pending requests' },
      { name: 'yes', type: 'boolean', description: 'decide without a terminal (you are the person deciding)' },
    ],
    shard: 'required',
    load: () => import('./commands/approve.js').then((m) => m.approve),
  },
  {
    mode: 'shared',
    name: 'deny',
    summary: 'deny a pending request',
    usage: 'ID',
    args: { min: 1, max: 1 },
    options: [{ name: 'yes', type: 'boolean', description: 'decide without a terminal (you are the person deciding)' }],
    shard: 'required',
    load: () => import('./commands/approve.js').then((m) => m.deny),
  },
  {
    mode: 'shared',
    name: 'grant',
    summary: 'admin: let an agent run commands matching a pattern at T1 instead of T2 (signed capability token); --list shows tokens',
    usage: '[AGENT "PATTERN"]',
    args: { min: 0, max: 2 },
    options: [
      { name: 'ttl', type: 'string', value: 'AGE', description: 'valid for this long (90m, 2h, 7d)' },
      { name: 'uses', type: 'string', value: 'N', description: 'valid for N uses' },
      { name: 'list', type: 'boolean', description: 'list capability tokens and whether each is still valid' },
    ],
    shard: 'required',
    load: () => import('./commands/grant.js').then((m) => m.grant),
  },
  {
    mode: 'shared',
    name: 'revoke',
    summary: 'admin: revoke a capability token',
    usage: 'TOKEN-ID',
    args: { min: 1, max: 1 },
    shard: 'required',
    load: () => import('./commands/grant.js').then((m) => m.revoke),
  },
  {
    mode: 'shared',
    name: 'setup claude',
    summary: 'register the guard (PreToolUse), the session hooks and the MCP server for Claude Code: .claude/settings.local.json and .mcp.json (merged, never clobbered)',
    load: () => import('./commands/setup.js').then((m) => m.claude),
  },
  {
    mode: 'shared',
    name: 'setup codex',
    summary: "register the MCP server in Codex CLI's config.toml ($CODEX_HOME, default ~/.codex; merged, never clobbered)",
    load: () => import('./commands/setup.js').then((m) => m.codex),
  },
  {
    mode: 'shared',
    name: 'setup cursor',
    summary: "register the MCP server in this project's .cursor/mcp.json (merged, never clobbered)",
    load: () => import('./commands/setup.js').then((m) => m.cursor),
  },
  {
    mode: 'shared',
    name: 'hook claude',
    summary: "Claude Code's session hooks (payload on stdin): SessionStart prints the context pack and the session brief; PreCompact and SessionEnd save the session with its transcript",
    load: () => import('./commands/hookClaude.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'verify codex',
    summary: 'check that every CODEX commit since the anchor is SSH-signed by an admin key of trust.yaml (exit 3 if not)',
    shard: 'required',
    load: () => import('./commands/verifyCodex.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'ledger verify',
    summary: 'recompute every hash, mac and link of nexus/ledger.jsonl; name the first bad entry (exit 3)',
    shard: 'required',
    load: () => import('./commands/ledger.js').then((m) => m.verify),
  },
  {
    mode: 'shared',
    name: 'ledger tail',
    summary: 'the last ledger entries',
    options: [{ name: 'n', short: 'n', type: 'string', value: 'N', description: 'how many (default 10)' }],
    shard: 'required',
    load: () => import('./commands/ledger.js').then((m) => m.tail),
  },
  {
    mode: 'shared',
    name: 'ledger show',
    summary: 'one ledger entry',
    usage: 'SEQ',
    args: { min: 1, max: 1 },
    shard: 'required',
    load: () => import('./commands/ledger.js').then((m) => m.show),
  },
  {
    mode: 'shared',
    name: 'ledger count',
    summary: 'how many entries the ledger holds',
    shard: 'required',
    load: () => import('./commands/ledger.js').then((m) => m.countEntries),
  },
  {
    mode: 'shared',
    name: 'ledger search',
    summary: 'ledger entries containing TEXT (case-insensitive), by actor or action',
    usage: '[TEXT]',
    args: { min: 0, max: 1 },
    options: [
      { name: 'actor', type: 'string', value: 'A', description: 'only entries of this actor' },
      { name: 'action', type: 'string', value: 'X', description: 'only this action (or its sub-actions: guard matches guard.check)' },
      { name: 'limit', type: 'string', value: 'N', description: 'show at most the last N matches (default 50)' },
    ],
    shard: 'required',
    load: () => import('./commands/ledger.js').then((m) => m.search),
  },
  {
    mode: 'shared',
    name: 'ledger repair',
    summary: 'move a bad ledger tail into a side file (nothing is deleted) so the chain can continue',
    shard: 'required',
    load: () => import('./commands/ledger.js').then((m) => m.repair),
  },
  {
    mode: 'shared',
    name: 'ledger root',
    summary: 'publish a signed Merkle root of the ledger to organic/ledger-root.json',
    shard: 'required',
    load: () => import('./commands/ledger.js').then((m) => m.root),
  },
  {
    mode: 'shared',
    name: 'ledger prove',
    summary: 'an inclusion proof for entry SEQ (or a consistency proof --from N), as JSON',
    usage: '[SEQ]',
    args: { min: 0, max: 1 },
    options: [
      { name: 'size', type: 'string', value: 'N', description: 'the tree size to prove against (default: the published root\'s)' },
      { name: 'from', type: 'string', value: 'N', description: 'prove the tree of N entries is a prefix of the current one' },
    ],
    shard: 'required',
    load: () => import('./commands/ledger.js').then((m) => m.prove),
  },
  {
    mode: 'shared',
    name: 'ledger check-root',
    summary: 'check a ledger root: signature, an inclusion proof, consistency with an older root (exit 3 if not)',
    usage: 'FILE',
    args: { min: 1, max: 1 },
    options: [
      { name: 'proof', type: 'string', value: 'P', description: 'a proof file from ^ledger prove' },
      { name: 'old', type: 'string', value: 'FILE', description: 'an older root: check the log only grew since' },
    ],
    shard: 'required',
    load: () => import('./commands/ledger.js').then((m) => m.checkRootFile),
  },
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
    name: 'agents',
    summary: 'list the agent personas of the effective codex (codex/agents/*.md)',
    shard: 'required',
    load: () => import('./commands/agents.js').then((m) => m.list),
  },
  {
    mode: 'shared',
    name: 'agent show',
    summary: 'print one persona: model, provider, clearance, rules and prompt',
    usage: 'NAME',
    args: { min: 1, max: 1 },
    shard: 'required',
    load: () => import('./commands/agents.js').then((m) => m.show),
  },
  {
    mode: 'shared',
    name: 'skills',
    summary: 'list the skills of the effective codex: prompt workflows and guides',
    shard: 'required',
    load: () => import('./commands/skills.js').then((m) => m.list),
  },
  {
    mode: 'shared',
    name: 'skill',
    summary: "run any prompt workflow of codex/skills/ (the shard's own too)",
    usage: 'NAME [ARGS...]',
    args: { min: 1, max: 50 },
    options: CHAT_OPTIONS,
    shard: 'required',
    load: () => import('./commands/skills.js').then((m) => m.runner(null)),
  },
  ...SKILLS.map(skillRoute),
  {
    mode: 'shared',
    name: 'cost',
    summary: 'what model calls cost, from nexus/logs/llm-calls.jsonl, and the monthly budget',
    options: [
      { name: 'since', type: 'string', value: 'DATE', description: 'calls at or after (2026-11-01, ISO time, or 7d)' },
      { name: 'by', type: 'string', value: 'G', description: 'group by agent (default), model, session, provider or actor' },
    ],
    shard: 'required',
    load: () => import('./commands/cost.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'mcp',
    summary: 'serve the Model Context Protocol over stdio (or streamable HTTP on 127.0.0.1) for coding agents',
    options: [
      { name: 'http', type: 'boolean', description: 'streamable HTTP on 127.0.0.1 with the bearer token in .agence/hermetic/mcp-token' },
      { name: 'port', type: 'string', value: 'P', description: 'with --http: the port (default 7420; 0 picks a free one)' },
      { name: 'dir', type: 'string', value: 'DIR', description: "serve the shard of the repository at DIR (default: the current directory; for clients that start servers elsewhere)" },
    ],
    // The shard is the one at --dir: the handler resolves it, and each call brings base/ in line.
    load: () => import('./commands/mcp.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'regen',
    summary: 'write the effective CODEX into AGENTS.md, CLAUDE.md, .github/copilot-instructions.md, .cursor/rules/agence.mdc (a marked block; your text around it stays)',
    options: [{ name: 'check', type: 'boolean', description: 'write nothing; exit 1 naming the files that are out of date (for CI)' }],
    shard: 'required',
    load: () => import('./commands/regen.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'buffers',
    summary: "what an agent's tmux pane printed (nexus/buffers/<session>.log; default: the current session)",
    usage: '[SESSION]',
    args: { min: 0, max: 1 },
    options: [
      { name: 'tail', type: 'string', value: 'N', description: 'only the last N lines' },
      { name: 'raw', type: 'boolean', description: 'as recorded, with the terminal control sequences (default: plain text)' },
    ],
    shard: 'required',
    load: () => import('./commands/buffers.js').then((m) => m.run),
  },
  {
    mode: 'shared',
    name: 'buffers record',
    summary: "internal: tmux's pipe-pane runs it to copy an agent pane's output into its buffer, kept under the size cap",
    usage: 'SESSION',
    hidden: true,
    args: { min: 1, max: 1 },
    options: [
      { name: 'file', type: 'string', value: 'PATH', description: 'the buffer file' },
      { name: 'max-bytes', type: 'string', value: 'N', description: 'keep the newest N bytes' },
      { name: 'end-mark', type: 'string', value: 'NONCE', description: "the nonce of the end mark the pane's gate prints after the agent" },
      { name: 'ack', type: 'string', value: 'PATH', description: 'the file to create once everything before the end mark is written' },
    ],
    load: () => import('./commands/buffers.js').then((m) => m.record),
  },
  ...tangentRoutes(),
  ...sequentRoutes(),
  ...TASK_ROUTES,
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
