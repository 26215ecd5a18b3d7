import { AgenceError } from '../../core/errors.js';
import { requireShard } from '../../shard/layout.js';
import { createTangent, destroyTangent, listTangents, tangentDiff, type TangentState, tangentState, writeTangent } from '../../swarm/tangents.js';
import { shellQuote } from '../../core/shellQuote.js';
import { isTerminal } from '../output.js';
import { sessionContext } from '../sessionContext.js';
import type { Handler, Invocation } from '../types.js';

const context = (inv: Invocation) => ({ paths: requireShard(inv.cwd), now: inv.now });
const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

export const create: Handler = async (inv) => {
  const ctx = context(inv);
  const name = inv.args[0] as string;
  const agent = str(inv.opts.agent) ?? null;
  const task = str(inv.opts.task) ?? null;
  if (task !== null && agent === null) throw new AgenceError('usage', '--task needs --agent (who does the task)', { fix: `agence ^tangent create ${name} --agent NAME --task "..."` });
  if (agent !== null) {
    const { loadPersona } = await import('../../agents/agentRegistry.js');
    loadPersona(ctx.paths, agent); // an unknown agent fails before anything is created
  }
  const launch = agent === null ? null : await import('./launch.js');
  const choice = launch === null ? null : launch.tmuxChoice(inv);
  const sessions = agent === null ? undefined : (await sessionContext(inv)).ctx;
  const { record, path } = await createTangent({ ...ctx, ...(sessions ? { sessions } : {}) }, { name, from: str(inv.opts.from), agent, task });
  const text = [`Tangent ${name} created: ${path}`, `branch ${record.branch} from ${record.from ?? 'a detached HEAD'} at ${record.base.slice(0, 12)}`];
  if (agent === null || launch === null || choice === null) return { data: { ...record, path, launch: null }, text: [...text, `work there: cd ${path}`].join('\n') };
  if (choice.note) inv.notify(choice.note);
  const { launchAgent } = await import('../../swarm/launcher.js');
  let launched;
  try {
    launched = await launchAgent(await launch.launchContext(inv), {
      agent,
      cwd: path,
      session: record.session as string,
      tmux: choice.tmux,
      attach: isTerminal(1) && process.stdin.isTTY === true,
      window: `tangent-${name}`,
      ...(task ? { task } : {}),
    });
  } catch (error) {
    // The agent could not start (tool or tmux missing, a refused context): no tangent is left behind.
    await destroyTangent(ctx, name, true);
    throw error;
  }
  const final = launched.tmux ? { ...record, window: launched.tmux.target } : record;
  if (launched.tmux) writeTangent(ctx.paths, final);
  const where = launched.tmux ? (launched.tmux.exit !== null ? `exited with status ${launched.tmux.exit}` : `runs in tmux ${launched.tmux.target}`) : `exited with status ${launched.exit}`;
  text.push(`@${agent} in session ${launched.session}${task ? ` (${task})` : ''}: ${where}`, `back in it: eval "$(agence ^tangent attach ${name})"`);
  // The agent had the terminal: what we say goes to stderr, unless --json asked for the record.
  if (!inv.json) inv.notify(text.join('\n'));
  return { data: { ...final, path, launch: launched }, text: '', exit: launched.exit ?? 0 };
};

function stateLine(t: TangentState): string {
  const where = t.dirty === null ? 'worktree gone (`agence ^doctor`)' : `${t.dirty.length} uncommitted`;
  return `${t.name.padEnd(24)} ${(t.agent ?? '-').padEnd(10)} ${String(t.commits).padStart(3)} commits, ${t.unmerged} unmerged, ${where}${t.task ? `  ${t.task}` : ''}`;
}

export const list: Handler = async (inv) => {
  const tangents = await listTangents(context(inv));
  return { data: tangents, text: tangents.length === 0 ? 'No tangents. `agence ^tangent create NAME` makes one.' : tangents.map(stateLine).join('\n') };
};

export const status: Handler = async (inv) => {
  const t = await tangentState(context(inv), inv.args[0] as string);
  const lines = [
    `tangent   ${t.name}`,
    `branch    ${t.branch} (${t.head ? t.head.slice(0, 12) : 'gone'})`,
    `started   ${t.from ?? '(detached)'} at ${t.base.slice(0, 12)}`,
    `commits   ${t.commits} since the start, ${t.unmerged} not in ${t.from ?? 'the start'}`,
    `worktree  ${t.path}${t.dirty === null ? ' (gone: `agence ^doctor`)' : t.dirty.length > 0 ? `, uncommitted: ${t.dirty.join(', ')}` : ', clean'}`,
    ...(t.agent ? [`agent     ${t.agent}${t.session ? ` (session ${t.session})` : ''}`] : []),
    ...(t.task ? [`task      ${t.task}`] : []),
    ...(t.window ? [`tmux      ${t.window}`] : []),
    ...(t.sequent ? [`sequent   ${t.sequent}`] : []),
  ];
  return { data: t, text: lines.join('\n') };
};

/** Shell code to eval: into the tangent's folder, as its agent and session (and to its tmux window). */
export const attach: Handler = async (inv) => {
  const t = await tangentState(context(inv), inv.args[0] as string);
  if (t.dirty === null) throw new AgenceError('conflict', `the worktree of tangent ${t.name} is gone`, { fix: 'run `agence ^doctor --repair`' });
  const code = [
    `cd -- ${shellQuote(t.path)}`,
    ...(t.agent ? [`export AGENCE_AGENT=${shellQuote(t.agent)}`] : []),
    ...(t.session ? [`export AGENCE_SESSION=${shellQuote(t.session)}`] : []),
    // Inside tmux, to the window its agent was started in.
    ...(t.window && inv.env.TMUX ? [`tmux select-window -t ${shellQuote(t.window)}`] : []),
  ];
  return { data: { path: t.path, agent: t.agent, session: t.session, shell: code }, text: code.join('\n') };
};

export const diff: Handler = async (inv) => {
  const result = await tangentDiff(context(inv), inv.args[0] as string, Boolean(inv.opts.stat));
  const untracked = result.untracked.length > 0 ? `\nuntracked (not in the diff until added): ${result.untracked.join(', ')}` : '';
  return { data: result, text: `${result.diff === '' ? '(no changes)' : result.diff}${untracked}` };
};

export const destroy: Handler = async (inv) => {
  const done = await destroyTangent(context(inv), inv.args[0] as string, Boolean(inv.opts.force));
  const lost = [done.discarded > 0 ? `${done.discarded} unmerged commit${done.discarded === 1 ? '' : 's'}` : '', done.uncommitted > 0 ? `${done.uncommitted} uncommitted file${done.uncommitted === 1 ? '' : 's'}` : ''].filter((x) => x !== '');
  return { data: done, text: `Tangent ${done.name} destroyed (worktree and branch ${done.branch})${lost.length > 0 ? `; thrown away: ${lost.join(', ')}` : ''}` };
};
