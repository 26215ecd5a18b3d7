import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Toml from 'smol-toml';
import { AgenceError } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import { type Change, MCP_SERVER_NAME, mcpServer, type SetupPart } from './toolSetup.js';

/**
 * `^setup codex`: `[mcp_servers.agence]` in Codex CLI's `config.toml`. The file is the user's,
 * with comments and an order of its own, so it is edited as text: our table (and its
 * subtables) is cut out and written anew in the same place, everything else is left byte for
 * byte. smol-toml (its own small bundle, loaded only here) parses the file first (one that
 * does not parse is refused) and the result after, which must hold exactly the same settings
 * plus ours, or nothing is written.
 */

/** In the bundle the literal require becomes dist/vendor/toml.cjs; under the test runner (ESM) createRequire finds the package. */
function loadToml(): typeof Toml {
  return typeof require === 'function' ? (require('smol-toml') as typeof Toml) : (createRequire(import.meta.filename)('smol-toml') as typeof Toml);
}

/** `[mcp_servers.agence]`, `[mcp_servers."agence".env]`, ... (a header line, with an optional comment). */
const OUR_HEADER = new RegExp(`^\\s*\\[\\s*mcp_servers\\s*\\.\\s*("?)${MCP_SERVER_NAME}\\1\\s*(\\.[^\\]]*)?\\]\\s*(#.*)?$`);
const ANY_HEADER = /^\s*\[/;

const tomlString = (s: string) => JSON.stringify(s); // a JSON string is a TOML basic string

function renderTable(server: ReturnType<typeof mcpServer>): string {
  const env = Object.entries(server.env).map(([k, v]) => `${k} = ${tomlString(v)}`);
  return [`[mcp_servers.${MCP_SERVER_NAME}]`, `command = ${tomlString(server.command)}`, `args = [${server.args.map(tomlString).join(', ')}]`, `env = { ${env.join(', ')} }`, ''].join('\n');
}

/** The text without our tables, and the line where the first of them was (null: there was none). */
function cutOurTables(text: string): { lines: string[]; at: number | null } {
  const lines = text.split('\n');
  const kept: string[] = [];
  let at: number | null = null;
  let inOurs = false;
  for (const line of lines) {
    if (ANY_HEADER.test(line)) inOurs = OUR_HEADER.test(line);
    if (inOurs) at ??= kept.length;
    else kept.push(line);
  }
  return { lines: kept, at };
}

const canonical = (v: unknown): string => JSON.stringify(v, (_k, value: unknown) => (value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b))) : value));

export function codexConfigFile(env: NodeJS.ProcessEnv, home: string): string {
  return join(env.CODEX_HOME || join(home, '.codex'), 'config.toml');
}

export function setupCodex(file: string, self: readonly string[]): SetupPart[] {
  const { parse } = loadToml();
  const server = mcpServer(self, 'codex');
  const bad = (what: string, fix: string) => new AgenceError('corrupt', `${file} ${what}`, { file, fix });
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  let before: Record<string, unknown>;
  try {
    before = parse(text);
  } catch (error) {
    throw bad(`is not valid TOML (${(error as Error).message.split('\n')[0]})`, 'fix the file by hand; agence never overwrites a config it cannot read');
  }
  const servers = (before.mcp_servers ?? {}) as Record<string, unknown>;
  const existing = servers[MCP_SERVER_NAME];
  if (existing !== undefined && canonical(existing) === canonical(server)) return [{ file, what: 'mcp server', change: 'unchanged' }];
  const change: Change = existing === undefined ? 'added' : 'updated';

  const { lines, at } = cutOurTables(text);
  const table = renderTable(server);
  let next: string;
  if (at !== null) {
    // The blank lines after our old table went with it: one goes back before the next table.
    const rest = lines.slice(at);
    next = [...lines.slice(0, at), ...table.split('\n').slice(0, -1), ...(rest.length === 0 ? [''] : rest[0] === '' ? rest : ['', ...rest])].join('\n');
  } else {
    const body = lines.join('\n');
    next = body === '' ? table : `${body}${body.endsWith('\n') ? '' : '\n'}${body.endsWith('\n\n') || body === '\n' ? '' : '\n'}${table}`;
  }
  // The edit must have changed our server and nothing else.
  const expected = { ...before, mcp_servers: { ...servers, [MCP_SERVER_NAME]: server } };
  let after: unknown;
  try {
    after = parse(next);
  } catch {
    after = undefined;
  }
  if (after === undefined || canonical(after) !== canonical(expected)) {
    throw bad(`defines mcp_servers.${MCP_SERVER_NAME} in a way agence cannot edit safely (inline or with dotted keys)`, `remove that definition (agence writes its own [mcp_servers.${MCP_SERVER_NAME}] table), then run \`agence ^setup codex\` again`);
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic(file, next);
  if (readFileSync(file, 'utf8') !== next) throw new AgenceError('corrupt', `${file} did not read back as written`, { file, fix: 'check the disk and run `agence ^setup codex` again' });
  return [{ file, what: 'mcp server', change }];
}
