import * as z from '../core/zod.js';
import { makeProgress, makeStyle } from '../cli/output.js';
import { findRoute } from '../cli/routes.js';
import { prepareShard } from '../cli/run.js';
import type { Invocation, Outcome } from '../cli/types.js';
import { AgenceError } from '../core/errors.js';
import { capText, checkArgumentSize, MAX_REQUEST_BYTES } from '../core/mcpBounds.js';
import { currentSessionId } from '../sessions/sessions.js';
import { listLayer } from '../shard/layerFiles.js';
import { requireShard } from '../shard/layout.js';
import { type CommandCall, MCP_TOOLS, toolList } from './mcpTools.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  Server,
  StdioServerTransport,
} from './sdk.js';

/** What every connection of one `agence ^mcp` process shares. */
export interface McpHost {
  cwd: string;
  /** The server's environment: AGENCE_AGENT in it is the actor of every call (DESIGN §5). */
  env: NodeJS.ProcessEnv;
  now: () => Date;
  /** A line on stderr: stdout belongs to the protocol. */
  notify: (message: string) => void;
  version: string;
  calls: CallsInFlight;
}

/** The tool calls still running, so a server that loses its client finishes them before it exits. */
export class CallsInFlight {
  private readonly running = new Set<Promise<unknown>>();

