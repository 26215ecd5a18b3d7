import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agence, json, type Run, repo } from './helpers.js';
import { agenceAsync, promptOf, loopback, ok } from './llmServer.js';

const lb = loopback();
const { sb } = lb;

interface Answer {
  answer: string;
  agent: string;
  model: { alias: string; provider: string; id: string };
  usage: { input_tokens: number; output_tokens: number };
  cost: number;
  session: string;
  created: boolean;
  items: { id: string; label: string }[];
}
interface Call {
  ts: string;
  actor: string;
  agent: string;
  provider: string;
  model: string;
  session: string | null;
  prompt_hash: string;
  input_tokens: number;
  output_tokens: number;
  cost: number;
  latency_ms: number;
  outcome: string;
  detail?: string;
}

const calls = (dir: string): Call[] => {
  const file = join(dir, '.agence/nexus/logs/llm-calls.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Call) : [];
};
const sessionFiles = (dir: string) =>
  ['active', 'saved', 'completed'].map((t) => join(dir, `.agence/nexus/sessions/session-${t}.jsonl`)).map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : '')).join('');
function shard(name: string): string {
  const dir = repo(sb, name);
  ok(agence(sb, dir, ['^init']));
  return dir;
}
/** The request count, the call log and the session files must not move when a call fails. */
async function failsCleanly(dir: string, args: string[], extra: NodeJS.ProcessEnv): Promise<Run> {
  const before = sessionFiles(dir);
  const run = await agenceAsync(sb, dir, args, { ...lb.env, ...extra });
  expect(sessionFiles(dir)).toBe(before);
  return run;
}

