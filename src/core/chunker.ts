import type { ChunkSettings } from './chunkSettings.js';
import {
  type ChunkKind,
  CONTAINER_KINDS,
  type DeclRule,
  declKind,
  goReceiver,
  type LanguageName,
  type LanguageRules,
  languageRules,
  type SyntaxNode,
} from './chunkLanguages.js';

/**
 * The chunking rules over a parse tree (DESIGN's OBJECTCODE). Pure: the tree, the text and the
 * settings in, chunks and symbols out.
 *
 * - Every declaration (function, method, class, interface, type, struct, impl, ...) is a symbol,
 *   with its name, kind, parent scope, lines, signature and doc comment.
 * - A declaration that fits in `max_lines` is one chunk, its nested declarations included.
 * - A longer one is split: a container (class, impl, module, section) at its children, each child
 *   handled the same way with the container as its scope, and the container's own lines (its
 *   signature, fields) as a chunk of its own; a long function at the statements of its body,
 *   every part keeping the function's name and signature.
 * - Module-level code between declarations (imports, statements) is a `block` chunk.
 * - Neighbours of the same kind at the same level are merged while the merged chunk stays within
 *   `merge_lines` (a run of one-line types or constants becomes one chunk).
 */

export interface Chunk {
  kind: ChunkKind;
  /** The declaration's name; several joined by ", " after a merge; null for module-level code. */
  name: string | null;
  /** The enclosing declarations, outermost first, joined with "." (null at the top). */
  scope: string | null;
  /** 1-based, inclusive. */
  start: number;
  end: number;
  signature: string;
  doc: string;
  /** For a declaration split in parts: which part, of how many. */
  part: number | null;
  parts: number | null;
}

export interface CodeSymbol {
  kind: ChunkKind;
  name: string;
  scope: string | null;
  /** 1-based, inclusive: the declaration itself, without its doc comment. */
  start: number;
  end: number;
  signature: string;
  doc: string;
}

export interface ChunkedFile {
  chunks: Chunk[];
  symbols: CodeSymbol[];
  /** Syntax errors the parser recovered from (error and missing nodes). */
  errors: number;
}

type Sizes = Pick<ChunkSettings, 'max_lines' | 'merge_lines' | 'window_lines'>;

interface Decl {
  kind: ChunkKind;
  name: string | null;
  scope: string | null;
  signature: string;
  doc: string;
  /** 0-based rows: `start` includes the doc comment, `declStart` does not. */
  start: number;
  declStart: number;
  end: number;
  children: Decl[];
  /** Rows where the statements or members of its body start: where a long one may be cut. */
  splitPoints: number[];
}

const MAX_SIGNATURE = 240;
const MAX_DOC = 1000;

/** The last row a node covers; a node that ends at the start of a line ends on the line before. */
function endRow(node: SyntaxNode): number {
  const { row, column } = node.endPosition;
  return column === 0 && row > node.startPosition.row ? row - 1 : row;
}

const namedOf = (node: SyntaxNode): SyntaxNode[] => node.namedChildren.filter((c): c is SyntaxNode => c !== null);

/** Error and missing nodes in the tree (tree-sitter recovers from syntax errors and marks them). */
function countErrors(root: SyntaxNode): number {
  if (!root.hasError) return 0;
  let errors = 0;
  const stack: SyntaxNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as SyntaxNode;
    if (node.isError || node.isMissing) errors++;
    for (const child of node.children) if (child && (child.hasError || child.isMissing)) stack.push(child);
  }
  return errors;
}

