import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { agence, json, repo } from './helpers.js';
import { agenceAsync, loopback, ok } from './llmServer.js';

const lb = loopback();
const { sb } = lb;
beforeAll(() => {
  lb.server.reply = () => ({ text: 'An answer of a few tokens.' });
});

interface CostReport {
  rows: { key: string; calls: number; cost: number; input_tokens: number }[];
  total: { calls: number; cost: number; errors: number };
  month: { spent: number; budget: { state: string } };
}

describe('^cost and the monthly budget', () => {
  const dir = repo(sb, 'costly');
  ok(agence(sb, dir, ['^init']));
  const manifestFile = join(dir, '.agence/agence.json');

  it('sums the call log by agent, model and session', async () => {
    const a = json<{ cost: number; session: string }>(ok(await agenceAsync(sb, dir, ['what is this repo?', '--json'], lb.env)));
    const b = json<{ cost: number }>(ok(await agenceAsync(sb, dir, ['@pilot', 'please check the change', '--json'], lb.env)));
    const byAgent = json<CostReport>(ok(agence(sb, dir, ['^cost', '--json'])));
    expect(byAgent.total.calls).toBe(2);
    expect(byAgent.total.cost).toBeCloseTo(a.cost + b.cost, 6);
    expect(byAgent.rows.map((r) => r.key).sort()).toEqual(['pilot', 'sonya']);
    const byModel = json<CostReport>(ok(agence(sb, dir, ['^cost', '--by', 'model', '--json'])));
    expect(byModel.rows.find((r) => r.key === 'gpt-4o')?.cost).toBeCloseTo(b.cost, 6);
    const bySession = json<CostReport>(ok(agence(sb, dir, ['^cost', '--by', 'session', '--json'])));
    expect(bySession.rows.map((r) => r.key)).toContain(a.session);
    expect(json<CostReport>(ok(agence(sb, dir, ['^cost', '--since', '2999-01-01', '--json']))).total.calls).toBe(0);
    expect(ok(agence(sb, dir, ['^cost'])).stdout).toMatch(/^total\s+2\s/m);
    const bad = agence(sb, dir, ['^cost', '--by', 'colour']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--by colour is not a grouping/);
  });

  it('warns past 80% of the budget, refuses at 100% (exit 2) unless a person says --over-budget', async () => {
    const spent = json<CostReport>(ok(agence(sb, dir, ['^cost', '--json']))).month.spent;
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, budget: { monthly_usd: spent / 0.85 } }, null, 2));
    const warned = ok(await agenceAsync(sb, dir, ['--new', 'one more question', '--json'], lb.env));
    expect(warned.stderr).toMatch(/spent \$[\d.]+ of the \$[\d.]+ monthly budget \(85%\)/);
    const before = lb.server.requests.length;
    const refused = await agenceAsync(sb, dir, ['--new', 'and another', '--json'], lb.env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/this shard has spent .* monthly budget \(1\d\d%\).*--over-budget/);
    expect(lb.server.requests.length).toBe(before);
    const agent = await agenceAsync(sb, dir, ['--new', '--over-budget', 'and another', '--json'], { ...lb.env, AGENCE_AGENT: 'sonya' });
    expect(agent.code).toBe(2);
    expect(agent.stderr).toMatch(/an agent cannot go over budget/);
    const person = ok(await agenceAsync(sb, dir, ['--new', '--over-budget', 'and another', '--json'], lb.env));
    expect(person.stderr).toMatch(/over budget .*going ahead as asked/);
    const report = json<CostReport>(ok(agence(sb, dir, ['^cost', '--json'])));
    expect(report.month.budget.state).toBe('over');
    expect(report.total.calls).toBe(4); // refusals are logged but not counted as calls
  });
});
