import { describe, expect, it } from 'vitest';
import { agence, json, repo } from './helpers.js';
import { agenceAsync, type Reply, loopback, ok } from './llmServer.js';

const lb = loopback();
const { sb } = lb;

const answer = (a: string, confidence: number) => ({ text: JSON.stringify({ answer: a, confidence, reasoning: `because ${a}` }) });
interface Peers {
  peers: { model: string; ok: boolean; error?: string; answer?: { answer: string; confidence: number } }[];
  consensus: { answer: string; verdict: string; agreement: number; supporters: string[] };
  judge: { model: string; text: string } | null;
  session: string;
}

describe('@peers', () => {
  const dir = repo(sb, 'peering');
  ok(agence(sb, dir, ['^init']));

  it('asks three models in parallel with structured output; one failing and one invalid JSON are reported, the rest count', async () => {
    const byModel: Record<string, Reply> = {
      'claude-opus-4-5': answer('Use Postgres', 0.9),
      'gpt-4o': { status: 400, body: { error: { message: 'model overloaded for this org', type: 'invalid_request_error' } } },
      'llama3.1': { text: 'I would pick Postgres, probably.' },
    };
    const start = lb.server.requests.length;
    lb.server.reply = (req) => byModel[req.body.model] ?? { status: 404 };
    const result = json<Peers>(ok(await agenceAsync(sb, dir, ['@peers', 'Which database for the ledger?', '--json'], lb.env)));
    const sent = lb.server.requests.slice(start);
    expect(sent.map((r) => r.body.model).sort()).toEqual(['claude-opus-4-5', 'gpt-4o', 'llama3.1']);
    // structured output on the wire, and each peer configured differently
    const opus = sent.find((r) => r.body.model === 'claude-opus-4-5')!.body as unknown as { output_config?: { format?: { type: string } }; temperature?: number };
    expect(opus.output_config?.format?.type).toBe('json_schema');
    expect(opus.temperature).toBe(0.2);
    // gpt-4o is OpenAI, over the Responses API: the schema goes in text.format
    const gpt = sent.find((r) => r.body.model === 'gpt-4o')!.body as unknown as { text?: { format?: { type: string } }; temperature?: number };
    expect(gpt.text?.format?.type).toBe('json_schema');
    expect(gpt.temperature).toBe(0.7);
    const peers = Object.fromEntries(result.peers.map((p) => [p.model, p]));
    expect(peers.opus).toMatchObject({ ok: true, answer: { answer: 'Use Postgres', confidence: 0.9 } });
    expect(peers['gpt-4o']).toMatchObject({ ok: false });
    expect(peers['gpt-4o']?.error).toMatch(/400.*model overloaded/);
    expect(peers['llama3.1']).toMatchObject({ ok: false });
    expect(peers['llama3.1']?.error).toMatch(/invalid JSON/);
    expect(result.consensus).toMatchObject({ answer: 'Use Postgres', verdict: 'split', supporters: ['opus'], agreement: 1 });
    const text = ok(await agenceAsync(sb, dir, ['@peers', 'Which database for the ledger?'], lb.env)).stdout;
    expect(text).toMatch(/consensus\s+Use Postgres/);
    expect(text).toMatch(/gpt-4o failed: .*400/);
    expect(text).toMatch(/llama3\.1 failed: invalid JSON/);
  });

  it('forms a weighted majority, and --judge adds a reconciling call', async () => {
    const byModel: Record<string, Reply> = {
      'claude-opus-4-5': answer('Use SQLite', 0.6),
      'gpt-4o': answer('use sqlite.', 0.7),
      'llama3.1': answer('Use Postgres', 0.95),
    };
    lb.server.reply = (req) => (req.body.messages.at(-1) as { content: unknown }).content?.toString().includes('The peers answered') || JSON.stringify(req.body.messages).includes('The peers answered') ? { text: 'Majority: SQLite; Postgres only if writes grow.' } : (byModel[req.body.model] ?? { status: 404 });
    const result = json<Peers>(ok(await agenceAsync(sb, dir, ['@peers', '--judge', 'Which database for the cache?', '--json'], lb.env)));
    expect(result.consensus.verdict).toBe('majority');
    expect(result.consensus.answer).toBe('Use SQLite');
    expect(result.consensus.supporters.sort()).toEqual(['gpt-4o', 'opus']);
    // weights: opus 1.0 x 0.6 + gpt-4o 1.0 x 0.7 = 1.3 of 1.3 + 0.6 x 0.95 = 1.87
    expect(result.consensus.agreement).toBeCloseTo(1.3 / 1.87, 3);
    expect(result.judge).toMatchObject({ model: 'opus', text: 'Majority: SQLite; Postgres only if writes grow.' });
    const log = json<{ rows: { key: string; calls: number }[] }>(ok(agence(sb, dir, ['^cost', '--by', 'model', '--json'])));
    expect(log.rows.find((r) => r.key === 'opus')?.calls).toBeGreaterThanOrEqual(3);
  });

  it('no peer answering is an error, with each failure', async () => {
    lb.server.reply = () => ({ status: 400 });
    const run = await agenceAsync(sb, dir, ['@peers', 'anything?'], lb.env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no peer gave a valid answer/);
  });
});
