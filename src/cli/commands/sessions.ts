import { AgenceError } from '../../core/errors.js';
import { SESSION_STATUSES, type SessionStatus } from '../../core/session.js';
import { parseWhen } from '../../core/time.js';
import { listSessions } from '../../sessions/sessions.js';
import type { Handler } from '../types.js';
import { sessionContext } from '../sessionContext.js';

export const run: Handler = async (inv) => {
  const status = typeof inv.opts.status === 'string' ? inv.opts.status.toUpperCase() : undefined;
  if (status !== undefined && !(SESSION_STATUSES as readonly string[]).includes(status)) {
    throw new AgenceError('usage', `--status "${inv.opts.status}" is not a session status`, { fix: `use one of: ${SESSION_STATUSES.join(', ').toLowerCase()}` });
  }
  const limitText = typeof inv.opts.limit === 'string' ? inv.opts.limit : '20';
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new AgenceError('usage', `--limit "${limitText}" is not a number from 1 to 100000`);
  const now = inv.now();
  const { ctx } = await sessionContext(inv);
  const rows = listSessions(ctx, {
    limit,
    ...(status ? { status: status as SessionStatus } : {}),
    ...(typeof inv.opts.agent === 'string' ? { agent: inv.opts.agent } : {}),
    ...(typeof inv.opts.since === 'string' ? { since: parseWhen(inv.opts.since, '--since', now) } : {}),
    ...(typeof inv.opts.until === 'string' ? { until: parseWhen(inv.opts.until, '--until', now) } : {}),
    ...(typeof inv.opts.tag === 'string' ? { tag: inv.opts.tag } : {}),
    archived: inv.opts.archived === true,
  });
  const s = inv.style;
  const lines = rows.map(
    (r) =>
      `${s.bold(r.id)}  ${r.status.padEnd(11)} ${r.agent.padEnd(10)} ${r.updated_at.slice(0, 16).replace('T', ' ')}  ${r.todo_total > 0 ? `${r.todo_done}/${r.todo_total}`.padEnd(6) : '      '}${r.task}`,
  );
  if (rows.length === 0) lines.push('No sessions match.');
  return { data: { sessions: rows }, text: lines.join('\n') };
};
