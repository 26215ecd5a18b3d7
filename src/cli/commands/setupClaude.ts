import { requireRepo } from '../../shard/layout.js';
import type { Handler } from '../types.js';

/** `^setup claude`: install the guard as Claude Code's PreToolUse hook for Bash in this project. */
export const run: Handler = async (inv) => {
  const { root } = requireRepo(inv.cwd);
  const { guardHookCommand, setupClaudeHook } = await import('../../guard/claudeSetup.js');
  const command = guardHookCommand([process.execPath, process.argv[1] as string]);
  const result = setupClaudeHook(root, command);
  const verb = { added: 'added the guard hook to', updated: 'updated the guard hook in', unchanged: 'the guard hook is already in' }[result.change];
  return {
    data: { file: result.file, change: result.change, command: result.command },
    text: `${verb} .claude/settings.local.json (PreToolUse, matcher Bash)\n  ${result.command}`,
  };
};
