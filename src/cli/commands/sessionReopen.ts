import { reopenSession } from '../../sessions/sessions.js';
import type { Handler } from '../types.js';
import { sessionContext } from '../sessionContext.js';

export const run: Handler = async (inv) => {
  const { ctx } = await sessionContext(inv);
  const session = reopenSession(ctx, inv.args[0] as string);
  return { data: { ok: true, session }, text: `Session ${session.session_id} reopened (SAVED); resume it with \`agence ^resume ${session.session_id}\`` };
};
