import { showSession } from '../../sessions/sessions.js';
import type { Handler } from '../types.js';
import { sessionContext } from '../sessionContext.js';

export const run: Handler = async (inv) => {
  const { ctx, shardName } = await sessionContext(inv);
  const { session } = showSession(ctx, inv.args[0] as string);
  const s = inv.style;
  const r = session.runstate;
  const lines = [
    `${s.bold(`${shardName}:${session.session_id}`)}  ${session.status}  rev ${session.rev}`,
    `agent     ${session.agent}`,
    `created   ${session.created_at}`,
    `updated   ${session.updated_at}`,
    `task      ${session.metadata.task_description || '(none)'}`,
    `priority  ${session.metadata.priority}${session.metadata.tags.length ? `  tags ${session.metadata.tags.join(', ')}` : ''}`,
    `git       ${session.git.branch ?? '(detached)'} @ ${session.git.head?.slice(0, 12) ?? '(no commit)'}; ${session.git.staged.length} staged, ${session.git.dirty.length} changed`,
    `cwd       ${session.cwd}`,
    ...(session.lineage.parent || session.lineage.from_shard ? [`lineage   from ${session.lineage.from_shard ?? '?'}:${session.lineage.parent ?? '?'} (${session.lineage.from_agent ?? '?'} -> ${session.lineage.to_agent ?? '?'})`] : []),
    ...r.todo_list.map((t) => `todo      [${t.status === 'done' ? 'x' : t.status === 'in_progress' ? '~' : ' '}] ${t.title}`),
    ...session.notes.map((n) => `note      ${n.at} ${n.author}: ${n.text}`),
  ];
  return { data: session, text: lines.join('\n') };
};
