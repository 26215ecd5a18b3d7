import { claudeCodeOf } from '../../core/claudeCode.js';
import { shellQuote } from '../../core/shellQuote.js';
import { type ResumeBrief, resumeSession, resumeTarget } from '../../sessions/sessions.js';
import type { Style } from '../output.js';
import type { Handler } from '../types.js';
import { sessionContext } from '../sessionContext.js';


export const run: Handler = async (inv) => {
  if (inv.opts.apply) return resumeApplying(inv);
  const { ctx } = await sessionContext(inv);
  const brief = await resumeSession(ctx, inv.args[0]);
  const { session } = brief;
  if (inv.opts.shell) {
    const code = [
      ...(brief.cd ? [`cd -- ${shellQuote(brief.cd)}`] : []),
      `export AGENCE_SESSION=${shellQuote(session.session_id)}`,
      `export AGENCE_AGENT=${shellQuote(session.agent)}`,
    ].join('\n');
    return { data: { shell: code, brief }, text: code };
  }
  return { data: brief, text: briefText(brief, inv.style) };
};

/** The resume brief for people and agents: task, todo progress, notes, the Claude Code transcript, git drift. */
export function briefText(brief: ResumeBrief, s: Style): string {
  const { session } = brief;
  const lines = [`${s.bold(`Resumed ${brief.name}`)} (agent ${session.agent}, rev ${session.rev})`];
  lines.push(`task:  ${brief.task || '(none given)'}`);
  if (brief.todo.total > 0) {
    lines.push(`todo:  step ${brief.todo.step}/${brief.todo.total}${brief.todo.next ? `: ${brief.todo.next}` : ' (all done)'}`);
    for (const t of session.runstate.todo_list) lines.push(`       [${t.status === 'done' ? 'x' : t.status === 'in_progress' ? '~' : ' '}] ${t.title}`);
  }
  for (const note of brief.notes) lines.push(`note:  ${note.at.slice(0, 16).replace('T', ' ')} ${note.author}: ${note.text}`);
  const { drift } = brief;
  if (drift.branchMoved) lines.push(s.yellow(`drift: branch was ${drift.branchMoved.from ?? '(detached)'}, now ${drift.branchMoved.to ?? '(detached)'}`));
  if (drift.headMoved) {
    const files = drift.headMoved.files;
    lines.push(s.yellow(`drift: HEAD moved ${drift.headMoved.from?.slice(0, 12) ?? '(none)'} -> ${drift.headMoved.to?.slice(0, 12) ?? '(none)'}${files ? `, ${files.length} file${files.length === 1 ? '' : 's'} changed: ${files.slice(0, 10).join(', ')}${files.length > 10 ? ', ...' : ''}` : ''}`));
  }
  if (drift.dirtyNow.length > 0) lines.push(`dirty: ${drift.dirtyNow.slice(0, 10).join(', ')}${drift.dirtyNow.length > 10 ? ', ...' : ''}`);
  if (!drift.branchMoved && !drift.headMoved) lines.push('git:   no drift since the save');
  const claude = claudeCodeOf(session);
  if (claude) lines.push(`claude: transcript ${claude.transcript_path} (Claude Code session ${claude.session_id}, saved at ${claude.event})`);
  if (brief.cd) lines.push(`cd:    cd ${shellQuote(brief.cd)}   (or: eval "$(agence ^resume ${session.session_id} --shell)")`);
  return lines.join('\n');
}

/**
 * `^resume --apply`: the handed-off work is checked first (it must apply and touch no file with
 * local changes), then the session is resumed, then the work is written to the work tree.
 */
async function resumeApplying(inv: Parameters<Handler>[0]) {
  const { ctx } = await sessionContext(inv);
  const { planWorktree, applyWorktree } = await import('../../handoff/worktree.js');
  const plan = await planWorktree(ctx.shard, resumeTarget(ctx, inv.args[0]));
  const resumed = await run({ ...inv, opts: { ...inv.opts, apply: false } });
  await applyWorktree(ctx.shard, plan, await ctx.actor(), ctx.now());
  const applied = { bundle_id: plan.bundle_id, commit: plan.commit, files: plan.files };
  return {
    ...resumed,
    data: { ...(resumed.data as object), applied },
    // With --shell the text is code to eval: nothing is added to it.
    text: inv.opts.shell ? resumed.text : `${resumed.text}\napplied: the handed-off work, ${plan.files.length} file${plan.files.length === 1 ? '' : 's'}: ${plan.files.slice(0, 10).join(', ')}${plan.files.length > 10 ? ', ...' : ''}`,
  };
}
