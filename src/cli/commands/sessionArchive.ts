import { parseDuration } from '../../core/time.js';
import { archiveSessions } from '../../sessions/sessions.js';
import type { Handler } from '../types.js';
import { sessionContext } from '../sessionContext.js';

export const run: Handler = async (inv) => {
  const olderThan = parseDuration(typeof inv.opts['older-than'] === 'string' ? inv.opts['older-than'] : '30d', '--older-than');
  const { ctx } = await sessionContext(inv);
  const result = archiveSessions(ctx, olderThan);
  const text =
    result.archived.length === 0
      ? 'No completed or transferred session is old enough to archive.'
      : `Archived ${result.archived.length} session${result.archived.length === 1 ? '' : 's'} into nexus/sessions/archive/ (${result.months.map((m) => `${m}.tar.gz`).join(', ')}); \`agence ^sessions --archived\` lists them.`;
  return { data: { ok: true, ...result }, text };
};
