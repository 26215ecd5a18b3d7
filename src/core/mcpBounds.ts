import { AgenceError } from './errors.js';

/**
 * The bounds of the MCP server (docs/mcp.md): every answer lands in an agent's context window,
 * so no call may return more than a page, and no request may carry more than a note's worth.
 */

/** Arguments of one tool call, as JSON. A lesson or a session note fits many times over. */
export const MAX_ARGUMENT_BYTES = 64 * 1024;
/** One tool result or resource, as UTF-8 text: about 8,000 tokens. */
export const MAX_RESULT_BYTES = 32 * 1024;
/** An HTTP request body (a JSON-RPC batch of calls at most this big). */
export const MAX_REQUEST_BYTES = 1024 * 1024;

const byteLength = (text: string): number => Buffer.byteLength(text, 'utf8');

/** A page position as an opaque token, so clients pass it back rather than compute it. */
export function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`, 'utf8').toString('base64url');
}

/** The offset a cursor stands for; one this server did not give is a usage error. */
export function decodeCursor(cursor: string | undefined, max: number): number {
  if (cursor === undefined) return 0;
  const match = /^o:([0-9]{1,7})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const offset = match ? Number(match[1]) : NaN;
  if (!(offset >= 0 && offset <= max)) throw new AgenceError('usage', `cursor "${cursor.slice(0, 40)}" is not one this server gave`, { fix: 'pass next_cursor from the previous answer, or leave cursor out for the first page' });
  return offset;
}

/** Arguments over the cap are refused whole: a half-read lesson would be worse than none. */
export function checkArgumentSize(tool: string, args: unknown): void {
  const size = byteLength(JSON.stringify(args ?? {}));
  if (size > MAX_ARGUMENT_BYTES) {
    throw new AgenceError('usage', `${tool}: the arguments are ${size} bytes, more than the ${MAX_ARGUMENT_BYTES} a call may carry`, { fix: 'send a shorter text (split a long note over several calls)' });
  }
}

/** Text over the cap is cut at a character boundary, with a note saying so and how much was left out. */
export function capText(text: string, cap = MAX_RESULT_BYTES): string {
  const size = byteLength(text);
  if (size <= cap) return text;
  const note = `\n[truncated: ${size} bytes, the first ${cap} shown]`;
  // Decoding a cut buffer can end in a replacement character; dropping it keeps the text clean.
  const head = Buffer.from(text, 'utf8').subarray(0, cap - byteLength(note)).toString('utf8').replace(/\uFFFD$/, '');
  return head + note;
}

export interface Page<T> {
  items: T[];
  /** Where the next page starts, when there is one. */
  next: number | null;
  /** Why fewer items than asked for were returned, when the byte cap cut the page short. */
  truncated: string | null;
}

/**
 * One page of `found` (which holds what the service returned from `offset` on, with one extra item
 * when there are more): at most `limit` items and, rendered, at most `cap` bytes. The page is
 * shortened from the end until it fits; at least one item is always shown (cut by capText).
 */
export function fitPage<T>(found: readonly T[], offset: number, limit: number, render: (page: Page<T>) => string, cap = MAX_RESULT_BYTES): { page: Page<T>; text: string } {
  const more = found.length > limit;
  const build = (count: number): Page<T> => ({
    items: found.slice(0, count),
    next: more || count < Math.min(limit, found.length) ? offset + count : null,
    truncated: count < Math.min(limit, found.length) ? `${count} of ${Math.min(limit, found.length)} shown to stay under ${cap} bytes; pass next_cursor for the rest` : null,
  });
  let low = Math.min(1, found.length);
  let high = Math.min(limit, found.length);
  // The largest count whose rendering fits (rendering grows with the count).
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (byteLength(render(build(mid))) <= cap) low = mid;
    else high = mid - 1;
  }
  const page = build(low);
  return { page, text: capText(render(page), cap) };
}
