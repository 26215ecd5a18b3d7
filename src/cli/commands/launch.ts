import { AgenceError } from '../../core/errors.js';
import { selfCommand } from '../selfCommand.js';
import { readManifest } from '../../shard/manifest.js';
import { findExecutable } from '../../swarm/executable.js';
import type { LaunchContext, LaunchResult } from '../../swarm/launcher.js';
import { knowledgeContext } from '../knowledgeContext.js';
import { bringBaseInLine } from '../baseInLine.js';
import { isTerminal } from '../output.js';
import { sessionContext } from '../sessionContext.js';
import type { Handler, Invocation } from '../types.js';

/** What a launch needs from an invocation; the tangents build theirs with it too. */
export async function launchContext(inv: Invocation): Promise<LaunchContext> {
  // Personas may come from the master: base/ first, as for any command that reads the codex.
  await bringBaseInLine(inv.cwd, inv.notify, inv.progress);
  const { ctx } = await sessionContext(inv);
  return {
    sessions: ctx,
    knowledge: knowledgeContext(inv),
    self: selfCommand(),
    defaultPersona: inv.agent?.agent ?? (inv.env.AGENCE_AGENT || readManifest(ctx.shard).default_agent),
  };
}

/**
 * Whether to use tmux: --tmux asks for it (and fails without it), --no-tmux forbids it, and by
 * default it is used when tmux is on PATH and stdout is a terminal (a person is watching).
 */
export function tmuxChoice(inv: Invocation): { tmux: boolean; note: string | null } {
  if (inv.opts.tmux === true && inv.opts['no-tmux'] === true) throw new AgenceError('usage', '--tmux and --no-tmux contradict each other', { fix: 'give one of them' });
  if (inv.opts.tmux === true) return { tmux: true, note: null };
  if (inv.opts['no-tmux'] === true || !isTerminal(1)) return { tmux: false, note: null };
  if (findExecutable('tmux', inv.env, inv.cwd)) return { tmux: true, note: null };
  return { tmux: false, note: 'tmux is not on PATH: the agent runs in this terminal, without a buffer (install tmux for the 1+1 window, or pass --no-tmux to silence this)' };
}

function report(r: LaunchResult): string {
  const lines = [`@${r.agent}${r.tool && r.tool !== r.agent ? ` (${r.tool})` : ''} in session ${r.session}${r.sessionCreated ? ' (new)' : ''}, context ~${r.contextTokens} tokens via ${r.contextVia}${r.guard === 'hook' ? ', guard hook on' : ''}`];
  if (r.tmux) {
    if (r.tmux.exit !== null) lines.push(`the agent exited with status ${r.tmux.exit}`);
    else if (r.tmux.server === 'current') lines.push(`running in tmux window ${r.tmux.target} (agent pane ${r.tmux.pane}, your pane ${r.tmux.humanPane})`);
    else lines.push(`running in tmux session ${r.tmux.target.split(':')[0]}: tmux attach -t ${r.tmux.target.split(':')[0]}`);
    if (r.tmux.buffer) lines.push(`buffer: ${r.tmux.buffer} (agence ^buffers ${r.session} --tail 50)`);
  }
  return lines.join('\n');
}

/** `!<agent> [--tmux|--no-tmux] [--task T] [-- ARGS]`: start an external coding agent. */
export const run: Handler = async (inv) => {
  const [agent, ...args] = inv.args as [string, ...string[]];
  const { tmux, note } = tmuxChoice(inv);
  if (note) inv.notify(note);
  const ctx = await launchContext(inv);
  const { launchAgent } = await import('../../swarm/launcher.js');
  const result = await launchAgent(ctx, {
    agent,
    cwd: inv.cwd,
    args,
    tmux,
    attach: isTerminal(1) && process.stdin.isTTY === true,
    ...(typeof inv.opts.task === 'string' ? { task: inv.opts.task } : {}),
  });
  // The agent had the terminal; what we say goes to stderr unless --json asked for the record.
  const text = report(result);
  if (!inv.json) inv.notify(text);
  return { data: result, text: '', exit: result.exit ?? 0 };
};
