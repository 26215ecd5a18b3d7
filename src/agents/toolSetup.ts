import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CLAUDE_SESSION_HOOKS } from '../core/claudeCode.js';
import { AgenceError } from '../core/errors.js';
import { shellLine } from '../core/shellQuote.js';
import { writeFileAtomic } from '../store/atomic.js';

/**
 * `^setup claude|cursor`: register agence in a coding agent's own JSON config files, merged
 * into whatever is there (other hooks, servers, permissions stay as they are), once: running it
 * again changes nothing, or only our own entries. A file that does not parse is refused and
 * named, never overwritten. Codex CLI's TOML is `codexToml.ts`.
 */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export type Change = 'added' | 'updated' | 'unchanged';

export interface SetupPart {
  file: string;
  /** What was registered there: `mcp server`, `PreToolUse hook`, ... */
  what: string;
  change: Change;
}

/** The name agence's MCP server has in every tool's config. */
export const MCP_SERVER_NAME = 'agence';

/**
 * The MCP server entry: `agence ^mcp` over stdio, with the word alias of `^` (no shell ever sees
 * a `^`), and AGENCE_AGENT naming the tool so labels and the access matrix apply (DESIGN §5).
 */
export function mcpServer(self: readonly string[], agent: string, dir?: string): { command: string; args: string[]; env: Record<string, string> } {
  const [command = '', ...rest] = self;
  return { command, args: [...rest, 'shared', 'mcp', ...(dir ? ['--dir', dir] : [])], env: { AGENCE_AGENT: agent } };
}

/** A hook's command line: Claude Code runs it through a shell. */
export function hookCommand(self: readonly string[], words: string[]): string {
  return shellLine([...self, 'shared', ...words]);
}

/** One hook entry of Claude Code's settings: the command, run for the tools `matcher` names (all when null). */
function hookGroup(matcher: string | null, command: string, timeout: number): Json {
  return { ...(matcher ? { matcher } : {}), hooks: [{ type: 'command', command, timeout }] };
}

/** The guard as Claude Code's PreToolUse hook for Bash (`^setup claude`, and what `!claude` is started with). */
export function guardHookGroup(self: readonly string[]): Json {
  return hookGroup('Bash', hookCommand(self, ['guard', 'hook', 'claude']), 30);
}

interface JsonFile {
  file: string;
  shown: string;
  doc: Json;
  bad: (what: string) => AgenceError;
}

