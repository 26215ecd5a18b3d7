import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import type { Persona } from '../core/agents.js';
import { DEFAULT_BUFFER_MAX_MB, endMarker } from '../core/buffers.js';
import { AgenceError } from '../core/errors.js';
import { installHint, isToolName, LAUNCH_TOOLS, planLaunch, splitLaunch, toolOf, type ToolName } from '../core/launchers.js';
import { shellLine } from '../core/shellQuote.js';
import { assertSessionId, type Session } from '../core/session.js';
import { nearest } from '../core/suggest.js';
import { codexNames, loadPersona } from '../agents/agentRegistry.js';
import { assembleContext } from '../agents/contextPack.js';
import { guardHookGroup } from '../agents/toolSetup.js';
import type { KnowledgeContext } from '../knowledge/knowledge.js';
import { appendLedger } from '../ledger/ledger.js';
import { currentSession, type SessionContext, saveSession, showSession } from '../sessions/sessions.js';
import { readManifest } from '../shard/manifest.js';
import { writeFileAtomic } from '../store/atomic.js';
import { bufferFile } from './buffers.js';
import { findExecutable } from './executable.js';
import { startInTmux, type TmuxStarted } from './tmux.js';

/**
 * `!<agent>`: start an external coding agent with the shard wired in (docs/swarm.md). The agent
 * is a persona (its `launch:` line says what runs) or a tool agence knows (claude, codex, aider,
 * gemini, copilot) working as the current persona. It gets AGENCE_AGENT, AGENCE_SESSION (the
 * current session, saved first if there is none) and AGENCE_CONTEXT_FILE, the context pack the
 * way the tool takes it, and the guard as the tool's own hook where it has one. It runs in this
 * terminal (its exit status is the launch's), or in a tmux window beside a human pane with the
 * pane's output recorded in `nexus/buffers/<session>.log`.
 */

export interface LaunchContext {
  sessions: SessionContext;
  knowledge: KnowledgeContext;
  /** How to run this agence CLI (node and the bundle): the guard hook and the buffer recorder call it. */
  self: string[];
  /** The persona a bare tool name (`!claude`) works as: `@agent`, else AGENCE_AGENT, else the shard default. */
  defaultPersona: string;
}

export interface LaunchInput {
  /** A persona name (codex/agents/) or a tool name (claude, codex, aider, gemini, copilot). */
  agent: string;
  /** Where the agent works (a tangent's worktree, or the current folder). */
  cwd: string;
  /** Arguments passed on to the agent's command, after its own. */
  args?: string[];
  /** What the agent is asked to do: in the context pack, and as its first message where the tool takes one. */
  task?: string;
  /** The session to work in (default: the current one, saved first if there is none). */
  session?: string;
  /** Run in a tmux window beside a human pane, with the pane's output in the session's buffer. */
  tmux: boolean;
  /** With tmux, outside tmux: attach this terminal and wait for it (true), or leave it running (false). */
  attach?: boolean;
  /** The tmux window's name (default: the agent's name). */
  window?: string;
  /** Tokens of the context pack (default 8000). */
  budget?: number;
}

export interface LaunchResult {
  /** The persona the agent works as (AGENCE_AGENT). */
  agent: string;
  /** The tool agence knows it as, or null for any other command. */
  tool: ToolName | null;
  /** What ran (the context pack elided). */
  command: string[];
  cwd: string;
  session: string;
  /** True when the launch saved a new session because there was none. */
  sessionCreated: boolean;
  contextFile: string;
  contextVia: string;
  contextTokens: number;
  guard: 'hook' | 'none';
  tmux: (TmuxStarted & { buffer: string | null }) | null;
  /** The agent's exit status; null while it runs on in tmux. */
  exit: number | null;
}

const DEFAULT_BUDGET = 8000;

