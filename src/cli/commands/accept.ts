import { acceptBundle } from '../../handoff/handoffs.js';
import { handoffContext } from '../sessionContext.js';
import type { Handler } from '../types.js';

export const run: Handler = async (inv) => {
  const ctx = await handoffContext(inv);
  const { bundle, session } = await acceptBundle(ctx, inv.args[0] as string);
  return {
    data: { ok: true, bundle_id: bundle.bundle_id, session },
    text: [
      `Accepted bundle ${bundle.bundle_id} from ${bundle.from.shard_name} (${bundle.from.agent}) as session ${session.session_id} for ${session.agent}`,
      ...(bundle.note ? [`  note: ${bundle.note}`] : []),
      ...(bundle.worktree ? [`  it brings uncommitted work: agence ^resume ${session.session_id} --apply`] : [`  continue with: agence ^resume ${session.session_id}`]),
    ].join('\n'),
  };
};