describe('chat against the loopback server', () => {
  const dir = shard('chat');

  it('answers with the shard context, logs the call with its cost, keeps both turns in the session', async () => {
    ok(agence(sb, dir, ['^learn', 'TLS certificates are rotated by certbot every 60 days; the nginx reload hook is in deploy/tls.sh', '--title', 'TLS rotation']));
    lb.server.reply = () => ({ text: 'Certbot rotates them; see deploy/tls.sh.' });
    const run = ok(await agenceAsync(sb, dir, ['How', 'do', 'I', 'configure', 'TLS?', '--json'], lb.env));
    const answer = json<Answer>(run);
    expect(answer).toMatchObject({ answer: 'Certbot rotates them; see deploy/tls.sh.', agent: 'sonya', model: { alias: 'sonnet', provider: 'anthropic', id: 'claude-sonnet-4-5' }, created: true });
    expect(answer.items.map((i) => i.label)).toEqual(['internal']);
    const req = lb.server.requests.at(-1)!;
    expect(req.protocol).toBe('anthropic');
    expect(req.body.stream).toBe(true);
    expect(req.body.model).toBe('claude-sonnet-4-5');
    expect(req.headers['x-api-key']).toBe(lb.env.ANTHROPIC_API_KEY);
    const { system, last } = promptOf(req);
    expect(last).toBe('How do I configure TLS?');
    expect(system).toMatch(/^You are sonya, working in the shard chat/);
    expect(system).toMatch(/## Your persona\n\n---\nname: sonya[\s\S]*You are Sonya/);
    expect(system).toMatch(/## Laws \(never broken\)/);
    expect(system).toMatch(/## Rules/);
    expect(system).toMatch(/certbot every 60 days/);
    // usage from the stream, priced from codex/models.yaml (sonnet: $3 / $15 per million)
    const [call] = calls(dir);
    expect(call).toMatchObject({ actor: 'test@example.com', agent: 'sonya', provider: 'anthropic', model: 'sonnet', outcome: 'ok', input_tokens: answer.usage.input_tokens, output_tokens: answer.usage.output_tokens });
    expect(answer.usage.input_tokens).toBeGreaterThan(100);
    expect(call?.cost).toBeCloseTo((3 * answer.usage.input_tokens + 15 * answer.usage.output_tokens) / 1e6, 6);
    expect(call?.prompt_hash).toMatch(/^[0-9a-f]{64}$/);
    const log = readFileSync(join(dir, '.agence/nexus/logs/llm-calls.jsonl'), 'utf8');
    expect(log).not.toMatch(/test-key|How do I configure/);
    const shown = json<{ runstate: { memory_state: { conversation: { role: string; text: string }[] } } }>(ok(agence(sb, dir, ['^session', 'show', answer.session, '--json'])));
    expect(shown.runstate.memory_state.conversation.map((t) => [t.role, t.text])).toEqual([
      ['user', 'How do I configure TLS?'],
      ['assistant', 'Certbot rotates them; see deploy/tls.sh.'],
    ]);
  });

  it('carries the conversation to the next turn, in the same session; --new starts fresh', async () => {
    lb.server.reply = () => ({ text: 'Run deploy/tls.sh --dry-run first.' });
    const second = json<Answer>(ok(await agenceAsync(sb, dir, ['and how do I test it?', '--json'], lb.env)));
    const req = lb.server.requests.at(-1)!;
    expect(req.body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(second.created).toBe(false);
    expect(calls(dir).at(-1)?.session).toBe(second.session);
    const fresh = json<Answer>(ok(await agenceAsync(sb, dir, ['--new', 'what is our deploy target?', '--json'], lb.env)));
    expect(lb.server.requests.at(-1)!.body.messages).toHaveLength(1);
    expect(fresh.created).toBe(true);
    expect(fresh.session).not.toBe(second.session);
  });

  it('routes @agent to its provider: pilot speaks the OpenAI Responses API, olena a local Ollama', async () => {
    lb.server.reply = () => ({ text: 'LGTM with one nit.' });
    const pilot = json<Answer>(ok(await agenceAsync(sb, dir, ['@pilot', 'review the TLS change', '--json'], lb.env)));
    const req = lb.server.requests.at(-1)!;
    expect(req.protocol).toBe('openai-responses');
    expect(req.body.stream).toBe(true);
    expect((req.body as { store?: boolean }).store).toBe(false); // nothing kept on OpenAI's side
    expect(promptOf(req).last).toBe('review the TLS change');
    expect(pilot.answer).toBe('LGTM with one nit.');
    expect(req.headers.authorization).toBe(`Bearer ${lb.env.OPENAI_API_KEY}`);
    expect(req.body.model).toBe('gpt-4o');
    expect(pilot.usage.output_tokens).toBeGreaterThan(0);
    expect(calls(dir).at(-1)).toMatchObject({ provider: 'openai', model: 'gpt-4o', agent: 'pilot' });
    const olena = json<Answer>(ok(await agenceAsync(sb, dir, ['@olena', 'summarise the TLS notes', '--json'], lb.env)));
    expect(lb.server.requests.at(-1)!.body.model).toBe('llama3.1');
    expect(lb.server.requests.at(-1)!.headers.authorization).toBeUndefined();
    expect(olena.cost).toBe(0);
    // @agent.model picks another alias for the same persona
    ok(await agenceAsync(sb, dir, ['@ralph.gpt-4o-mini', 'hi there', '--json'], lb.env));
    expect(lb.server.requests.at(-1)!.body.model).toBe('gpt-4o-mini');
  });

  it('speaks OpenAI Chat Completions instead when providers.yaml says openai.api: chat', async () => {
    const file = join(sb.env.XDG_CONFIG_HOME as string, 'agence/providers.yaml');
    writeFileSync(file, 'openai:\n  api: chat\n');
    try {
      lb.server.reply = () => ({ text: 'Over Chat Completions.' });
      const run = ok(await agenceAsync(sb, dir, ['@pilot', 'which protocol?'], lb.env));
      expect(run.stdout).toBe('Over Chat Completions.\n');
      expect(lb.server.requests.at(-1)!.protocol).toBe('openai');
      writeFileSync(file, 'openai:\n  api: completions\n');
      const bad = await agenceAsync(sb, dir, ['@pilot', 'which protocol?'], lb.env);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/providers\.yaml: openai\.api/);
    } finally {
      writeFileSync(file, '');
    }
  });

  it('streams the answer as plain text when not --json', async () => {
    lb.server.reply = () => ({ text: 'A longer answer that arrives in several SSE chunks.' });
    const run = ok(await agenceAsync(sb, dir, ['say something'], lb.env));
    expect(run.stdout).toBe('A longer answer that arrives in several SSE chunks.\n');
  });

  it('sends secret context only to a local provider, naming the items otherwise (exit 2)', async () => {
    // the person writing it is cleared for secret on their own machine
    writeFileSync(join(sb.env.XDG_CONFIG_HOME as string, 'agence/knowledge.json'), '{"clearance": "secret"}');
    // ^learn keeps secret items out of synthetic/; one that got there by hand is still guarded.
    expect(agence(sb, dir, ['^learn', 'The staging database password rotation uses vault path kv/staging/db', '--label', 'secret']).code).toBe(2);
    const learned = json<{ item: { id: string }; path: string }>(ok(agence(sb, dir, ['^learn', 'The staging database password rotation uses vault path kv/staging/db', '--title', 'staging database vault', '--json'])));
    const secret = learned.item.id;
    const file = join(dir, learned.path);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^label: internal$/m, 'label: secret'));
    ok(agence(sb, dir, ['^reindex']));
    const before = lb.server.requests.length;
    const refused = await failsCleanly(dir, ['@olena.sonnet', 'where is the staging database password?'], {});
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(secret);
    expect(refused.stderr).toMatch(/labelled secret or above.*not a local provider/);
    expect(lb.server.requests.length).toBe(before);
    expect(calls(dir).at(-1)).toMatchObject({ outcome: 'refused', agent: 'olena' });
    // olena on its own local model gets it
    lb.server.reply = () => ({ text: 'kv/staging/db' });
    const local = json<Answer>(ok(await agenceAsync(sb, dir, ['@olena', 'where is the staging database password?', '--json'], lb.env)));
    expect(local.items.map((i) => i.id)).toContain(secret);
    // olena's answer came from the secret item: in the same conversation it goes to no remote model
    const carried = await failsCleanly(dir, ['where is the staging database password?'], {});
    expect(carried.code).toBe(2);
    expect(carried.stderr).toContain(secret);
    // a fresh conversation with sonya (clearance internal) never sees it, so her call is not refused
    ok(await agenceAsync(sb, dir, ['where is the staging database password?', '--new', '--json'], lb.env));
    expect(JSON.stringify(promptOf(lb.server.requests.at(-1)!))).not.toContain('kv/staging/db');
  });
});

describe('chat: bad input and failing providers', () => {
  const dir = shard('chatbad');

  it('with no provider configured, says exactly what to set (exit 1)', async () => {
    const run = await agenceAsync(sb, dir, ['hi there'], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no Anthropic API key is configured: set ANTHROPIC_API_KEY \(export ANTHROPIC_API_KEY=\.\.\.\), or anthropic\.api_key in .*providers\.yaml/);
    const pilot = await agenceAsync(sb, dir, ['@pilot', 'hi there'], {});
    expect(pilot.stderr).toMatch(/set OPENAI_API_KEY/);
    const olena = await agenceAsync(sb, dir, ['@olena', 'hi there'], { OLLAMA_HOST: 'http://127.0.0.1:9' });
    expect(olena.code).toBe(1);
    expect(olena.stderr).toMatch(/no Ollama server answers at http:\/\/127\.0\.0\.1:9: start it/);
  });

  it('reads keys and endpoints from ~/.config/agence/providers.yaml, and rejects keys in URLs', async () => {
    const file = join(sb.env.XDG_CONFIG_HOME as string, 'agence/providers.yaml');
    writeFileSync(file, `anthropic:\n  api_key: sk-from-file\n  base_url: ${lb.server.url}/v1\n`);
    try {
      lb.server.reply = () => ({ text: 'from the file' });
      ok(await agenceAsync(sb, dir, ['hi there'], {}));
      expect(lb.server.requests.at(-1)!.headers['x-api-key']).toBe('sk-from-file');
      writeFileSync(file, `anthropic:\n  api_key: sk-from-file\n  base_url: http://user:sk-secret@127.0.0.1:1/v1\n`);
      const run = await agenceAsync(sb, dir, ['hi there'], {});
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/carries credentials/);
      expect(run.stderr).not.toContain('sk-secret');
      writeFileSync(file, 'anthropic:\n  api_kye: typo\n');
      expect((await agenceAsync(sb, dir, ['hi there'], {})).stderr).toMatch(/providers\.yaml: anthropic/);
    } finally {
      writeFileSync(file, '');
    }
  });

  it('provider down: cannot reach, logged as an error, nothing written to the session', async () => {
    const run = await failsCleanly(dir, ['hi there'], { ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/v1', AGENCE_LLM_RETRIES: '1' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot reach anthropic at http:\/\/127\.0\.0\.1:9\/v1/);
    expect(calls(dir).at(-1)).toMatchObject({ outcome: 'error' });
  });

  it('429 with retry-after is retried after the wait the provider asked for', async () => {
    const start = lb.server.requests.length;
    lb.server.reply = (_req, n) => (n === start + 1 ? { status: 429, headers: { 'retry-after': '1' } } : { text: 'after the wait' });
    const t0 = Date.now();
    const run = ok(await agenceAsync(sb, dir, ['hi there', '--json'], lb.env));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(lb.server.requests.length - start).toBe(2);
    expect(json<Answer>(run).answer).toBe('after the wait');
  });

  it('500 on every try: retried with backoff, then one clear line; nothing half-written', async () => {
    const start = lb.server.requests.length;
    lb.server.reply = () => ({ status: 500, headers: { 'retry-after-ms': '20' } });
    const run = await failsCleanly(dir, ['hi there'], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/anthropic at .* failed \(500: .*\).*gave up after retrying/);
    expect(lb.server.requests.length - start).toBe(4); // 1 + 3 retries
  });

  it('a refused key is named as such, and the key never reaches stderr or the call log', async () => {
    lb.server.reply = () => ({ status: 401, body: { type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key ${lb.env.ANTHROPIC_API_KEY}` } } });
    const run = await failsCleanly(dir, ['hi there'], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/anthropic at .* refused the API key \(401: invalid x-api-key \[key\]\)/);
    const log = readFileSync(join(dir, '.agence/nexus/logs/llm-calls.jsonl'), 'utf8');
    for (const text of [run.stderr, run.stdout, log]) expect(text).not.toContain(lb.env.ANTHROPIC_API_KEY as string);
  });

  it('a provider that never answers times out', async () => {
    lb.server.reply = () => ({ hang: true });
    const run = await failsCleanly(dir, ['hi there'], { AGENCE_LLM_TIMEOUT: '1' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/did not answer within 1 s/);
  });

  it('a malformed stream is reported as such', async () => {
    lb.server.reply = () => ({ malformed: true });
    const run = await failsCleanly(dir, ['hi there'], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/malformed response/);
  });

  it('unknown @agent and unknown model alias: clear errors, no call', async () => {
    const before = lb.server.requests.length;
    const agent = await agenceAsync(sb, dir, ['@sonia', 'hi there'], lb.env);
    expect(agent.code).toBe(1);
    expect(agent.stderr).toMatch(/no agent @sonia.*did you mean @sonya/);
    const alias = await agenceAsync(sb, dir, ['@sonya.sonet', 'hi there'], lb.env);
    expect(alias.code).toBe(1);
    expect(alias.stderr).toMatch(/unknown model alias "sonet" \(@sonya\.sonet\).*did you mean sonnet/);
    expect(lb.server.requests.length).toBe(before);
  });

  it('a prompt larger than the model window is refused before any call', async () => {
    const models = join(dir, '.agence/codex/models.yaml');
    writeFileSync(models, `${readFileSync(models, 'utf8')}  tiny: { provider: anthropic, id: tiny-1, context_window: 4000 }\n`);
    const before = lb.server.requests.length;
    const run = await failsCleanly(dir, ['@sonya.tiny', 'x'.repeat(20000)], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the prompt is about \d+ tokens; tiny with @sonya takes 3000/);
    expect(lb.server.requests.length).toBe(before);
  });

  it('an empty question is a usage error', async () => {
    const run = await agenceAsync(sb, dir, ['ask'], lb.env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the question is empty/);
  });
});