/** What `!<name>` names: a persona and its launch command, or a tool working as the default persona. */
function resolveLaunch(ctx: LaunchContext, name: string): { persona: Persona; command: string[]; source: string | null } {
  const paths = ctx.sessions.shard;
  let persona: Persona | null = null;
  try {
    persona = loadPersona(paths, name);
  } catch (error) {
    if (!(error instanceof AgenceError && error.code === 'not_found')) throw error;
  }
  if (persona) {
    if (!persona.launch) {
      throw new AgenceError('usage', `@${name} has no launch: line (${persona.source})`, { fix: `add \`launch: claude\` (or codex, aider, gemini, copilot, or any command) to its front matter, or run \`agence @${name} !claude\`` });
    }
    return { persona, command: splitLaunch(persona.launch, persona.source), source: persona.source };
  }
  if (isToolName(name)) return { persona: loadPersona(paths, ctx.defaultPersona), command: [LAUNCH_TOOLS[name].binary], source: null };
  const known = [...codexNames(paths, 'agents'), ...Object.keys(LAUNCH_TOOLS), 'bash'];
  const guess = nearest(name, known);
  throw new AgenceError('not_found', `no agent "${name}": not a persona of this shard nor a tool agence knows`, {
    fix: `${guess ? `did you mean !${guess}? ` : ''}agents: ${known.join(', ')} (or add codex/agents/${name}.md with a launch: line)`,
  });
}