/** A JSON object config file (an empty object when it does not exist yet); refused when it does not parse. */
function readJsonObject(file: string, shown: string): JsonFile {
  const bad = (what: string) => new AgenceError('corrupt', `${shown} ${what}`, { file, fix: 'fix the file by hand; agence never overwrites a config it cannot read' });
  if (!existsSync(file)) return { file, shown, doc: {}, bad };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw bad(`is not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(parsed)) throw bad('must hold a JSON object');
  return { file, shown, doc: parsed, bad };
}

/** Write the file back when one of its parts changed, and read it back. */
function writeJsonObject(json: JsonFile, parts: readonly SetupPart[]): void {
  if (parts.every((p) => p.change === 'unchanged')) return;
  const text = `${JSON.stringify(json.doc, null, 2)}\n`;
  mkdirSync(dirname(json.file), { recursive: true });
  writeFileAtomic(json.file, text);
  if (readFileSync(json.file, 'utf8') !== text) throw new AgenceError('corrupt', `${json.shown} did not read back as written`, { file: json.file, fix: 'check the disk and run the setup again' });
}

/** `mcpServers.agence` in a `.mcp.json`-style document (Claude Code's and Cursor's format). */
function registerMcpServer(json: JsonFile, server: Json): SetupPart {
  const servers = json.doc.mcpServers ?? {};
  if (!isObject(servers)) throw json.bad('has "mcpServers" that is not an object');
  const before = servers[MCP_SERVER_NAME];
  const change: Change = before === undefined ? 'added' : sameJson(before, server) ? 'unchanged' : 'updated';
  json.doc.mcpServers = { ...servers, [MCP_SERVER_NAME]: server };
  return { file: json.file, what: 'mcp server', change };
}

/** One of our hooks under `event`, found by `mark` in its command line, set to `command`. */
function ensureHook(hooks: Json, event: string, matcher: string | null, timeout: number, mark: string, command: string, bad: (what: string) => AgenceError): Change {
  const groups = hooks[event] ?? [];
  if (!Array.isArray(groups)) throw bad(`has "hooks.${event}" that is not a list`);
  let change: Change = 'added';
  for (const group of groups) {
    if (!isObject(group) || !Array.isArray(group.hooks)) continue;
    for (const hook of group.hooks) {
      if (isObject(hook) && typeof hook.command === 'string' && hook.command.includes(mark)) {
        change = hook.command === command ? 'unchanged' : 'updated';
        hook.command = command;
      }
    }
  }
  if (change === 'added') hooks[event] = [...groups, hookGroup(matcher, command, timeout)];
  return change;
}

/**
 * `^setup claude`: in `.claude/settings.local.json` the guard as PreToolUse hook for Bash, the
 * session hooks, and `agence` in `enabledMcpjsonServers`; the server itself in `.mcp.json`, the
 * project-scope file Claude Code reads MCP servers from (settings files hold no servers).
 */
export function setupClaude(root: string, self: readonly string[]): SetupPart[] {
  // Both files are read (and refused if they do not parse) before either is written.
  const settings = readJsonObject(join(root, '.claude', 'settings.local.json'), '.claude/settings.local.json');
  const mcp = readJsonObject(join(root, '.mcp.json'), '.mcp.json');
  const { doc, bad, file } = settings;
  const hooks = doc.hooks ?? {};
  if (!isObject(hooks)) throw bad('has "hooks" that is not an object');
  const parts: SetupPart[] = [{ file, what: 'PreToolUse hook (guard)', change: ensureHook(hooks, 'PreToolUse', 'Bash', 30, 'guard hook claude', hookCommand(self, ['guard', 'hook', 'claude']), bad) }];
  // No matcher: every source, trigger and reason runs them.
  for (const event of CLAUDE_SESSION_HOOKS) {
    parts.push({ file, what: `${event} hook`, change: ensureHook(hooks, event, null, 60, 'shared hook claude', hookCommand(self, ['hook', 'claude']), bad) });
  }
  doc.hooks = hooks;
  const enabled = doc.enabledMcpjsonServers ?? [];
  if (!Array.isArray(enabled)) throw bad('has "enabledMcpjsonServers" that is not a list');
  const isEnabled = enabled.includes(MCP_SERVER_NAME);
  if (!isEnabled) doc.enabledMcpjsonServers = [...enabled, MCP_SERVER_NAME];
  parts.push({ file, what: 'enabledMcpjsonServers', change: isEnabled ? 'unchanged' : 'added' });
  const server = registerMcpServer(mcp, { type: 'stdio', ...mcpServer(self, 'claude') });
  writeJsonObject(settings, parts);
  writeJsonObject(mcp, [server]);
  return [...parts, server];
}

/** `^setup cursor`: the MCP server in the project's `.cursor/mcp.json` (a command means stdio there). */
export function setupCursor(root: string, self: readonly string[]): SetupPart[] {
  const json = readJsonObject(join(root, '.cursor', 'mcp.json'), '.cursor/mcp.json');
  // Cursor does not promise to start a project's servers in the project: the server is told where it is.
  const part = registerMcpServer(json, mcpServer(self, 'cursor', root));
  writeJsonObject(json, [part]);
  return [part];
}

/** All parts together: added when anything was added, else updated when anything changed. */
export function overall(parts: readonly SetupPart[]): Change {
  return parts.some((p) => p.change === 'added') ? 'added' : parts.some((p) => p.change === 'updated') ? 'updated' : 'unchanged';
}
