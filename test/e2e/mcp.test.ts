import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { afterAll, describe, expect, it } from 'vitest';
import { agence, CLI, git, json, repo, sandbox } from './helpers.js';

// The official SDK's client drives the built CLI, over stdio and over HTTP.

const sb = sandbox();
const shard = repo(sb, 'proj');
const AGENT = { AGENCE_AGENT: 'sonya' };
const clients: Client[] = [];
afterAll(async () => {
  for (const c of clients) await c.close();
});

async function stdioClient(extraEnv: NodeJS.ProcessEnv = AGENT): Promise<Client> {
  const client = new Client({ name: 'e2e', version: '1' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, '^mcp'], cwd: shard, env: { ...sb.env, ...extraEnv } as Record<string, string>, stderr: 'pipe' }));
  clients.push(client);
  return client;
}

interface Text {
  content: { type: string; text: string }[];
  isError?: boolean;
}
async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<{ text: string; isError: boolean }> {
  const result = (await client.callTool({ name, arguments: args })) as Text;
  return { text: result.content.map((c) => c.text).join(''), isError: result.isError === true };
}
const parsed = <T = Record<string, unknown>>(r: { text: string; isError: boolean }): T => {
  expect(r.isError, r.text).toBe(false);
  return JSON.parse(r.text) as T;
};

/** `^mcp` spawned by hand, for what a well-behaved client never sends. */
function rawServer(args: string[] = ['^mcp']): { child: ChildProcessWithoutNullStreams; lines: () => Record<string, unknown>[]; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: shard, env: { ...sb.env, ...AGENT } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, lines: () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l)), stderr: () => err, exited };
}
const INITIALIZE = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
const INITIALIZED = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });
const toolCall = (id: number, name: string, args: Record<string, unknown>) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