  track<T>(call: Promise<T>): Promise<T> {
    this.running.add(call);
    const forget = () => this.running.delete(call);
    call.then(forget, forget);
    return call;
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}

const CODEX_URI = 'agence://codex/';
const SESSION_URI = 'agence://session/active';

/** Run one command of the routing table as the CLI would (base/ brought in line first), without a terminal. */
async function runCommand(host: McpHost, call: CommandCall): Promise<Outcome> {
  const found = findRoute(call.route[0], call.route[1].split(' '));
  if (!found?.route.load) throw new Error(`the MCP server names a command the routing table does not have: ${call.route.join(' ')}`);
  const progress = makeProgress(false);
  const inv: Invocation = {
    args: call.args,
    opts: call.opts,
    json: true,
    agent: null,
    cwd: host.cwd,
    env: host.env,
    now: host.now,
    style: makeStyle(false),
    notify: host.notify,
    progress,
    early: {},
    base: null,
  };
  inv.base = await prepareShard(found.route, host.cwd, host.notify, progress);
  return (await found.route.load())(inv);
}

/** A failure as the one line an agent reads; anything but our own errors is also logged in full on stderr. */
function failureLine(host: McpHost, error: unknown): string {
  if (error instanceof AgenceError) return `${error.code === 'refused' ? 'refused: ' : ''}${error.line}`;
  host.notify(`unexpected error in a tool call: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return `unexpected error: ${error instanceof Error ? error.message : String(error)}`;
}

const issuesLine = (error: z.core.$ZodError): string => error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');

export async function callTool(host: McpHost, name: string, args: unknown): Promise<CallToolResult> {
  const tool = MCP_TOOLS.find((t) => t.name === name);
  if (!tool) throw new McpError(ErrorCode.InvalidParams, `unknown tool "${name}": the tools are ${MCP_TOOLS.map((t) => t.name).join(', ')}`);
  try {
    checkArgumentSize(name, args);
    const parsed = z.safeParse(tool.input, args ?? {});
    if (!parsed.success) throw new AgenceError('usage', `${name}: ${issuesLine(parsed.error)}`);
    const outcome = await runCommand(host, tool.command(parsed.data));
    const answer = tool.render(outcome, parsed.data);
    const text = outcome.problem ? `${answer.text}\n[problem: ${outcome.problem}]` : answer.text;
    return { content: [{ type: 'text', text }], ...(answer.isError || (outcome.exit ?? 0) !== 0 ? { isError: true } : {}) };
  } catch (error) {
    return { content: [{ type: 'text', text: failureLine(host, error) }], isError: true };
  }
}

function mimeType(path: string): string {
  if (path.endsWith('.md')) return 'text/markdown';
  if (path.endsWith('.yaml') || path.endsWith('.yml')) return 'application/yaml';
  if (path.endsWith('.json')) return 'application/json';
  return 'text/plain';
}

/** The effective codex files (base + local, as `^codex` shows them) and the active session. */
function listResources(host: McpHost) {
  const files = listLayer(requireShard(host.cwd), 'codex');
  return {
    resources: [
      ...files.map((f) => ({ uri: `${CODEX_URI}${f.path}`, name: `codex/${f.path}`, mimeType: mimeType(f.path) })),
      { uri: SESSION_URI, name: 'active session', description: 'the session AGENCE_SESSION or the last resume/save made current', mimeType: 'text/plain' },
    ],
  };
}

async function readResource(host: McpHost, uri: string) {
  try {
    if (uri === SESSION_URI) {
      const shard = requireShard(host.cwd);
      const id = currentSessionId({ shard, env: host.env });
      if (!id) throw new AgenceError('not_found', 'no session is active', { fix: 'session_save starts one, session_resume picks one' });
      const outcome = await runCommand(host, { route: ['shared', 'session show'], args: [id], opts: {} });
      return { contents: [{ uri, mimeType: 'text/plain', text: capText(outcome.text) }] };
    }
    if (uri.startsWith(CODEX_URI)) {
      let path: string;
      try {
        path = decodeURIComponent(uri.slice(CODEX_URI.length));
      } catch {
        throw new AgenceError('usage', `${uri.slice(0, 200)} is not a well-formed resource URI`, { fix: 'use a URI from resources/list' });
      }
      // As `^codex FILE`: the effective view, which refuses paths that leave the layer.
      const outcome = await runCommand(host, { route: ['shared', 'codex'], args: [path], opts: {} });
      return { contents: [{ uri, mimeType: mimeType(path), text: capText((outcome.data as { content: string }).content) }] };
    }
  } catch (error) {
    throw new McpError(ErrorCode.InvalidParams, failureLine(host, error));
  }
  throw new McpError(ErrorCode.InvalidParams, `no resource ${uri.slice(0, 200)}: resources/list has ${CODEX_URI}<file> and ${SESSION_URI}`);
}

/** One MCP server (one per stdio connection, one per HTTP request): the tools and the resources. */
export function mcpServer(host: McpHost): Server {
  const server = new Server({ name: 'agence', version: host.version }, { capabilities: { tools: {}, resources: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: toolList() }));
  server.setRequestHandler(CallToolRequestSchema, (request) => host.calls.track(callTool(host, request.params.name, request.params.arguments)));
  server.setRequestHandler(ListResourcesRequestSchema, () => listResources(host));
  server.setRequestHandler(ReadResourceRequestSchema, (request) => host.calls.track(readResource(host, request.params.uri)));
  return server;
}

/**
 * `agence ^mcp`: serve stdin/stdout until the client closes stdin, then finish the calls still
 * running (their writes complete; nothing is left half-written) and return.
 */
export async function serveStdio(host: McpHost): Promise<void> {
  // Anything a library prints with console.* must not land in the protocol stream.
  console.log = console.info = console.debug = console.error;
  // A client that goes away mid-call: its answers have nowhere to go, which is not an error here.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') host.notify(`writing to the client failed: ${error.message}`);
  });
  const server = mcpServer(host);
  const transport = new StdioServerTransport(process.stdin, process.stdout, { maxBufferSize: MAX_REQUEST_BYTES });
  const closed = new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    server.onclose = resolve;
  });
  server.onerror = (error) => {
    // JSON-RPC 2.0: a line that is not JSON is a parse error, JSON that is not a message an invalid
    // request; both are answered (id null, as the request's id could not be read) and serving goes on.
    const parse = error instanceof SyntaxError;
    const invalid = error.name === 'ZodError';
    if (parse || invalid) {
      const message = parse ? `Parse error: ${error.message}` : 'Invalid Request: not a JSON-RPC 2.0 message';
      void transport.send({ jsonrpc: '2.0', id: null, error: { code: parse ? -32700 : -32600, message } } as never);
      host.notify(`ignored a message from the client: ${message}`);
    } else if (/exceeded maximum size/.test(error.message)) {
      host.notify(`a message from the client is over ${MAX_REQUEST_BYTES} bytes: the connection is closed (tool arguments may be at most 64 KiB)`);
    } else host.notify(`MCP connection: ${error.message}`);
  };
  await server.connect(transport);
  await closed;
  await host.calls.drain();
  await server.close();
  // Closed by us (an oversized message) while the client still holds its end: stop reading, so the process can exit.
  process.stdin.destroy();
}
