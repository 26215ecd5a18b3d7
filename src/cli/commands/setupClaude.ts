import { requireRepo } from '../../shard/layout.js';
import type { Handler } from '../types.js';

const quote = (s: string) => (/^[A-Za-z0-9_./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** `^setup claude`: install the guard as Claude Code's PreToolUse hook for Bash in this project. */
export const run: Handler = async (inv) => {
  const { root } = requireRepo(inv.cwd);
  const { setupClaudeHook } = await import('../../guard/claudeSetup.js');
  // This very CLI, by absolute path, with the word alias of `^` (no shell ever sees a `^`).
  const command = [process.execPath, process.argv[1] as string, 'shared', 'guard', 'hook', 'claude'].map(quote).join(' ');
  const result = setupClaudeHook(root, command);
  const verb = { added: 'added the guard hook to', updated: 'updated the guard hook in', unchanged: 'the guard hook is already in' }[result.change];
  return {
    data: { file: result.file, change: result.change, command: result.command },
    text: `${verb} .claude/settings.local.json (PreToolUse, matcher Bash)\n  ${result.command}`,
  };
};
