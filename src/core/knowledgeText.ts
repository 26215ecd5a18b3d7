import { AgenceError } from './errors.js';

/** Text rules of the knowledge base: query building, similarity, formtags, token estimates. Pure. */

const WORD_RE = /[\p{L}\p{N}_]+/gu;

/** The words of a text, lowercased, as the FTS tokenizer (unicode61) sees them. */
export function words(text: string): string[] {
  return (text.toLowerCase().match(WORD_RE) ?? []) as string[];
}

/**
 * An FTS5 MATCH expression from what a person typed, in which nothing is FTS syntax: every
 * whitespace-separated word becomes a quoted phrase of its letters and digits (`better-sqlite3`
 * -> `"better" "sqlite3"` as a phrase, `NEAR` -> `"near"`), so `"`, `*`, `-`, `:`, `^`, `NEAR`,
 * `AND`/`OR`/`NOT` and parentheses are never interpreted. `any` joins the phrases with OR.
 */
export function ftsQuery(input: string, mode: 'all' | 'any'): string | null {
  const phrases: string[] = [];
  for (const chunk of input.split(/\s+/)) {
    const parts = words(chunk);
    if (parts.length === 0) continue;
    phrases.push(`"${parts.join(' ')}"`);
  }
  if (phrases.length === 0) return null;
  return phrases.join(mode === 'all' ? ' ' : ' OR ');
}

/** Words that carry no meaning for similarity. */
const STOP = new Set(
  'a an and are as at be but by for from has have in is it its not of on or that the this to was were will with when where which who why how what do does did can should would could we you they i our your their there then than so if into out up about after before over under also only just more most no yes use used using'.split(' '),
);

export function contentWords(text: string): Set<string> {
  return new Set(words(text).filter((w) => w.length > 1 && !STOP.has(w)));
}

/** Jaccard similarity of the content words of two texts, 0..1. */
export function similarity(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const w of a) if (b.has(w)) shared++;
  return shared / (a.size + b.size - shared);
}

/** Above this, an existing item is shown as similar when learning. */
export const SIMILAR_THRESHOLD = 0.2;

export interface FormtagClass {
  code: string;
  title: string;
  keywords: string[];
}

export const FORMTAG_PREFIX_RE = /^\d{1,3}(?:\.\d+)?$/;

export function assertFormtagPrefix(prefix: string, flag: string): string {
  if (!FORMTAG_PREFIX_RE.test(prefix)) {
    throw new AgenceError('usage', `${flag} "${prefix}" is not a formtag or formtag prefix`, { fix: 'use digits like 4, 42, 420 or 420.3 (`agence ^formtags` lists them)' });
  }
  return prefix;
}

/**
 * Prefix semantics of formtags: `4` matches 400-499, `42` matches 420-429, `420` matches 420 and
 * 420.x, `420.3` matches 420.3 and below (420.31, ...). Codes are three digits before the dot,
 * so this is a prefix of the code's text.
 */
export function formtagMatches(prefix: string, code: string): boolean {
  return code.startsWith(prefix);
}

/** The prefix that selects a class and everything below it: 400 -> 4, 420 -> 42, 420.3 -> 420.3. */
export function formtagSubtree(code: string): string {
  if (code.includes('.')) return code;
  return code.replace(/0+$/, '') || '0';
}

/** The parent of a code in the tree: 420.3 -> 420, 420 -> 400, 400 -> null. */
export function formtagParent(code: string): string | null {
  const dot = code.indexOf('.');
  if (dot >= 0) {
    const up = code.slice(0, -1).replace(/\.$/, '');
    return up.length > dot ? up : code.slice(0, dot);
  }
  if (code.endsWith('00')) return null;
  return code.endsWith('0') ? `${code[0]}00` : `${code.slice(0, 2)}0`;
}

/**
 * Suggest a formtag from a text: the class whose keywords the text uses most (deeper classes
 * win ties, they say more), or null when no keyword appears.
 */
export function suggestFormtag(text: string, classes: readonly FormtagClass[]): { code: string; title: string; matched: string[] } | null {
  const present = new Set(words(text));
  let best: { code: string; title: string; matched: string[] } | null = null;
  for (const c of classes) {
    const matched = c.keywords.filter((k) => present.has(k.toLowerCase()));
    if (matched.length === 0) continue;
    if (!best || matched.length > best.matched.length || (matched.length === best.matched.length && c.code.length > best.code.length)) {
      best = { code: c.code, title: c.title, matched };
    }
  }
  return best;
}

/**
 * Token estimate for context packs: about four characters a token for English prose and code in
 * the tokenizers of current models (OpenAI and Anthropic document ~4 chars/token); rounded up so
 * a pack errs on the small side.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