/** Comment markers off, lines joined: what the comment says. */
export function cleanComment(text: string): string {
  const lines = text
    .replace(/^\s*\/\*+|\*+\/\s*$/gm, '')
    .split('\n')
    .map((line) => line.replace(/^\s*(?:\/\/+!?|#+|\*+(?!\/)|--)\s?/, '').trimEnd());
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').trim().slice(0, MAX_DOC);
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_SIGNATURE ? `${flat.slice(0, MAX_SIGNATURE - 1)}…` : flat;
}

/** Where the body of a declaration starts, when it has one (functions held by variables too). */
function bodyOf(node: SyntaxNode): SyntaxNode | null {
  const own = node.childForFieldName('body');
  if (own) return own;
  const value = node.childForFieldName('value') ?? namedOf(node).find((c) => c.type === 'variable_declarator')?.childForFieldName('value') ?? null;
  return value?.childForFieldName('body') ?? null;
}

const CLASS_LIKE: ReadonlySet<ChunkKind> = new Set(['class', 'interface', 'struct', 'impl', 'trait', 'enum']);

class Extractor {
  private readonly rules: LanguageRules;

  constructor(
    private readonly language: LanguageName,
    private readonly source: string,
    /** Only declarations longer than this are split: only theirs need split points. */
    private readonly maxLines: number,
  ) {
    this.rules = languageRules(language);
  }

  /** The declaration a node is, looking through wrappers (`export`, decorators, templates). */
  private declOf(node: SyntaxNode): { outer: SyntaxNode; inner: SyntaxNode; rule: DeclRule } | null {
    let inner = node;
    for (let depth = 0; depth < 3; depth++) {
      const unwrap = this.rules.wrappers[inner.type];
      if (!unwrap) break;
      const next = unwrap(inner);
      if (!next) return null;
      inner = next;
    }
    const rule = this.rules.decls[inner.type];
    if (!rule || (rule.when && !rule.when(inner))) return null;
    return { outer: node, inner, rule };
  }

  /**
   * The declarations under `parent`. At the top of a file only its direct children count (a
   * function call's callback is no declaration); inside a container, declarations may sit one
   * or two levels down (a class body, a namespace's block).
   */
  collect(parent: SyntaxNode, scope: string[], container: ChunkKind | null, depth: number): Decl[] {
    const found: Decl[] = [];
    for (const child of namedOf(parent)) {
      const decl = this.declOf(child);
      if (decl) found.push(this.makeDecl(decl.outer, decl.inner, decl.rule, scope, container));
      // What the parser could not place sits in ERROR nodes: the declarations in them still count.
      else if (child.type === 'ERROR') found.push(...this.collect(child, scope, container, depth));
      else if (depth > 0) found.push(...this.collect(child, scope, container, depth - 1));
    }
    return found;
  }

  private makeDecl(outer: SyntaxNode, inner: SyntaxNode, rule: DeclRule, scope: string[], container: ChunkKind | null): Decl {
    let kind = declKind(this.language, inner, rule);
    if (rule.methodInContainer && kind === 'function' && container && CLASS_LIKE.has(container)) kind = 'method';
    const name = (rule.name ? rule.name(inner) : inner.childForFieldName('name')?.text) ?? null;
    const ownScope = this.language === 'go' && inner.type === 'method_declaration' ? [goReceiver(inner)].filter((s): s is string => s !== null) : scope;
    const leading = this.leading(outer);
    const body = bodyOf(inner);
    const childScope = [...ownScope, name ?? '(anonymous)'];
    const children = CONTAINER_KINDS.has(kind) ? this.collect(inner, childScope, kind, 2) : [];
    const end = endRow(outer);
    const long = end - leading.start + 1 > this.maxLines;
    return {
      kind,
      name,
      scope: ownScope.length > 0 ? ownScope.join('.') : null,
      signature: this.signature(outer, inner, body),
      doc: (this.rules.docstring ? this.docstring(body) : null) ?? leading.doc,
      start: leading.start,
      declStart: outer.startPosition.row,
      end,
      children,
      splitPoints: long ? namedOf(body ?? inner).map((c) => c.startPosition.row) : [],
    };
  }

  /** The doc comment right above a declaration (no blank line between), and attributes with it. */
  private leading(outer: SyntaxNode): { start: number; doc: string } {
    let node = outer;
    let prev = node.previousSibling;
    // A declaration first in a body node (Ruby's body_statement) has its comment beside that node.
    while (!prev && node.parent?.parent && node.parent.startPosition.row === node.startPosition.row) {
      node = node.parent;
      prev = node.previousSibling;
    }
    let edge = outer.startPosition.row;
    const comments: string[] = [];
    while (prev && prev.isNamed && endRow(prev) >= edge - 1) {
      const before = prev.previousSibling;
      // A comment at the end of a line of code belongs to that code.
      const ownLine = !before || endRow(before) < prev.startPosition.row;
      if (this.rules.comments.has(prev.type) && ownLine && !prev.text.startsWith('#!')) comments.unshift(prev.text);
      else if (!this.rules.attached.has(prev.type) || !ownLine) break;
      edge = prev.startPosition.row;
      prev = before;
    }
    return { start: edge, doc: cleanComment(comments.join('\n')) };
  }

  private docstring(body: SyntaxNode | null): string | null {
    const first = body ? namedOf(body)[0] : undefined;
    const string = first?.type === 'expression_statement' ? namedOf(first)[0] : undefined;
    if (string?.type !== 'string') return null;
    return cleanComment(string.text.replace(/^[rRbBuUfF]*("""|'''|"|')/, '').replace(/("""|'''|"|')$/, '')) || null;
  }

  /** The declaration up to its body (a comment before the body, as Ruby allows, is not part of it). */
  private signature(outer: SyntaxNode, inner: SyntaxNode, body: SyntaxNode | null): string {
    const comment = namedOf(inner).find((c) => this.rules.comments.has(c.type) && (!body || c.startIndex < body.startIndex));
    const end = comment && comment.startIndex > outer.startIndex ? comment.startIndex : body?.startIndex;
    const text = end !== undefined && end > outer.startIndex ? this.source.slice(outer.startIndex, end) : this.source.slice(outer.startIndex, outer.endIndex).split('\n')[0] ?? '';
    return oneLine(text.replace(/\s*(?:\{|:|=>|=)?\s*$/, ''));
  }
}

/** Cut rows `start..end` into pieces of at most `max` rows, at the given rows where possible. */
export function splitRange(start: number, end: number, boundaries: readonly number[], max: number): [number, number][] {
  const cuts = [...new Set(boundaries)].filter((b) => b > start && b <= end).sort((a, b) => a - b);
  const pieces: [number, number][] = [];
  let current = start;
  let i = 0;
  while (end - current + 1 > max) {
    let cut = -1;
    while (i < cuts.length && (cuts[i] as number) - current <= max) {
      if ((cuts[i] as number) > current) cut = cuts[i] as number;
      i++;
    }
    if (cut <= current) cut = current + max; // no boundary within reach: a plain window
    pieces.push([current, cut - 1]);
    current = cut;
  }
  pieces.push([current, end]);
  return pieces;
}

class Assembler {
  constructor(
    private readonly lines: readonly string[],
    private readonly sizes: Sizes,
  ) {}

  /** Whether rows `start..end` hold no word at all (blank lines, a closing brace). */
  private wordless(start: number, end: number): boolean {
    for (let row = start; row <= end; row++) if (/\w/.test(this.lines[row] ?? '')) return false;
    return true;
  }

  /** Rows `start..end` without the blank lines at either end, or null when nothing is left. */
  private trim(start: number, end: number): [number, number] | null {
    let s = start;
    let e = end;
    while (s <= e && (this.lines[s] ?? '').trim() === '') s++;
    while (e >= s && (this.lines[e] ?? '').trim() === '') e--;
    return s <= e ? [s, e] : null;
  }

  private parted(kind: ChunkKind, name: string | null, scope: string | null, signature: string, doc: string, ranges: [number, number][]): Chunk[] {
    return ranges.map(([s, e], i) => ({
      kind,
      name,
      scope,
      start: s + 1,
      end: e + 1,
      signature,
      doc: i === 0 ? doc : '',
      part: ranges.length > 1 ? i + 1 : null,
      parts: ranges.length > 1 ? ranges.length : null,
    }));
  }

  /**
   * One level: its declarations in order, the code between them (as the container's own chunk
   * before the first child, as blocks elsewhere), then small neighbours merged.
   */
  level(decls: readonly Decl[], span: [number, number], scope: string | null, boundaries: readonly number[], head: Decl | null): Chunk[] {
    const pieces: Chunk[] = [];
    let cursor = span[0];
    const gap = (from: number, to: number, first: boolean) => {
      const rows = this.trim(from, to);
      if (!rows || this.wordless(rows[0], rows[1])) return;
      const ranges = splitRange(rows[0], rows[1], boundaries, this.sizes.max_lines);
      if (first && head) pieces.push(...this.parted(head.kind, head.name, head.scope, head.signature, head.doc, ranges));
      else pieces.push(...this.parted('block', null, scope, head?.signature ?? '', '', ranges));
    };
    for (const decl of decls) {
      if (decl.start > cursor) gap(cursor, decl.start - 1, cursor === span[0]);
      pieces.push(...this.decl(decl));
      cursor = Math.max(cursor, decl.end + 1);
    }
    if (cursor <= span[1]) gap(cursor, span[1], cursor === span[0]);
    return this.merge(pieces);
  }

  decl(decl: Decl): Chunk[] {
    if (decl.end - decl.start + 1 <= this.sizes.max_lines) return this.parted(decl.kind, decl.name, decl.scope, decl.signature, decl.doc, [[decl.start, decl.end]]);
    if (decl.children.length > 0) {
      const scope = [decl.scope, decl.name ?? '(anonymous)'].filter((s) => s !== null).join('.');
      return this.level(decl.children, [decl.start, decl.end], scope, decl.splitPoints, decl);
    }
    return this.parted(decl.kind, decl.name, decl.scope, decl.signature, decl.doc, splitRange(decl.start, decl.end, decl.splitPoints, this.sizes.max_lines));
  }

  /** Neighbours of one scope merged while the merged chunk spans at most `merge_lines` lines. */
  merge(pieces: readonly Chunk[]): Chunk[] {
    const out: Chunk[] = [];
    let group: Chunk[] = [];
    const flush = () => {
      if (group.length === 1) out.push(group[0] as Chunk);
      else if (group.length > 1) {
        const first = group[0] as Chunk;
        const last = group[group.length - 1] as Chunk;
        const names = group.map((c) => c.name).filter((n): n is string => n !== null);
        out.push({
          kind: first.kind,
          name: names.length > 0 ? names.join(', ') : null,
          scope: first.scope,
          start: first.start,
          end: last.end,
          signature: group.map((c) => c.signature).filter((s) => s !== '').join('; ').slice(0, MAX_SIGNATURE),
          doc: group.map((c) => c.doc).filter((d) => d !== '').join('\n').slice(0, MAX_DOC),
          part: null,
          parts: null,
        });
      }
      group = [];
    };
    for (const piece of pieces) {
      const first = group[0];
      // Only chunks of one kind merge (one-line types, constants, small helpers): a function is
      // not folded into the imports above it, nor a class into the function before it.
      const fits = first !== undefined && piece.part === null && first.part === null && piece.kind === first.kind && piece.scope === first.scope && piece.end - first.start + 1 <= this.sizes.merge_lines;
      if (!fits) flush();
      group.push(piece);
    }
    flush();
    return out;
  }
}

function symbolsOf(decls: readonly Decl[], into: CodeSymbol[]): CodeSymbol[] {
  for (const d of decls) {
    if (d.name !== null) into.push({ kind: d.kind, name: d.name, scope: d.scope, start: d.declStart + 1, end: d.end + 1, signature: d.signature, doc: d.doc });
    symbolsOf(d.children, into);
  }
  return into;
}

/** Chunks and symbols of a parsed file. */
export function chunkTree(language: LanguageName, root: SyntaxNode, source: string, sizes: Sizes): ChunkedFile {
  const lines = source.split('\n');
  const decls = new Extractor(language, source, sizes.max_lines).collect(root, [], null, 0);
  const lastRow = Math.max(0, lines.length - (lines[lines.length - 1] === '' ? 2 : 1));
  const topLevelRows = namedOf(root).map((c) => c.startPosition.row);
  const chunks = new Assembler(lines, sizes).level(decls, [0, lastRow], null, topLevelRows, null);
  return { chunks, symbols: symbolsOf(decls, []), errors: countErrors(root) };
}

/** A file no grammar reads: windows of `window_lines` lines, marked as such. */
export function lineWindows(source: string, sizes: Sizes): Chunk[] {
  const lines = source.split('\n');
  const lastRow = lines.length - (lines[lines.length - 1] === '' ? 2 : 1);
  if (lastRow < 0) return [];
  return splitRange(0, lastRow, [], sizes.window_lines)
    .filter(([s, e]) => lines.slice(s, e + 1).some((l) => l.trim() !== ''))
    .map(([s, e]) => ({ kind: 'window', name: null, scope: null, start: s + 1, end: e + 1, signature: '', doc: '', part: null, parts: null }));
}

/**
 * A minified or generated one-line file: very long lines and few of them. Its "chunks" would be
 * one line of thousands of characters, useless to a reader and a flood in the index.
 */
export function looksMinified(source: string): boolean {
  if (source.length < 4096) return false;
  let lines = 1;
  let longest = 0;
  let start = 0;
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) {
    lines++;
    longest = Math.max(longest, i - start);
    start = i + 1;
  }
  longest = Math.max(longest, source.length - start);
  return longest > 2000 && source.length / lines > 300;
}
