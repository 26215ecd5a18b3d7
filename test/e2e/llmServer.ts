import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect } from 'vitest';
import { CLI, type Run, type Sandbox, sandbox } from './helpers.js';

/**
 * A loopback model server (127.0.0.1, a free port) that speaks the providers' real wire protocols:
 * Anthropic Messages (`POST .../v1/messages`), OpenAI Responses (`POST .../v1/responses`) and
 * OpenAI Chat Completions (`POST .../v1/chat/completions`, also what Ollama and other compatible
 * servers speak), each as JSON or as SSE streams with usage and tool calls, plus Ollama's
 * `GET /api/version`. So the real
 * SDK client code runs end to end from the built CLI. Each test scripts the replies.
 */

export interface Recorded {
  protocol: 'anthropic' | 'openai' | 'openai-responses';
  url: string;
  headers: IncomingMessage['headers'];
  /** As sent; for the Responses API, `messages` is its `input` read as role/content messages. */
  body: {
    model: string;
    stream?: boolean;
    system?: string | { type: string; text: string }[];
    messages: { role: string; content: unknown }[];
    tools?: unknown[];
    temperature?: number;
  };
}

export type Reply =
  | { text: string; delay?: number; /** Stream the first piece, wait this long, then the rest. */ pauseMs?: number }
  | { tools: { name: string; input: unknown }[]; text?: string }
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { hang: true }
  | { malformed: true };

export interface ModelServer {
  url: string;
  requests: Recorded[];
  /** Decide each reply; by default answers "ok". */
  reply: (req: Recorded, n: number) => Reply;
  close: () => Promise<void>;
}

const tokens = (value: unknown) => Math.max(1, Math.ceil(JSON.stringify(value).length / 4));

function systemText(body: Recorded['body']): string {
  if (typeof body.system === 'string') return body.system;
  if (Array.isArray(body.system)) return body.system.map((s) => s.text).join('\n');
  const first = body.messages[0];
  return first?.role === 'system' ? String(first.content) : '';
}

export function promptOf(req: Recorded): { system: string; last: string } {
  const last = req.body.messages[req.body.messages.length - 1];
  const content = last?.content;
  const text = typeof content === 'string' ? content : Array.isArray(content) ? (content as { text?: string; content?: unknown }[]).map((c) => c.text ?? JSON.stringify(c.content ?? c)).join('') : '';
  return { system: systemText(req.body), last: text };
}

