import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { shellQuote } from '../core/launchers.js';
import { writeFileAtomic } from '../store/atomic.js';

/**
 * `^setup claude`: put the guard's PreToolUse hook into the project's
 * `.claude/settings.local.json`, merged into whatever is there (other hooks, permissions, env
 * stay as they are), once: running it again changes nothing, or only our own command line.
 */

const MARK = 'guard hook claude';
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The hook's command line: this very CLI (`self`: node and the bundle), with the word alias of `^` (no shell ever sees a `^`). */
export function guardHookCommand(self: readonly string[]): string {
  return [...self, 'shared', 'guard', 'hook', 'claude'].map(shellQuote).join(' ');
}

/** The PreToolUse entry that runs the guard before every Bash tool call. */
export function guardHookGroup(command: string): Json {
  return { matcher: 'Bash', hooks: [{ type: 'command', command, timeout: 30 }] };
}

export interface SetupResult {
  file: string;
  change: 'added' | 'updated' | 'unchanged';
  command: string;
}

export function setupClaudeHook(root: string, command: string): SetupResult {
  const file = join(root, '.claude', 'settings.local.json');
  const shown = '.claude/settings.local.json';
  const bad = (what: string) => new AgenceError('corrupt', `${shown} ${what}`, { file, fix: 'fix the file by hand; agence never overwrites settings it cannot read' });
  let settings: Json = {};
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw bad(`is not valid JSON (${(error as Error).message})`);
    }
    if (!isObject(parsed)) throw bad('must hold a JSON object');
    settings = parsed;
  }
  const hooks = settings.hooks ?? {};
  if (!isObject(hooks)) throw bad('has "hooks" that is not an object');
  const pre = hooks.PreToolUse ?? [];
  if (!Array.isArray(pre)) throw bad('has "hooks.PreToolUse" that is not a list');

  let change: SetupResult['change'] = 'added';
  for (const group of pre) {
    if (!isObject(group) || !Array.isArray(group.hooks)) continue;
    for (const hook of group.hooks) {
      if (isObject(hook) && typeof hook.command === 'string' && hook.command.includes(MARK)) {
        change = hook.command === command ? 'unchanged' : 'updated';
        hook.command = command;
      }
    }
  }
  if (change === 'unchanged') return { file, change, command };
  const next: Json = {
    ...settings,
    hooks: { ...hooks, PreToolUse: change === 'added' ? [...pre, guardHookGroup(command)] : pre },
  };
  const text = `${JSON.stringify(next, null, 2)}\n`;
  writeFileAtomic(file, text);
  if (readFileSync(file, 'utf8') !== text) throw new AgenceError('corrupt', `${shown} did not read back as written`, { file, fix: 'check the disk and run `agence ^setup claude` again' });
  return { file, change, command };
}
