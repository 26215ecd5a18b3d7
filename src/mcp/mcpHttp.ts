import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { MAX_REQUEST_BYTES } from '../core/mcpBounds.js';
import { createFileOnce } from '../store/atomic.js';
import { type McpHost, mcpServer } from './mcpServer.js';
import { loadHttpTransport } from './sdk.js';

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

/**
 * The bearer token of `^mcp --http`, in `hermetic/mcp-token` (0600): made once, then reused so
 * the clients' configuration keeps working. A file someone else can read is refused, not fixed.
 */
export function mcpToken(hermetic: string): { token: string; file: string } {
  const file = join(hermetic, 'mcp-token');
  if (!existsSync(file)) createFileOnce(file, `${randomBytes(32).toString('base64url')}\n`, 0o600);
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) throw new AgenceError('refused', `${file} can be read by others (mode ${mode.toString(8)})`, { file, fix: `chmod 600 ${file}` });
  const token = readFileSync(file, 'utf8').trim();
  if (!TOKEN_RE.test(token)) throw new AgenceError('corrupt', `${file} is not an agence MCP token`, { file, fix: `delete it; the next \`agence ^mcp --http\` makes a new one` });
  return { token, file };
}

/** Compared as hashes, in constant time: the length of a wrong guess tells nothing either. */
function authorized(header: string | undefined, token: string): boolean {
  const given = /^Bearer (\S+)$/.exec(header ?? '')?.[1];
  if (given === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
}

function refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message } }));
}

/**
 * One request: checked, then served by a server and transport of its own (stateless streamable
 * HTTP), so a client that goes away takes nothing of the others with it.
 */
async function handle(host: McpHost, token: string, tokenFile: string, allowedHosts: string[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const StreamableHTTPServerTransport = await loadHttpTransport();
  if (new URL(req.url ?? '/', 'http://127.0.0.1').pathname !== '/mcp') return refuse(res, 404, 'not found: the MCP endpoint is /mcp');
  if (!authorized(req.headers.authorization, token)) {
    return refuse(res, 401, `missing or wrong bearer token: send "Authorization: Bearer <the token in ${tokenFile}>"`, { 'www-authenticate': 'Bearer realm="agence"' });
  }
  // Stateless: no stream the server could push on (GET) and no session to end (DELETE).
  if (req.method !== 'POST') return refuse(res, 405, `${req.method} is not served: this server answers POST only (stateless streamable HTTP)`, { allow: 'POST' });
  const server = mcpServer(host);
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
    maxRequestBodySize: MAX_REQUEST_BYTES,
    // A web page cannot reach this server through a DNS name that resolves to 127.0.0.1.
    enableDnsRebindingProtection: true,
    allowedHosts,
  });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res);
}

/**
 * `agence ^mcp --http`: streamable HTTP on 127.0.0.1 only, until SIGINT or SIGTERM; then it stops
 * accepting, finishes the calls still running and returns. The token's file is said, never the token.
 */
export async function serveHttp(host: McpHost, hermetic: string, port: number): Promise<void> {
  const { token, file } = mcpToken(hermetic);
  let allowedHosts: string[] = [];
  const http = createServer((req, res) => {
    handle(host, token, file, allowedHosts, req, res).catch((error: unknown) => {
      host.notify(`an HTTP request failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) refuse(res, 500, 'internal error (see the server log)');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new AgenceError('usage', `port ${port} on 127.0.0.1 is in use`, { fix: 'pick another with --port P (0: any free port)' }) : error),
    );
    http.listen(port, '127.0.0.1', resolve);
  });
  const bound = (http.address() as AddressInfo).port;
  allowedHosts = [`127.0.0.1:${bound}`, `localhost:${bound}`];
  host.notify(`MCP server on http://127.0.0.1:${bound}/mcp; clients send the bearer token in ${file}`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  const closed = new Promise<void>((resolve) => http.close(() => resolve()));
  await host.calls.drain();
  // Clients keep their connections open between requests; every call has been answered by now.
  http.closeAllConnections();
  await closed;
}
