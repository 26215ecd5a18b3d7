import { resolve } from 'node:path';
import { importFile } from '../../handoff/handoffs.js';
import { handoffContext } from '../sessionContext.js';
import type { Handler } from '../types.js';

export const run: Handler = async (inv) => {
  const ctx = await handoffContext(inv);
  const { bundle, session } = await importFile(ctx, resolve(inv.cwd, inv.args[0] as string));
  return {
    data: { ok: true, bundle_id: bundle.bundle_id, session },
    text: `Imported bundle ${bundle.bundle_id} from ${bundle.from.shard_name} (${bundle.from.agent}) as session ${session.session_id} for ${session.agent}\n  continue with: agence ^resume ${session.session_id}`,
  };
};
