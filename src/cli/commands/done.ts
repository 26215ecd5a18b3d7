import { completeSession } from '../../sessions/sessions.js';
import type { Handler } from '../types.js';
import { sessionContext } from '../sessionContext.js';

export const run: Handler = async (inv) => {
  const { ctx } = await sessionContext(inv);
  const session = completeSession(ctx, inv.args[0]);
  return { data: { ok: true, session }, text: `Session ${session.session_id} completed` };
};
