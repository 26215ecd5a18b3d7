import { describe, expect, it } from 'vitest';
import { budgetState, type LlmCall, monthStart, sumCalls } from '../../src/core/llmCall.js';

const call = (over: Partial<LlmCall>): LlmCall => ({
  ts: '2026-11-10T10:00:00.000Z',
  actor: 'a@example.com',
  agent: 'sonya',
  provider: 'anthropic',
  model: 'sonnet',
  session: null,
  prompt_hash: '0'.repeat(64),
  input_tokens: 100,
  output_tokens: 10,
  cost: 0.001,
  latency_ms: 5,
  outcome: 'ok',
  purpose: 'chat',
  ...over,
});

describe('call sums and budget', () => {
  it('groups, skips refusals, counts errors and honours since', () => {
    const calls = [call({}), call({ agent: 'pilot', cost: 0.004 }), call({ outcome: 'error', cost: 0, input_tokens: 0, output_tokens: 0 }), call({ outcome: 'refused' }), call({ ts: '2026-10-01T00:00:00.000Z' })];
    const { rows, total } = sumCalls(calls, 'agent', '2026-11-01T00:00:00.000Z');
    expect(total).toMatchObject({ calls: 3, errors: 1, cost: 0.005, input_tokens: 200 });
    expect(rows.map((r) => [r.key, r.calls])).toEqual([['pilot', 1], ['sonya', 2]]);
    expect(sumCalls(calls, 'session', null).rows[0]?.key).toBe('(none)');
  });

  it('warns at 80% and refuses at 100%', () => {
    expect(budgetState(1, undefined)).toEqual({ state: 'none' });
    expect(budgetState(7.9, 10).state).toBe('ok');
    expect(budgetState(8, 10).state).toBe('warn');
    expect(budgetState(10, 10).state).toBe('over');
    expect(budgetState(0, 0).state).toBe('over');
    expect(monthStart(new Date('2026-11-25T23:59:00Z'))).toBe('2026-11-01T00:00:00.000Z');
  });
});
