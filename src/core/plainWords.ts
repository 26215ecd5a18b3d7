import type { ParsedScript } from './commandGuard.js';

/**
 * The commands most often run (`git status`, `npm test`, `ls -la src`) are plain words separated
 * by blanks: no quotes, escapes, expansions, globs, redirections, operators, comments, tildes,
 * assignments, reserved words or declarations. Bash splits such a line on the blanks and nothing
 * else, so the guard reads it without starting the bash grammar (a parse costs tens of milliseconds the first
 * time in a fresh process). Anything else returns null and goes to the grammar; a test checks
 * that this gives the grammar's own answer on every command of the corpus it accepts.
 */

const WORD = /^[A-Za-z0-9_@%+,.:/=-]+$/;
// Reserved words, and the declaration builtins whose arguments bash reads as assignments.
const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'case', 'esac', 'for', 'select', 'while', 'until', 'do', 'done', 'function', 'time', 'coproc', 'in', 'export', 'declare', 'typeset', 'local', 'readonly', 'unset']);

export function plainWords(script: string): ParsedScript | null {
  const text = script.replace(/^[ \t]+|[ \t]+$/g, '');
  if (text === '') return null;
  const words = text.split(/[ \t]+/);
  const first = words[0] as string;
  if (RESERVED.has(first) || first.includes('=') || !words.every((w) => WORD.test(w))) return null;
  return { parts: [{ text, words: words.map((w) => ({ text: w, dynamic: false })), assignments: [], redirects: [], stdin: null }], error: null };
}
