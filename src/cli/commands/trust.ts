import { resolve } from 'node:path';
import { trustSigner } from '../../handoff/handoffs.js';
import { handoffContext } from '../sessionContext.js';
import type { Handler } from '../types.js';

export const run: Handler = async (inv) => {
  const ctx = await handoffContext(inv);
  const result = await trustSigner(ctx, inv.args[0] as string, typeof inv.opts.bundle === 'string' ? resolve(inv.cwd, inv.opts.bundle) : null);
  return {
    data: { ok: true, ...result },
    text: result.added
      ? `Trusted ${inv.args[0]} for shard ${result.shard_name} (${result.shard_id}) in .agence/codex/trust.yaml; commit it to share the decision`
      : `${inv.args[0]} is already trusted for shard ${result.shard_name} (${result.shard_id})`,
  };
};
