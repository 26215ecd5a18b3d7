import { shardAgents } from '../../handoff/bundle.js';
import { inbox } from '../../handoff/handoffs.js';
import { handoffContext } from '../sessionContext.js';
import type { Handler } from '../types.js';

export const run: Handler = async (inv) => {
  const ctx = await handoffContext(inv);
  const { exchange, entries } = await inbox(ctx, shardAgents(ctx.sessions.shard), inv.opts.all === true);
  const s = inv.style;
  if (entries.length === 0) return { data: { exchange: exchange.name, handoffs: [] }, text: `No ${inv.opts.all ? '' : 'open '}handoffs for this shard on ${exchange.name}.` };
  const lines = entries.map((e) => {
    if (e.from_shard === null) return s.red(`${e.bundle_id}  unreadable: ${e.problem}`);
    const state = e.accepted ? s.dim(`accepted ${e.accepted === 'here' ? 'here' : `by ${e.accepted}`}`) : e.problem ? s.red(e.problem) : e.trusted ? s.green('trusted') : s.yellow(`untrusted signer ${e.signer} (agence ^trust ${e.signer})`);
    return `${e.bundle_id}  ${e.from_shard}/${e.from_agent} -> ${e.to_agent}${e.to_shard ? `@${e.to_shard}` : ''}  ${e.created?.slice(0, 16).replace('T', ' ')}  ${state}${e.note ? `\n    ${e.note}` : ''}`;
  });
  return { data: { exchange: exchange.name, handoffs: entries }, text: lines.join('\n') };
};
