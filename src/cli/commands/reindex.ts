import { reindexSessions } from '../../sessions/sessions.js';
import type { Handler } from '../types.js';
import { sessionContext } from '../sessionContext.js';

export const run: Handler = async (inv) => {
  const { ctx } = await sessionContext(inv);
  const result = reindexSessions(ctx);
  return { data: { ok: true, ...result }, text: `Rebuilt .agence/nexus/index.db from the session files: ${result.sessions} sessions.` };
};
