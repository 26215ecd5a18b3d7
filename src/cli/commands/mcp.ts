import { resolve } from 'node:path';
import { AgenceError } from '../../core/errors.js';
import { CallsInFlight, type McpHost, serveStdio } from '../../mcp/mcpServer.js';
import { requireShard } from '../../shard/layout.js';
import type { Handler } from '../types.js';

declare const __AGENCE_VERSION__: string;

/** The port of `^mcp --http` when none is given (docs/mcp.md). */
export const DEFAULT_MCP_PORT = 7420;

function port(value: unknown): number {
  if (value === undefined) return DEFAULT_MCP_PORT;
  const n = typeof value === 'string' && /^[0-9]{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= 65535)) throw new AgenceError('usage', `--port "${String(value)}" is not a port from 0 to 65535`, { fix: '0 picks any free port' });
  return n;
}

/** `^mcp [--http [--port P]] [--dir DIR]`: serve until the client closes stdin (or SIGINT/SIGTERM over HTTP). */
export const run: Handler = async (inv) => {
  if (inv.json) throw new AgenceError('usage', '^mcp takes no --json: standard output is the MCP protocol stream', { fix: 'drop --json' });
  // The actor of an MCP server is its environment's AGENCE_AGENT (DESIGN §5), set in the client's configuration.
  if (inv.agent) throw new AgenceError('usage', `@${inv.agent.agent} does not apply to ^mcp`, { fix: `start the server with AGENCE_AGENT=${inv.agent.agent} in its environment` });
  if (inv.opts.port !== undefined && inv.opts.http !== true) throw new AgenceError('usage', '--port is for --http', { fix: 'agence ^mcp --http --port P' });
  if (inv.opts.dir !== undefined && (typeof inv.opts.dir !== 'string' || inv.opts.dir === '')) throw new AgenceError('usage', '--dir needs a directory', { fix: 'agence ^mcp --dir /path/to/repository' });
  const cwd = typeof inv.opts.dir === 'string' ? resolve(inv.cwd, inv.opts.dir) : inv.cwd;
  const shard = requireShard(cwd);
  const host: McpHost = { cwd, env: inv.env, now: inv.now, notify: inv.notify, version: __AGENCE_VERSION__, calls: new CallsInFlight() };
  if (inv.opts.http === true) await (await import('../../mcp/mcpHttp.js')).serveHttp(host, shard.hermetic, port(inv.opts.port));
  else await serveStdio(host);
  return { data: null, text: '' };
};
