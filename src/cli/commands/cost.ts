import { AgenceError } from '../../core/errors.js';
import { budgetState, COST_GROUPS, type CostGroup, monthStart, sumCalls } from '../../core/llmCall.js';
import { parseWhen } from '../../core/time.js';
import { readCalls } from '../../llm/callLog.js';
import { requireShard } from '../../shard/layout.js';
import { readManifest } from '../../shard/manifest.js';
import type { Handler } from '../types.js';

/** `^cost [--since D] [--by agent|model|session]`: what model calls cost, from nexus/logs/llm-calls.jsonl. */
export const run: Handler = async (inv) => {
  const paths = requireShard(inv.cwd);
  const now = inv.now();
  const by = (typeof inv.opts.by === 'string' ? inv.opts.by : 'agent') as CostGroup;
  if (!(COST_GROUPS as readonly string[]).includes(by)) throw new AgenceError('usage', `--by ${by} is not a grouping`, { fix: `use one of ${COST_GROUPS.join(', ')}` });
  const since = typeof inv.opts.since === 'string' ? parseWhen(inv.opts.since, '--since', now) : null;
  const { calls, damaged } = readCalls(paths);
  const { rows, total } = sumCalls(calls, by, since);
  const month = sumCalls(calls, by, monthStart(now)).total.cost;
  const budget = budgetState(month, readManifest(paths).budget?.monthly_usd);
  const s = inv.style;
  const money = (n: number) => `$${n.toFixed(4)}`;
  const line = (r: typeof total) => `${r.key.padEnd(20)} ${String(r.calls).padStart(6)} ${String(r.input_tokens).padStart(10)} ${String(r.output_tokens).padStart(10)} ${money(r.cost).padStart(11)}${r.errors ? s.yellow(`  ${r.errors} failed`) : ''}`;
  const text = [
    s.bold(`${by.padEnd(20)} ${'calls'.padStart(6)} ${'tokens in'.padStart(10)} ${'tokens out'.padStart(10)} ${'cost'.padStart(11)}`),
    ...rows.map(line),
    s.bold(line(total)),
    budget.state === 'none'
      ? s.dim(`this month ${money(month)}; no monthly budget (set budget.monthly_usd in .agence/agence.json)`)
      : `this month ${money(budget.spent)} of ${money(budget.budget)} (${Math.round(budget.share * 100)}%)${budget.state === 'over' ? s.red(' over budget') : budget.state === 'warn' ? s.yellow(' past 80%') : ''}`,
    ...(damaged > 0 ? [s.yellow(`${damaged} damaged lines in nexus/logs/llm-calls.jsonl were skipped`)] : []),
  ].join('\n');
  return { data: { by, since, rows, total, month: { spent: month, budget }, damaged }, text };
};
