/**
 * Identifier-aware text for the full-text index. Pure.
 *
 * SQLite's unicode61 tokenizer splits `refresh_token` into `refresh` and `token` but keeps
 * `refreshToken` whole, so `refresh token` would find one spelling and not the other. The index
 * is therefore given a copy of the text in which every compound identifier is followed by its
 * parts and by its parts run together: `refreshToken` and `refresh_token` both become
 * `... refresh token refreshtoken`. A query then needs no rewriting: `refresh token`,
 * `refreshToken` and `refresh_token` each match both spellings.
 */

const IDENTIFIER_RE = /[A-Za-z_$][A-Za-z0-9_$]*/g;
/** Lower-to-upper (`refreshToken`), acronym-to-word (`HTTPServer`), letters-to-digits and back. */
const PART_RE = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g;

/** The words of an identifier: `parseHTTPResponse2` -> parse, http, response, 2. */
export function identifierParts(identifier: string): string[] {
  const parts: string[] = [];
  for (const piece of identifier.split(/[_$]+/)) {
    for (const part of piece.match(PART_RE) ?? []) parts.push(part.toLowerCase());
  }
  return parts;
}

/** Worth splitting: a case change, an underscore or dollar inside, letters next to digits. */
const COMPOUND_RE = /[a-z][A-Z]|[A-Z]{2}[a-z]|[A-Za-z0-9][_$][A-Za-z0-9]|[A-Za-z][0-9]|[0-9][A-Za-z]/;

/** `identifier parts... joined`, or null for an identifier of one word. */
function expansion(identifier: string): string | null {
  if (!COMPOUND_RE.test(identifier)) return null;
  const parts = identifierParts(identifier);
  return parts.length < 2 ? null : `${parts.join(' ')} ${parts.join('')}`;
}

/**
 * The text with each compound identifier followed by its parts and their concatenation. Plain
 * words are left alone, so ordinary prose (doc comments, Markdown) costs nothing extra.
 */
export function expandIdentifiers(text: string): string {
  return text.replace(IDENTIFIER_RE, (identifier) => {
    const more = expansion(identifier);
    return more === null ? identifier : `${identifier} ${more}`;
  });
}

/**
 * For a body of code: each distinct compound identifier once, with its parts and their
 * concatenation, one per line, to index beside the text itself. Cheaper than expanding every
 * occurrence in place (code repeats its identifiers), and the words of each stay adjacent.
 */
export function identifierIndex(text: string): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const identifier of text.match(IDENTIFIER_RE) ?? []) {
    if (seen.has(identifier)) continue;
    seen.add(identifier);
    const more = expansion(identifier);
    if (more !== null) lines.push(`${identifier} ${more}`);
  }
  return lines.join('\n');
}
