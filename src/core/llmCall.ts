import * as z from './zod.js';

/**
 * One line of `nexus/logs/llm-calls.jsonl`: every model call agence makes or refuses, with what it
 * cost. The prompt itself is never logged, only its hash. Pure: schema and sums.
 */

export const OUTCOMES = ['ok', 'error', 'refused'] as const;

export const LlmCallSchema = z.deferred(() => z.object({
  ts: z.string(),
  actor: z.string(),
  agent: z.string(),
  provider: z.string(),
  model: z.string(),
  session: z.nullable(z.string()),
  /** sha256 of the canonical prompt (system + messages), hex. */
  prompt_hash: z.string(),
  input_tokens: z.int().check(z.nonnegative()),
  output_tokens: z.int().check(z.nonnegative()),
  /** US dollars, from the price table of codex/models.yaml. */
  cost: z.number().check(z.gte(0)),
  latency_ms: z.int().check(z.nonnegative()),
  outcome: z.enum(OUTCOMES),
  /** What kind of call: chat, peer, judge, skill, auto. */
  purpose: z.string(),
  /** For an error or a refusal: what went wrong, in one line. */
  detail: z.optional(z.string()),
}));
export type LlmCall = z.infer<typeof LlmCallSchema>;

export const COST_GROUPS = ['agent', 'model', 'session', 'provider', 'actor'] as const;
export type CostGroup = (typeof COST_GROUPS)[number];

export interface CostRow {
  key: string;
  calls: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cost: number;
}

/** Sum calls at or after `since` (ISO time), grouped; rows by cost, highest first. */
export function sumCalls(calls: readonly LlmCall[], by: CostGroup, since: string | null): { rows: CostRow[]; total: CostRow } {
  const groups = new Map<string, CostRow>();
  const total: CostRow = { key: 'total', calls: 0, errors: 0, input_tokens: 0, output_tokens: 0, cost: 0 };
  for (const call of calls) {
    if (since !== null && call.ts < since) continue;
    if (call.outcome === 'refused') continue;
    const key = call[by] ?? '(none)';
    const row = groups.get(key) ?? { key, calls: 0, errors: 0, input_tokens: 0, output_tokens: 0, cost: 0 };
    for (const r of [row, total]) {
      r.calls += 1;
      r.errors += call.outcome === 'error' ? 1 : 0;
      r.input_tokens += call.input_tokens;
      r.output_tokens += call.output_tokens;
      r.cost = Math.round((r.cost + call.cost) * 1e6) / 1e6;
    }
    groups.set(key, row);
  }
  return { rows: [...groups.values()].sort((a, b) => b.cost - a.cost || a.key.localeCompare(b.key)), total };
}

/** The first instant of the UTC month of `now`, as ISO time. */
export function monthStart(now: Date): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
}

export type BudgetState = { state: 'none' } | { state: 'ok' | 'warn' | 'over'; spent: number; budget: number; share: number };

/** DESIGN: warn at 80% of the monthly budget, refuse at 100%. */
export function budgetState(spent: number, budget: number | undefined): BudgetState {
  if (budget === undefined) return { state: 'none' };
  const share = budget === 0 ? 1 : spent / budget;
  return { state: share >= 1 ? 'over' : share >= 0.8 ? 'warn' : 'ok', spent, budget, share };
}
