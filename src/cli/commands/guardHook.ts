import { readFileSync } from 'node:fs';
import { AgenceError } from '../../core/errors.js';
import type { Handler } from '../types.js';

/**
 * `^guard hook claude`: Claude Code's PreToolUse hook. Prints the hook answer (always JSON, with
 * or without --json) and exits 0, because Claude Code runs the tool when a hook fails.
 */
export const run: Handler = async (inv) => {
  if (inv.args[0] !== 'claude') {
    throw new AgenceError('usage', `no guard hook for "${inv.args[0]}"`, { fix: 'the hook there is: `agence ^guard hook claude`' });
  }
  const { claudeHook } = await import('../../guard/claudeHook.js');
  const result = await claudeHook(readFileSync(0, 'utf8'), { cwd: inv.cwd, env: inv.env, now: inv.now() });
  const text = result.output ? JSON.stringify(result.output) : '';
  return { data: result.output ?? {}, text };
};
