import { homedir } from 'node:os';
import { existsSync } from 'node:fs';
import { requireRepo, shardPaths } from '../../shard/layout.js';
import type { SetupPart } from '../../agents/toolSetup.js';
import { selfCommand } from '../selfCommand.js';
import type { Handler, Outcome } from '../types.js';

function report(tool: string, parts: SetupPart[], overall: SetupPart['change'], root: string | null): Outcome {
  const shown = (file: string) => (root && file.startsWith(`${root}/`) ? file.slice(root.length + 1) : file);
  const lines = parts.map((p) => `${p.change.padEnd(9)} ${p.what} in ${shown(p.file)}`);
  const verb = overall === 'unchanged' ? `agence is already set up for ${tool}` : `set up agence for ${tool}`;
  return { data: { tool, change: overall, parts }, text: `${verb}\n${lines.join('\n')}` };
}

/** `^setup claude`: the guard hook, the session hooks and the MCP server for Claude Code in this project. */
export const claude: Handler = async (inv) => {
  const repo = requireRepo(inv.cwd);
  const { root } = repo;
  const { setupClaude, overall } = await import('../../agents/toolSetup.js');
  const parts = setupClaude(root, selfCommand());
  const outcome = report('Claude Code', parts, overall(parts), root);
  // The hooks and the server need a shard; until there is one, each session start would say so.
  return existsSync(shardPaths(repo).manifest) ? outcome : { ...outcome, problem: 'this repository is not a shard yet: run `agence ^init`, or the session hooks will report that at every Claude Code session' };
};

/** `^setup cursor`: the MCP server in this project's .cursor/mcp.json. */
export const cursor: Handler = async (inv) => {
  const { root } = requireRepo(inv.cwd);
  const { setupCursor, overall } = await import('../../agents/toolSetup.js');
  const parts = setupCursor(root, selfCommand());
  return report('Cursor', parts, overall(parts), root);
};

/** `^setup codex`: the MCP server in Codex CLI's config.toml ($CODEX_HOME, default ~/.codex): per user, for every project. */
export const codex: Handler = async (inv) => {
  const { codexConfigFile, setupCodex } = await import('../../agents/codexToml.js');
  const { overall } = await import('../../agents/toolSetup.js');
  const parts = setupCodex(codexConfigFile(inv.env, inv.env.HOME || homedir()), selfCommand());
  return report('Codex CLI', parts, overall(parts), null);
};
