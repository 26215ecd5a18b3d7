import { contentWords, ftsQuery, words } from '../core/knowledgeText.js';
import { expandIdentifiers } from '../core/identifiers.js';
import { type ChunkRow, type CodeHit, searchChunks } from './chunkIndex.js';
import { type CodeContext, type IndexStats, withCodeIndex } from './chunk.js';

/**
 * Code for recall: BM25 over the chunks, with the words of a question rather than its grammar
 * ("where is the token refresh handled" searches token, refresh, handled): the chunks with every
 * word first, then, up to the limit, those with some of them (a question's words seldom all
 * appear in one function).
 */

export interface CodeRecallHit extends Pick<ChunkRow, 'path' | 'origin' | 'language' | 'kind' | 'name' | 'scope' | 'signature' | 'text'> {
  start: number;
  end: number;
  /** The line of the chunk that best matches the query, and that line as the snippet. */
  line: number;
  snippet: string;
  /** Higher is better (BM25 negated, as knowledge recall reports it). */
  score: number;
  /** Whether the chunk has every word of the query (these come first). */
  every: boolean;
}

export interface CodeRecall {
  matched: 'all' | 'any' | 'none';
  hits: CodeRecallHit[];
  /** What bringing the index up to date did (null when nothing had changed). */
  stats: IndexStats | null;
}

/** Marks around matched words, as knowledge snippets have them. */
const MARK_OPEN = '\u0002';
const MARK_CLOSE = '\u0003';

/**
 * The query's words for code: no stop words, unless that leaves none. Identifiers need nothing
 * here: the index holds every compound identifier split and joined (`core/identifiers.ts`).
 */
export function codeQueryWords(query: string): string[] {
  const content = [...contentWords(query)];
  return content.length > 0 ? content : [...new Set(words(query))];
}

const stemOf = (word: string) => (word.length > 5 ? word.slice(0, word.length - 2) : word);

/** The line of a chunk with the most query words (identifier parts count), and its number. */
export function bestLine(text: string, startLine: number, queryWords: readonly string[]): { line: number; snippet: string } {
  const lines = text.split('\n');
  const stems = queryWords.map((w) => stemOf(w.toLowerCase()));
  let best = { index: 0, hits: -1 };
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const tokens = new Set(words(expandIdentifiers(line)));
    let hits = 0;
    for (const stem of stems) if ([...tokens].some((t) => t.startsWith(stem))) hits++;
    if (hits > best.hits) best = { index, hits };
  });
  const raw = (lines[best.index] ?? '').trim().slice(0, 200);
  const pattern = stems.filter((s) => s.length > 1).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const snippet = pattern.length > 0 ? raw.replace(new RegExp(`(${pattern.join('|')})[a-z]*`, 'gi'), `${MARK_OPEN}$&${MARK_CLOSE}`) : raw;
  return { line: startLine + best.index, snippet };
}

function toHit(hit: CodeHit, queryWords: readonly string[], every: boolean): CodeRecallHit {
  const best = bestLine(hit.text, hit.start_line, queryWords);
  return {
    path: hit.path,
    origin: hit.origin,
    language: hit.language,
    kind: hit.kind,
    name: hit.name,
    scope: hit.scope,
    start: hit.start_line,
    end: hit.end_line,
    signature: hit.signature,
    text: hit.text,
    line: best.line,
    snippet: best.snippet,
    score: Math.round(-hit.score * 1000) / 1000,
    every,
  };
}

/** Chunks for a query, best first. `origin` narrows to the shard's own code or the master's. */
export async function recallCode(ctx: CodeContext, query: string, options: { limit: number; origin?: 'local' | 'base' | undefined }): Promise<CodeRecall> {
  const queryWords = codeQueryWords(query);
  const text = queryWords.join(' ');
  const all = ftsQuery(text, 'all');
  if (!all) return { matched: 'none', hits: [], stats: null };
  const { result, stats } = await withCodeIndex(ctx, (db) => {
    const filter = { limit: options.limit, origin: options.origin };
    const every = searchChunks(db, all, filter);
    if (every.length >= options.limit) return { every, some: [] };
    const seen = new Set(every.map((h) => h.rowid));
    const some = searchChunks(db, ftsQuery(text, 'any') as string, filter).filter((h) => !seen.has(h.rowid));
    return { every, some: some.slice(0, options.limit - every.length) };
  });
  const hits = [...result.every.map((h) => toHit(h, queryWords, true)), ...result.some.map((h) => toHit(h, queryWords, false))];
  return { matched: result.every.length > 0 ? 'all' : hits.length > 0 ? 'any' : 'none', hits, stats };
}
