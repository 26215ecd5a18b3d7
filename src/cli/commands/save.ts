import { readFileSync } from 'node:fs';
import { AgenceError } from '../../core/errors.js';
import { PRIORITIES, type Priority } from '../../core/session.js';
import { saveSession } from '../../sessions/sessions.js';
import type { Handler } from '../types.js';
import { sessionContext } from '../sessionContext.js';

const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);

export const run: Handler = async (inv) => {
  const priority = inv.opts.priority as string | undefined;
  if (priority !== undefined && !(PRIORITIES as readonly string[]).includes(priority)) {
    throw new AgenceError('usage', `--priority "${priority}" is not a priority`, { fix: `use one of: ${PRIORITIES.join(', ')}` });
  }
  const { ctx } = await sessionContext(inv);
  // `-` reads the note from standard input (a long note does not fit in an argument).
  const note = inv.args[0] === '-' ? readFileSync(0, 'utf8') : inv.args[0];
  const result = await saveSession(ctx, {
    ...(note !== undefined ? { note } : {}),
    ...(typeof inv.opts.agent === 'string' ? { agent: inv.opts.agent } : {}),
    ...(typeof inv.opts.task === 'string' ? { task: inv.opts.task } : {}),
    ...(priority !== undefined ? { priority: priority as Priority } : {}),
    todos: list(inv.opts.todo),
    tags: list(inv.opts.tag),
    forceNew: inv.opts.new === true,
  });
  const { session } = result;
  const lines = [`Session ${session.session_id} saved`];
  if (!result.created) lines[0] += ` (rev ${session.rev})`;
  if (result.quarantined) lines.push(`  a torn line from an interrupted save was moved aside to ${result.quarantined}`);
  return { data: { ok: true, created: result.created, session, quarantined: result.quarantined }, text: lines.join('\n') };
};