async function until<T>(what: string, fn: () => T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = fn();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('agence ^mcp over stdio', () => {
  it('sets up a shard with an exchange remote', () => {
    expect(agence(sb, shard, ['^init', '--org', 'acme']).code).toBe(0);
    git(sb, sb.dir, ['init', '-q', '--bare', 'exchange.git']);
    git(sb, shard, ['remote', 'add', 'origin', join(sb.dir, 'exchange.git')]);
  });

  it('refuses what does not apply to a server: --json, @agent, --port without --http, a bad port', () => {
    const cases: [string[], string][] = [
      [['^mcp', '--json'], '^mcp takes no --json: standard output is the MCP protocol stream'],
      [['@ralph', '^mcp'], '@ralph does not apply to ^mcp: start the server with AGENCE_AGENT=ralph in its environment'],
      [['^mcp', '--port', '80'], '--port is for --http'],
      [['^mcp', '--http', '--port', '70000'], '--port "70000" is not a port from 0 to 65535'],
    ];
    for (const [args, message] of cases) {
      const run = agence(sb, shard, args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr).toContain(message);
    }
    expect(agence(sb, sb.dir, ['^mcp']).stderr).toContain('is not inside a git repository');
  });

  it('serves the shard named by --dir when started elsewhere (as an editor may start it)', async () => {
    const client = new Client({ name: 'e2e', version: '1' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'shared', 'mcp', '--dir', shard], cwd: sb.dir, env: { ...sb.env, ...AGENT } as Record<string, string>, stderr: 'pipe' }));
    clients.push(client);
    const learned = parsed<{ path: string }>(await call(client, 'learn', { text: 'Served from --dir\nThe server was started outside the repository.' }));
    expect(existsSync(join(shard, learned.path))).toBe(true);
    const bad = agence(sb, sb.dir, ['^mcp', '--dir', join(sb.dir, 'nowhere')]);
    expect(bad.code).toBe(1);
  });

  it('lists nine tools in well under 2,500 cl100k tokens', async () => {
    const client = await stdioClient();
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['context', 'guard_check', 'handoff', 'learn', 'ledger_verify', 'recall', 'session_resume', 'session_save', 'sessions']);
    const tokens = encode(JSON.stringify({ tools })).length;
    expect(tokens).toBeLessThan(2500);
  });

  it('calls every tool, as the actor AGENCE_AGENT names', async () => {
    const client = await stdioClient();
    const learned = parsed<{ id: string; path: string }>(await call(client, 'learn', { text: 'Retry DNS lookups under load\nThe resolver drops queries past 200 per second.', tags: ['dns'] }));
    expect(readFileSync(join(shard, learned.path), 'utf8')).toContain('author: sonya');
    const recalled = parsed<{ hits: { id: string; snippet: string }[] }>(await call(client, 'recall', { query: 'resolver queries' }));
    expect(recalled.hits[0]?.id).toBe(learned.id);
    expect(recalled.hits[0]?.snippet).toContain('**');

    const saved = parsed<{ session_id: string; created: boolean }>(await call(client, 'session_save', { note: 'DNS retries half done', task: 'Harden the resolver', todos: ['add retry'] }));
    expect(saved.created).toBe(true);
    const listed = parsed<{ sessions: { id: string; agent: string }[] }>(await call(client, 'sessions'));
    expect(listed.sessions).toEqual([expect.objectContaining({ id: saved.session_id, agent: 'sonya' })]);
    const brief = await call(client, 'session_resume', { id: saved.session_id });
    expect(brief.isError, brief.text).toBe(false);
    expect(brief.text).toContain('task:  Harden the resolver');

    const context = await call(client, 'context', { task: 'dns resolver' });
    expect(context.isError, context.text).toBe(false);
    expect(context.text).toMatch(/laws/i);
    expect(context.text).toContain('Harden the resolver');

    expect(parsed<{ tier: string }>(await call(client, 'guard_check', { command: 'git status' })).tier).toMatch(/^T[01]$/);
    expect(parsed<{ ok: boolean; entries: number }>(await call(client, 'ledger_verify'))).toMatchObject({ ok: true });

    const held = await call(client, 'handoff', { agent: 'ralph', note: 'not this shard', to_shard: 'elsewhere' });
    expect(held).toMatchObject({ isError: true, text: expect.stringMatching(/^not pushed: a cross-shard handoff by an agent needs a person's approval: agence \^approve [0-9a-f]{8}-[0-9a-f]{12}$/) });
    const handed = parsed<{ pushed: boolean; bundle_id: string }>(await call(client, 'handoff', { agent: 'ralph', note: 'take the resolver', to_shard: 'proj' }));
    expect(handed.pushed).toBe(true);
    expect(git(sb, join(sb.dir, 'exchange.git'), ['cat-file', '-p', `refs/agence/handoffs/${handed.bundle_id}:bundle.json`])).toContain('take the resolver');
  });

  it('refuses a label above the clearance and a T3/T4 command as tool errors, not protocol errors', async () => {
    const client = await stdioClient();
    const secret = await call(client, 'learn', { text: 'the staging root password rotates monthly', label: 'secret', private: true });
    expect(secret).toMatchObject({ isError: true });
    expect(secret.text).toMatch(/^refused: --label secret is above the clearance of the actor \(internal\)/);
    const blocked = await call(client, 'guard_check', { command: 'chmod -R 777 /' });
    expect(blocked.isError).toBe(true);
    expect(blocked.text).toMatch(/^refused: T3 blocked: T3 \[chmod-recursive-world\] /);
    const never = await call(client, 'guard_check', { command: 'rm -rf /' });
    expect(never.isError).toBe(true);
    expect(never.text).toContain('refused: T4 never');
    // The connection is still good after the refusals.
    expect(parsed<{ tier: string }>(await call(client, 'guard_check', { command: 'ls' })).tier).toBe('T0');
  });

  it('serves the effective codex files and the active session as resources', async () => {
    const client = await stdioClient();
    const { resources } = await client.listResources();
    const uris = resources.map((r) => r.uri);
    expect(uris).toContain('agence://codex/LAWS.md');
    expect(uris).toContain('agence://session/active');
    const laws = await client.readResource({ uri: 'agence://codex/LAWS.md' });
    expect((laws.contents[0] as { text: string }).text).toBe(json<{ content: string }>(agence(sb, shard, ['^codex', 'LAWS.md', '--json'])).content);
    await call(client, 'session_save', { note: 'resource check', new: true });
    const session = await client.readResource({ uri: 'agence://session/active' });
    expect((session.contents[0] as { text: string }).text).toContain('resource check');
    await expect(client.readResource({ uri: 'agence://codex/../../agence.json' })).rejects.toThrow(/MCP error -32602/);
    await expect(client.readResource({ uri: 'agence://codex/LAWZ.md' })).rejects.toThrow(/codex has no LAWZ.md: did you mean LAWS.md\?/);
    await expect(client.readResource({ uri: 'agence://codex/%E0%A4%A' })).rejects.toThrow(/is not a well-formed resource URI/);
  });

  it('pages recall with a cursor and bounds every answer', async () => {
    const client = await stdioClient();
    for (const n of [1, 2, 3]) parsed(await call(client, 'learn', { text: `Paging lesson number ${n} about zebra crossings` }));
    const first = parsed<{ hits: { id: string }[]; next_cursor: string }>(await call(client, 'recall', { query: 'zebra crossings', limit: 2 }));
    expect(first.hits).toHaveLength(2);
    const second = parsed<{ hits: { id: string }[]; next_cursor?: string }>(await call(client, 'recall', { query: 'zebra crossings', limit: 2, cursor: first.next_cursor }));
    expect(second.hits).toHaveLength(1);
    expect(second.next_cursor).toBeUndefined();
    expect(new Set([...first.hits, ...second.hits].map((h) => h.id)).size).toBe(3);
    const forged = await call(client, 'recall', { query: 'zebra', cursor: 'not-a-cursor' });
    expect(forged.isError).toBe(true);
    expect(forged.text).toContain('is not one this server gave');
    // A big lesson comes back cut at the cap, with a note.
    parsed(await call(client, 'learn', { text: `Quokka notes\n${'quokka habitat detail. '.repeat(2000)}` }));
    const context = await call(client, 'context', { task: 'quokka', budget: 8000 });
    expect(Buffer.byteLength(context.text)).toBeLessThanOrEqual(32 * 1024);
  });

  it('cuts a session brief and the session resource at 32 KiB, saying so, and pages sessions to the end', async () => {
    const client = await stdioClient();
    const saved = parsed<{ session_id: string }>(await call(client, 'session_save', { note: `first long note ${'a'.repeat(40_000)}`, new: true }));
    parsed(await call(client, 'session_save', { note: `second long note ${'b'.repeat(40_000)}` }));
    const brief = await call(client, 'session_resume', { id: saved.session_id });
    expect(brief.isError, brief.text.slice(0, 200)).toBe(false);
    expect(Buffer.byteLength(brief.text)).toBeLessThanOrEqual(32 * 1024);
    expect(brief.text).toMatch(/\n\[truncated: \d+ bytes, the first 32768 shown\]$/);
    const resource = ((await client.readResource({ uri: 'agence://session/active' })).contents[0] as { text: string }).text;
    expect(Buffer.byteLength(resource)).toBeLessThanOrEqual(32 * 1024);
    expect(resource).toMatch(/\[truncated: \d+ bytes, the first 32768 shown\]$/);

    const all = json<{ sessions: { id: string }[] }>(agence(sb, shard, ['^sessions', '--json', '--limit', '100'])).sessions.map((s) => s.id);
    expect(all.length).toBeGreaterThan(2);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = parsed<{ sessions: { id: string }[]; next_cursor?: string }>(await call(client, 'sessions', { limit: 2, ...(cursor ? { cursor } : {}) }));
      expect(page.sessions.length).toBeLessThanOrEqual(2);
      seen.push(...page.sessions.map((s) => s.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all);
  });

  it('answers bad input with one-line errors: unknown tools, bad and oversized arguments', async () => {
    const client = await stdioClient();
    await expect(client.callTool({ name: 'frobnicate', arguments: {} })).rejects.toThrow(/unknown tool "frobnicate": the tools are recall, learn/);
    const bad = await call(client, 'recall', { query: 'x', limit: 0 });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/^recall: limit: /);
    const extra = await call(client, 'sessions', { colour: 'blue' });
    expect(extra.isError).toBe(true);
    const big = await call(client, 'learn', { text: 'x'.repeat(70_000) });
    expect(big.isError).toBe(true);
    expect(big.text).toMatch(/^learn: the arguments are 70\d{3} bytes, more than the 65536 a call may carry/);
    const long = await call(client, 'session_save', { note: 'n'.repeat(60_001) });
    expect(long.text).toMatch(/^session_save: note: Too big/);
    const dash = await call(client, 'session_save', { note: '-' });
    expect(dash.text).toContain('note "-" means standard input');
  });

  it('answers malformed JSON-RPC with parse and invalid-request errors and keeps serving', async () => {
    const server = rawServer();
    server.child.stdin.write(`this is not json\n{"hello":"world"}\n${INITIALIZE}\n`);
    const lines = await until('three answers', () => (server.lines().length >= 3 ? server.lines() : undefined));
    expect(lines[0]).toMatchObject({ id: null, error: { code: -32700 } });
    expect(lines[1]).toMatchObject({ id: null, error: { code: -32600 } });
    expect(lines[2]).toMatchObject({ id: 1, result: { serverInfo: { name: 'agence' } } });
    server.child.stdin.end();
    expect(await server.exited).toBe(0);
    expect(server.stderr()).toContain('ignored a message from the client: Parse error');
  });

  it('keeps stdout for the protocol: notices of the commands go to stderr', async () => {
    const broken = join(shard, '.agence/synthetic/lessons/broken.md');
    writeFileSync(broken, '---\nid: [unclosed\n---\nnot an item\n');
    try {
      const server = rawServer();
      server.child.stdin.write(`${INITIALIZE}\n${INITIALIZED}\n${toolCall(2, 'recall', { query: 'resolver' })}\n`);
      await until('the recall answer', () => (server.lines().some((l) => l.id === 2) ? true : undefined));
      server.child.stdin.end();
      expect(await server.exited).toBe(0);
      // Every line of stdout is a JSON-RPC message (lines() parses each), the notice is on stderr.
      expect(server.lines().every((l) => l.jsonrpc === '2.0')).toBe(true);
      expect(server.stderr()).toContain('broken.md');
    } finally {
      rmSync(broken);
    }
  });

  it('closes the connection on a message over 1 MiB, saying why, and exits 0', async () => {
    const server = rawServer();
    server.child.stdin.write(`${INITIALIZE}\n`);
    await until('initialize', () => (server.lines().length >= 1 ? true : undefined));
    server.child.stdin.write(toolCall(2, 'learn', { text: 'z'.repeat(1_100_000) }));
    expect(await server.exited).toBe(0);
    expect(server.stderr()).toContain('a message from the client is over 1048576 bytes: the connection is closed');
    expect(server.lines()).toHaveLength(1);
  });

  it('finishes the calls in flight when the client disconnects mid-call, then exits 0', async () => {
    const server = rawServer();
    server.child.stdin.write(`${INITIALIZE}\n${INITIALIZED}\n`);
    await until('initialize', () => (server.lines().length >= 1 ? true : undefined));
    server.child.stdin.end(`${toolCall(2, 'learn', { text: 'Walrus lesson written while the client left' })}\n${toolCall(3, 'session_save', { note: 'walrus note', new: true })}\n`);
    expect(await server.exited).toBe(0);
    const recalled = json<{ hits: { title: string }[] }>(agence(sb, shard, ['^recall', 'walrus', '--json']));
    expect(recalled.hits.map((h) => h.title)).toEqual(['Walrus lesson written while the client left']);
    const sessions = json<{ sessions: { id: string }[] }>(agence(sb, shard, ['^sessions', '--json', '--limit', '100']));
    const notes = sessions.sessions.map((s) => json<{ notes: { text: string }[] }>(agence(sb, shard, ['^session', 'show', s.id, '--json'])).notes.map((n) => n.text));
    expect(notes.flat()).toContain('walrus note');
    expect(agence(sb, shard, ['^doctor']).code).toBe(0);
  });

  it('loses nothing when two servers learn and save into the same shard at once', async () => {
    const started = json<{ session: { session_id: string } }>(agence(sb, shard, ['^save', 'concurrency base', '--new', '--json'], AGENT));
    const [a, b] = await Promise.all([stdioClient(), stdioClient({ AGENCE_AGENT: 'ralph' })]);
    const before = readdirSync(join(shard, '.agence/synthetic/lessons')).length;
    const work = (client: Client, who: string) =>
      Array.from({ length: 8 }, (_, n) => [call(client, 'learn', { text: `Concurrent lesson ${who} ${n} about otters` }), call(client, 'session_save', { note: `${who} note ${n}` })]).flat();
    const results = await Promise.all([...work(a, 'a'), ...work(b, 'b')]);
    for (const r of results) expect(r.isError, r.text).toBe(false);
    expect(readdirSync(join(shard, '.agence/synthetic/lessons')).length).toBe(before + 16);
    const recalled = json<{ hits: unknown[] }>(agence(sb, shard, ['^recall', 'otters', '--limit', '100', '--json']));
    expect(recalled.hits).toHaveLength(16);
    const session = json<{ notes: { text: string }[] }>(agence(sb, shard, ['^session', 'show', started.session.session_id, '--json']));
    const texts = session.notes.map((n) => n.text);
    for (const who of ['a', 'b']) for (let n = 0; n < 8; n++) expect(texts).toContain(`${who} note ${n}`);
  });
});

describe('agence ^mcp --http', () => {
  let url = '';
  let token = '';
  let server: ReturnType<typeof rawServer>;

  async function httpClient(bearer: string): Promise<Client> {
    const client = new Client({ name: 'e2e-http', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${bearer}` } } }));
    clients.push(client);
    return client;
  }

  function post(body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('binds 127.0.0.1, makes a 0600 token in hermetic/ and never prints it', async () => {
    server = rawServer(['^mcp', '--http', '--port', '0']);
    url = await until('the address', () => /MCP server on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(server.stderr())?.[1]);
    const file = join(shard, '.agence/hermetic/mcp-token');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    token = readFileSync(file, 'utf8').trim();
    expect(server.stderr()).toContain(file);
    expect(server.stderr()).not.toContain(token);
    expect(git(sb, shard, ['status', '--porcelain', '--ignored', '.agence/hermetic'])).toMatch(/^!! /m);
  });

  it('answers on 127.0.0.1 only: another loopback address of the machine is refused', async () => {
    const { port } = new URL(url);
    const reached = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.2', port: Number(port) });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    // A server bound to 0.0.0.0 (or to all of 127/8) would take this connection.
    expect(reached).toBe('ECONNREFUSED');
  });

  it('lists the nine tools in under 2,500 cl100k tokens and calls every one, as the actor AGENCE_AGENT names', async () => {
    const client = await httpClient(token);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['context', 'guard_check', 'handoff', 'learn', 'ledger_verify', 'recall', 'session_resume', 'session_save', 'sessions']);
    expect(encode(JSON.stringify({ tools })).length).toBeLessThan(2500);

    const learned = parsed<{ id: string; path: string }>(await call(client, 'learn', { text: 'Lesson learned over HTTP about herons', tags: ['birds'] }));
    expect(readFileSync(join(shard, learned.path), 'utf8')).toContain('author: sonya');
    expect(parsed<{ hits: { id: string }[] }>(await call(client, 'recall', { query: 'herons' })).hits[0]?.id).toBe(learned.id);
    const saved = parsed<{ session_id: string }>(await call(client, 'session_save', { note: 'heron survey half done', task: 'Count the herons', new: true }));
    const listed = parsed<{ sessions: { id: string; agent: string }[] }>(await call(client, 'sessions', { agent: 'sonya', limit: 50 }));
    expect(listed.sessions).toContainEqual(expect.objectContaining({ id: saved.session_id, agent: 'sonya' }));
    const brief = await call(client, 'session_resume', { id: saved.session_id });
    expect(brief.isError, brief.text).toBe(false);
    expect(brief.text).toContain('task:  Count the herons');
    const context = await call(client, 'context', { task: 'herons' });
    expect(context.isError, context.text).toBe(false);
    expect(context.text).toContain('Count the herons');
    expect(parsed<{ tier: string }>(await call(client, 'guard_check', { command: 'git status' })).tier).toMatch(/^T[01]$/);
    expect(parsed<{ ok: boolean }>(await call(client, 'ledger_verify'))).toMatchObject({ ok: true });
    const handed = parsed<{ pushed: boolean; bundle_id: string }>(await call(client, 'handoff', { agent: 'ralph', note: 'count the rest', to_shard: 'proj' }));
    expect(handed.pushed).toBe(true);
    expect(git(sb, join(sb.dir, 'exchange.git'), ['cat-file', '-p', `refs/agence/handoffs/${handed.bundle_id}:bundle.json`])).toContain('count the rest');
  });

  it('answers a label above the clearance and a T3/T4 command as tool errors', async () => {
    const client = await httpClient(token);
    const secret = await call(client, 'learn', { text: 'the heron feeder code is 4711', label: 'secret', private: true });
    expect(secret).toMatchObject({ isError: true, text: expect.stringMatching(/^refused: --label secret is above the clearance of the actor \(internal\)/) });
    const blocked = await call(client, 'guard_check', { command: 'chmod -R 777 /' });
    expect(blocked).toMatchObject({ isError: true, text: expect.stringMatching(/^refused: T3 blocked: /) });
    expect(await call(client, 'guard_check', { command: 'rm -rf ~' })).toMatchObject({ isError: true, text: expect.stringContaining('refused: T4 never') });
    await expect(client.callTool({ name: 'frobnicate', arguments: {} })).rejects.toThrow(/unknown tool "frobnicate"/);
  });

  it('refuses a wrong or missing bearer token with 401, and other hosts with 403', async () => {
    await expect(httpClient('x'.repeat(43))).rejects.toThrow(/missing or wrong bearer token/);
    const missing = await post(INITIALIZE, {});
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.body).error.message).toContain('missing or wrong bearer token');
    expect(missing.body).not.toContain(token);
    expect((await post(INITIALIZE, { authorization: `Basic ${token}` })).status).toBe(401);
    expect((await post(INITIALIZE, { authorization: `Bearer ${token}`, host: 'evil.example:80' })).status).toBe(403);
  });

  it('refuses an oversized body with 413 and malformed JSON with a parse error', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const huge = await post(toolCall(9, 'learn', { text: 'y'.repeat(1_100_000) }), auth);
    expect(huge.status).toBe(413);
    const garbage = await post('{not json', auth);
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.body).error.code).toBe(-32700);
  });

  it('finishes a call whose client hung up, and keeps serving the others', async () => {
    // The whole request is sent, then the client goes away before the answer comes.
    await new Promise<void>((resolve) => {
      const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' } });
      req.on('error', () => resolve());
      req.on('finish', () => {
        req.destroy();
        resolve();
      });
      req.end(toolCall(5, 'learn', { text: 'Lesson whose client hung up about egrets' }));
    });
    const client = await httpClient(token);
    expect(parsed<{ tier: string }>(await call(client, 'guard_check', { command: 'ls' })).tier).toBe('T0');
    const titles = await until('the lesson of the call whose client left', () => {
      const hits = json<{ hits: { title: string }[] }>(agence(sb, shard, ['^recall', 'egrets', '--json'])).hits;
      return hits.length > 0 ? hits.map((h) => h.title) : undefined;
    });
    expect(titles).toEqual(['Lesson whose client hung up about egrets']);
    expect(agence(sb, shard, ['^doctor']).code).toBe(0);
  });

  it('stops on SIGTERM with exit 0', async () => {
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('refuses to serve with a token file others can read, or one that is not a token, and leaves it as it is', () => {
    const file = join(shard, '.agence/hermetic/mcp-token');
    chmodSync(file, 0o644);
    const open = agence(sb, shard, ['^mcp', '--http', '--port', '0']);
    expect(open.code).toBe(2);
    expect(open.stderr).toContain(`${file} can be read by others (mode 644)`);
    expect(open.stderr).toContain(`chmod 600 ${file}`);
    expect(open.stderr).not.toContain(token);
    chmodSync(file, 0o600);
    writeFileSync(file, 'not a token\n', { mode: 0o600 });
    const damaged = agence(sb, shard, ['^mcp', '--http', '--port', '0']);
    expect(damaged.code).toBe(3);
    expect(damaged.stderr).toContain(`${file} is not an agence MCP token`);
    expect(readFileSync(file, 'utf8')).toBe('not a token\n');
  });
});