/** A launch file in `nexus/launch/<session>/` under a name its content decides, written (and read back) unless it is there. */
function writeLaunchFile(ctx: LaunchContext, session: string, stem: string, ext: string, text: string): string {
  const dir = join(ctx.sessions.shard.nexus, 'launch', session);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${stem}-${createHash('sha256').update(text).digest('hex').slice(0, 12)}.${ext}`);
  // Named by its content: a file already there with that content is this one (no second write and fsync).
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return file;
  writeFileAtomic(file, text, 0o600);
  if (readFileSync(file, 'utf8') !== text) throw new AgenceError('corrupt', `${file} did not read back as written`, { file, fix: 'check the disk and launch again' });
  return file;
}

/** The session the agent works in: the one named, else the current open one, else a new one saved now. */
async function launchSession(ctx: LaunchContext, input: LaunchInput, persona: Persona): Promise<{ session: Session; created: boolean }> {
  if (input.session) return { session: showSession(ctx.sessions, assertSessionId(input.session)).session, created: false };
  const current = currentSession(ctx.sessions);
  if (current && (current.status === 'SAVED' || current.status === 'ACTIVE')) return { session: current, created: false };
  const saved = await saveSession({ ...ctx.sessions, cwd: input.cwd }, { agent: persona.name, todos: [], tags: [], forceNew: false, ...(input.task ? { task: input.task } : {}) });
  return { session: saved.session, created: saved.created };
}

/** The cap of a buffer in bytes: `buffers.max_mb` of agence.json, else the default. */
export function bufferCap(ctx: Pick<LaunchContext, 'sessions'>): number {
  const manifest = readManifest(ctx.sessions.shard) as { buffers?: { max_mb?: unknown } };
  const mb = manifest.buffers?.max_mb;
  if (mb === undefined) return DEFAULT_BUFFER_MAX_MB * 1024 * 1024;
  if (typeof mb !== 'number' || !(mb > 0) || mb > 4096) {
    throw new AgenceError('corrupt', `buffers.max_mb in .agence/agence.json is ${JSON.stringify(mb)}, not a number of megabytes from 0 to 4096`, { file: ctx.sessions.shard.manifest, fix: `set it to a positive number (default ${DEFAULT_BUFFER_MAX_MB}), or remove it` });
  }
  return Math.max(1024, Math.round(mb * 1024 * 1024));
}

export async function launchAgent(ctx: LaunchContext, input: LaunchInput): Promise<LaunchResult> {
  const env = ctx.sessions.env;
  const { persona, command, source } = resolveLaunch(ctx, input.agent);
  // Everything that can fail without side effects first: the program, tmux, the buffer cap.
  const program = findExecutable(command[0] as string, env, input.cwd);
  if (!program) throw new AgenceError('not_found', `${command[0]} is not installed (not found ${(command[0] as string).includes('/') ? `at ${command[0]}` : 'on PATH'})`, { fix: installHint(command[0] as string, source) });
  const tmuxBin = input.tmux ? findExecutable('tmux', env, input.cwd) : null;
  if (input.tmux && !tmuxBin) throw new AgenceError('not_found', 'tmux is not installed (not on PATH)', { fix: 'install tmux 3.2 or later (apt install tmux, brew install tmux), or run with --no-tmux' });
  const cap = input.tmux ? bufferCap(ctx) : 0;

  const launched = await launchSession(ctx, input, persona);
  const sessionId = launched.session.session_id;
  const pack = await assembleContext(ctx.knowledge, persona, launched.session, input.task ?? '', input.budget ?? DEFAULT_BUDGET);
  if (pack.secretItems.length > 0) {
    // DESIGN §5: secret items never go to a provider that is not local, and these agents call theirs.
    throw new AgenceError('refused', `the context pack for @${persona.name} holds items labelled secret or above (${pack.secretItems.join(', ')}); an external agent sends its context to its provider`, {
      fix: `launch a persona whose clearance is internal or lower (the clearance: line of ${persona.source})`,
    });
  }
  const contextFile = writeLaunchFile(ctx, sessionId, persona.name, 'md', `${pack.system}\n`);
  const guardSettings = toolOf(command[0] as string)?.guardFlag ? writeLaunchFile(ctx, sessionId, 'claude-settings', 'json', `${JSON.stringify({ hooks: { PreToolUse: [guardHookGroup(ctx.self)] } }, null, 2)}\n`) : null;
  const plan = planLaunch({ command: [program, ...command.slice(1)], extraArgs: input.args ?? [], context: pack.system, contextFile, task: input.task ?? null, guardSettings });
  const shown = plan.argv.map((a) => (a === pack.system ? '<context pack>' : a));

  const shardName = ctx.sessions.shardName;
  const wired: Record<string, string> = { AGENCE_SESSION: sessionId, AGENCE_SHARD: shardName, AGENCE_CONTEXT_FILE: contextFile, ...(input.task ? { AGENCE_TASK: input.task } : {}) };
  const agentEnv = { ...wired, AGENCE_AGENT: persona.name };
  appendLedger(
    ctx.sessions.shard,
    { actor: await ctx.sessions.actor(), action: 'agent.launch', subject: persona.name, decision: 'started', data: { tool: plan.tool, command: shown.slice(0, 1), cwd: input.cwd, session: sessionId, tmux: input.tmux, guard: plan.guard } },
    ctx.sessions.now(),
  );

  const result: Omit<LaunchResult, 'tmux' | 'exit'> = {
    agent: persona.name,
    tool: plan.tool,
    command: shown,
    cwd: input.cwd,
    session: sessionId,
    sessionCreated: launched.created,
    contextFile,
    contextVia: plan.contextVia,
    contextTokens: pack.tokens,
    guard: plan.guard,
  };
  if (tmuxBin) {
    const buffer = bufferFile(ctx.sessions.shard.nexus, sessionId);
    const statusFile = join(ctx.sessions.shard.nexus, 'launch', sessionId, `exit-${process.pid}-${Date.now()}`);
    const nonce = randomBytes(8).toString('hex');
    const ack = `${statusFile}.recorded`;
    // The only shell string with our values in it: each one quoted, the session id checked above.
    const pipe = shellLine([...ctx.self, 'shared', 'buffers', 'record', sessionId, '--file', buffer, '--max-bytes', String(cap), '--end-mark', nonce, '--ack', ack]);
    const started = startInTmux(
      { tmux: tmuxBin, cwd: input.cwd, argv: plan.argv, agentEnv, humanEnv: wired, window: input.window ?? persona.name, group: `agence-${sessionId}`, capture: { pipe, endMark: endMarker(nonce), ack }, attach: input.attach ?? false, statusFile },
      env,
    );
    return { ...result, tmux: { ...started, buffer }, exit: started.exit };
  }
  const child = spawnSync(plan.argv[0] as string, plan.argv.slice(1), { cwd: input.cwd, env: { ...env, ...agentEnv }, stdio: 'inherit' });
  if (child.error) throw new AgenceError('dependency', `${command[0]} could not be started (${child.error.message})`, { fix: installHint(command[0] as string, source) });
  // Killed by a signal: 128 + its number, as a shell reports it.
  return { ...result, tmux: null, exit: child.status ?? 128 + (child.signal ? osConstants.signals[child.signal] : 0) };
}
