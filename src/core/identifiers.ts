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

/**
 * The text with each compound identifier followed by its parts and their concatenation. Plain
 * words are left alone, so ordinary prose (doc comments, Markdown) costs nothing extra.
 */
export function expandIdentifiers(text: string): string {
  return text.replace(IDENTIFIER_RE, (identifier) => {
    const parts = identifierParts(identifier);
    if (parts.length < 2) return identifier;
    return `${identifier} ${parts.join(' ')} ${parts.join('')}`;
  });
}
