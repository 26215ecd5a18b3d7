import { promoteItem } from '../../knowledge/promote.js';
import type { Handler } from '../types.js';
import { withKnowledge } from '../knowledgeContext.js';

export const run: Handler = async (inv) => {
  const result = await withKnowledge(inv, (ctx) => promoteItem(ctx, inv.args[0] as string));
  return {
    data: { ok: true, ...result },
    text: [`Proposed ${result.id} to the master as ${result.path} on branch ${result.branch} (commit ${result.commit.slice(0, 12)}), pushed to ${result.master}.`, 'Once it is merged there, `agence ^pull` brings it into base/ and the local copy is marked superseded.'].join('\n'),
  };
};