function sse(res: ServerResponse, events: [string | null, unknown][], pauseMs = 0): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const line = ([event, data]: [string | null, unknown]) => `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
  // With a pause: everything up to the first piece of text, then the rest later.
  const cut = pauseMs > 0 ? events.findIndex(([, d]) => /text_delta|output_text\.delta/.test(JSON.stringify(d)) || JSON.stringify(d).includes('"content":"') && !JSON.stringify(d).includes('"content":""')) + 1 : events.length;
  for (const e of events.slice(0, cut)) res.write(line(e));
  const rest = () => {
    for (const e of events.slice(cut)) res.write(line(e));
    res.end();
  };
  if (cut < events.length) setTimeout(rest, pauseMs);
  else rest();
}

function anthropic(req: Recorded, reply: { text?: string; tools?: { name: string; input: unknown }[]; pauseMs?: number }, res: ServerResponse): void {
  const input = tokens(req.body);
  const text = reply.text ?? '';
  const tools = reply.tools ?? [];
  const output = tokens(text) + tools.length * 10;
  const stop = tools.length > 0 ? 'tool_use' : 'end_turn';
  const toolBlocks = tools.map((t, i) => ({ type: 'tool_use', id: `toolu_${i}_${Date.now()}`, name: t.name, input: t.input }));
  if (!req.body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: req.body.model, content: [...(text ? [{ type: 'text', text }] : []), ...toolBlocks], stop_reason: stop, stop_sequence: null, usage: { input_tokens: input, output_tokens: output } }));
    return;
  }
  const events: [string, unknown][] = [['message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: req.body.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: input, output_tokens: 1 } } }]];
  let index = 0;
  if (text) {
    events.push(['content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }]);
    for (const piece of text.match(/.{1,8}/gs) ?? []) events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } }]);
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
    index++;
  }
  for (const block of toolBlocks) {
    events.push(['content_block_start', { type: 'content_block_start', index, content_block: { ...block, input: {} } }]);
    events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } }]);
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
    index++;
  }
  events.push(['message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: output } }]);
  events.push(['message_stop', { type: 'message_stop' }]);
  sse(res, events, reply.pauseMs);
}

function openai(req: Recorded, reply: { text?: string; tools?: { name: string; input: unknown }[] }, res: ServerResponse): void {
  const usage = { prompt_tokens: tokens(req.body), completion_tokens: tokens(reply.text ?? '') + (reply.tools?.length ?? 0) * 10 };
  const toolCalls = (reply.tools ?? []).map((t, i) => ({ index: i, id: `call_${i}_${Date.now()}`, type: 'function', function: { name: t.name, arguments: JSON.stringify(t.input) } }));
  const finish = toolCalls.length > 0 ? 'tool_calls' : 'stop';
  const base = { id: 'chatcmpl-1', created: 1_700_000_000, model: req.body.model };
  if (!req.body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    const message = { role: 'assistant', content: reply.text ?? null, ...(toolCalls.length > 0 ? { tool_calls: toolCalls.map(({ index: _i, ...c }) => c) } : {}) };
    res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message, finish_reason: finish }], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } }));
    return;
  }
  const chunk = (delta: unknown, finish_reason: string | null = null) => [null, { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason }] }] as [null, unknown];
  const events: [null, unknown][] = [chunk({ role: 'assistant', content: '' })];
  for (const piece of (reply.text ?? '').match(/.{1,8}/gs) ?? []) events.push(chunk({ content: piece }));
  if (toolCalls.length > 0) events.push(chunk({ tool_calls: toolCalls }));
  events.push(chunk({}, finish));
  events.push([null, { ...base, object: 'chat.completion.chunk', choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } }]);
  events.push([null, '[DONE]']);
  sse(res, events);
}

/** The Responses API's `input` items as the role/content messages the tests read. */
function responsesMessages(input: unknown): Recorded['body']['messages'] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  return ((input ?? []) as Record<string, unknown>[]).map((item) => {
    if (item.type === 'function_call') return { role: 'assistant', content: [{ type: 'tool_call', name: item.name, content: item.arguments }] };
    if (item.type === 'function_call_output') return { role: 'tool', content: [{ content: item.output }] };
    const content = item.content;
    return { role: String(item.role), content: Array.isArray(content) ? content.map((c: { text?: string }) => ({ text: c.text })) : content };
  });
}

function openaiResponses(req: Recorded, reply: { text?: string; tools?: { name: string; input: unknown }[]; pauseMs?: number }, res: ServerResponse): void {
  const usage = { input_tokens: tokens(req.body), output_tokens: tokens(reply.text ?? '') + (reply.tools?.length ?? 0) * 10, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } };
  const stamp = Date.now();
  const message = reply.text ? [{ type: 'message', id: `msg_${stamp}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: reply.text, annotations: [] }] }] : [];
  const calls = (reply.tools ?? []).map((t, i) => ({ type: 'function_call', id: `fc_${i}_${stamp}`, call_id: `call_${i}_${stamp}`, name: t.name, arguments: JSON.stringify(t.input), status: 'completed' }));
  const output = [...message, ...calls];
  const response = { id: `resp_${stamp}`, object: 'response', created_at: 1_700_000_000, model: req.body.model, status: 'completed', incomplete_details: null, output, usage };
  if (!req.body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(response));
    return;
  }
  let seq = 0;
  const event = (type: string, data: Record<string, unknown>): [string, unknown] => [type, { type, sequence_number: seq++, ...data }];
  const events: [string, unknown][] = [event('response.created', { response: { ...response, status: 'in_progress', output: [], usage: null } })];
  output.forEach((item, output_index) => {
    if (item.type === 'message') {
      events.push(event('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } }));
      for (const delta of (reply.text ?? '').match(/.{1,8}/gs) ?? []) events.push(event('response.output_text.delta', { item_id: item.id, output_index, content_index: 0, delta }));
    } else {
      events.push(event('response.output_item.added', { output_index, item: { ...item, arguments: '', status: 'in_progress' } }));
      events.push(event('response.function_call_arguments.delta', { item_id: item.id, output_index, delta: (item as { arguments: string }).arguments }));
      events.push(event('response.function_call_arguments.done', { item_id: item.id, output_index, arguments: (item as { arguments: string }).arguments }));
    }
    events.push(event('response.output_item.done', { output_index, item }));
  });
  events.push(event('response.completed', { response }));
  sse(res, events, reply.pauseMs);
}

export async function startModelServer(): Promise<ModelServer> {
  const open = new Set<ServerResponse>();
  const state: ModelServer = {
    url: '',
    requests: [],
    reply: () => ({ text: 'ok' }),
    close: () =>
      new Promise((resolve) => {
        for (const res of open) res.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    if (req.method === 'GET' && req.url?.endsWith('/api/version')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"version":"0.5.0"}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const protocol = path.endsWith('/messages') ? 'anthropic' : path.endsWith('/chat/completions') ? 'openai' : path.endsWith('/responses') ? 'openai-responses' : null;
      if (!protocol) {
        res.writeHead(404).end('{"error":"not found"}');
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (protocol === 'openai-responses') body.messages = responsesMessages(body.input);
      const recorded: Recorded = { protocol, url: path, headers: req.headers, body };
      state.requests.push(recorded);
      const reply = state.reply(recorded, state.requests.length);
      if ('hang' in reply) return; // never answers: the client's timeout must fire
      if ('status' in reply) {
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(JSON.stringify(reply.body ?? (protocol === 'anthropic' ? { type: 'error', error: { type: 'api_error', message: `status ${reply.status}` } } : { error: { message: `status ${reply.status}`, type: 'server_error' } })));
        return;
      }
      if ('malformed' in reply) {
        res.writeHead(200, { 'content-type': recorded.body.stream ? 'text/event-stream' : 'application/json' });
        res.end(recorded.body.stream ? 'event: message_start\ndata: {"type":"message_start","message":{not json\n\n' : '{"id": "x", "choices": [');
        return;
      }
      const send = () => ({ anthropic, openai, 'openai-responses': openaiResponses })[protocol](recorded, reply, res);
      if ('delay' in reply && reply.delay) setTimeout(send, reply.delay);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

/** The environment that points every provider at the loopback server (dummy keys: it checks none). */
export function providerEnv(server: ModelServer): NodeJS.ProcessEnv {
  return {
    ANTHROPIC_API_KEY: 'sk-ant-test-key-never-logged',
    ANTHROPIC_BASE_URL: `${server.url}/v1`,
    OPENAI_API_KEY: 'sk-openai-test-key-never-logged',
    OPENAI_BASE_URL: `${server.url}/v1`,
    OLLAMA_HOST: server.url,
  };
}

/** Spawn the built CLI without blocking the event loop (the server runs in this process). */
export function agenceAsync(sb: Sandbox, cwd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}, stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...sb.env, ...extraEnv }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.stdin.end(stdin ?? '');
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** One test file's sandbox and loopback model server (started before its tests, closed after). */
export interface Loopback {
  sb: Sandbox;
  server: ModelServer;
  /** Every provider pointed at the server. */
  env: NodeJS.ProcessEnv;
}

export function loopback(): Loopback {
  const state = { sb: sandbox() } as Loopback;
  beforeAll(async () => {
    state.server = await startModelServer();
    state.env = providerEnv(state.server);
  });
  afterAll(() => state.server.close());
  return state;
}

export const ok = (run: Run): Run => {
  expect(run.code, `${run.stderr}\n${run.stdout}`).toBe(0);
  return run;
};
