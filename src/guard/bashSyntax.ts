import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Language, type Node, Parser } from 'web-tree-sitter';
import type { ParsedScript, ScriptPart, Word } from '../core/commandGuard.js';
import { AgenceError } from '../core/errors.js';

/**
 * Bash as bash parses it: the tree-sitter bash grammar (wasm) turned into the simple commands the
 * guard classifies. This module is imported only by the guard's commands (a static import, so
 * the bundle requires the vendored runtime rather than import() it), and the wasm is compiled on
 * first use.
 */

let ready: Promise<Parser> | null = null;

/** The wasm files: next to the bundle in dist/vendor/ (copied by the build), else in node_modules. */
function wasmFile(name: string, packagePath: string): string {
  const bundled = join(import.meta.dirname, 'vendor', name);
  if (existsSync(bundled)) return bundled;
  try {
    return createRequire(import.meta.filename).resolve(packagePath);
  } catch (cause) {
    throw new AgenceError('dependency', `the bash grammar for the guard (${name}) is missing`, { cause, fix: 'reinstall agence (npm install), or run `npm run build`' });
  }
}

/**
 * V8 runs the grammar at its baseline tier only (Liftoff): otherwise it recompiles the grammar
 * with TurboFan, and a one-command run waits half a second for work it never uses. Parsing a
 * command line stays far below a millisecond. The flag is on only while the grammar is compiled
 * or runs: V8's code caches carry a hash of the flags, and a cache written at exit with the flag
 * still set (app.cjs's, the command bundle's) would be rejected, and rewritten, by every later
 * start. Turning it off takes back what it implied too, so the hash is again the one a start has.
 */
const BASELINE_ONLY = '--liftoff-only';
const V8_DEFAULTS = '--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering';

export function bashParser(): Promise<Parser> {
  ready ??= (async () => {
    setFlagsFromString(BASELINE_ONLY);
    try {
      // The bytes, not a path: given a path, the runtime reads it with a dynamic import() that a
      // module compiled through the V8 code cache (compileCache.ts) cannot make.
      await Parser.init({ wasmBinary: readFileSync(wasmFile('tree-sitter.wasm', 'web-tree-sitter/tree-sitter.wasm')) } as object);
      const language = await Language.load(readFileSync(wasmFile('tree-sitter-bash.wasm', 'tree-sitter-bash/tree-sitter-bash.wasm')));
      const parser = new Parser();
      parser.setLanguage(language);
      return parser;
    } catch (cause) {
      if (cause instanceof AgenceError) throw cause;
      throw new AgenceError('dependency', `the bash parser of the guard failed to load (${(cause as Error).message})`, { cause, fix: 'reinstall agence (npm install)' });
    } finally {
      setFlagsFromString(V8_DEFAULTS);
    }
  })();
  return ready;
}

/**
 * Bash removes backslash-newline before it splits words (outside single quotes), so `r\<newline>m`
 * is `rm`; the grammar treats it as a blank between two words. Remove it first, as bash does.
 */
export function joinContinuations(script: string): string {
  if (!script.includes('\\\n')) return script;
  let out = '';
  let quoted = false;
  let doubleQuoted = false;
  for (let i = 0; i < script.length; i += 1) {
    const c = script[i] as string;
    if (c === "'" && !doubleQuoted) quoted = !quoted;
    else if (c === '"' && !quoted) doubleQuoted = !doubleQuoted;
    else if (c === '\\' && !quoted) {
      if (script[i + 1] === '\n') {
        i += 1;
        continue;
      }
      out += c + (script[i + 1] ?? '');
      i += 1;
      continue;
    }
    out += c;
  }
  return out;
}

/** Parse a command line into the parts the guard classifies. */
export function parseScript(parser: Parser, script: string): ParsedScript {
  setFlagsFromString(BASELINE_ONLY);
  try {
    return readScript(parser, script);
  } finally {
    setFlagsFromString(V8_DEFAULTS);
  }
}

function readScript(parser: Parser, script: string): ParsedScript {
  const tree = parser.parse(joinContinuations(script));
  if (!tree) return { parts: [], error: 'the parser gave up' };
  try {
    const walker = new Walker();
    walker.walk(tree.rootNode);
    return { parts: walker.parts, error: tree.rootNode.hasError ? describeError(tree.rootNode) : null };
  } finally {
    tree.delete();
  }
}

function describeError(root: Node): string {
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (node.isError || node.isMissing) {
      const at = `line ${node.startPosition.row + 1}, column ${node.startPosition.column + 1}`;
      return node.isMissing ? `missing ${node.type} at ${at}` : `unexpected ${JSON.stringify(node.text.slice(0, 20))} at ${at}`;
    }
    for (let i = node.childCount - 1; i >= 0; i -= 1) {
      const child = node.child(i);
      if (child?.hasError || child?.isMissing) stack.push(child);
    }
  }
  return 'syntax error';
}

const named = (node: Node): Node[] => node.namedChildren.filter((c): c is Node => c !== null);

function unescapeWord(raw: string): string {
  return raw.replace(/\\\n/g, '').replace(/\\(.)/gs, '$1');
}

function unescapeDoubleQuoted(raw: string): string {
  return raw.replace(/\\\n/g, '').replace(/\\([$`"\\])/g, '$1');
}

/** $'...' strings: bash's escapes, so `$'\x72\x6d'` is `rm`. */
function decodeAnsiC(body: string): string {
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };
  return body.replace(/\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)/gs, (_, esc: string) => {
    if (/^[xuU]/.test(esc)) return String.fromCodePoint(Number.parseInt(esc.slice(1), 16));
    if (/^[0-7]/.test(esc)) return String.fromCharCode(Number.parseInt(esc, 8));
    if (esc.startsWith('c')) return String.fromCharCode((esc.charCodeAt(1) ?? 64) & 31);
    return simple[esc] ?? `\\${esc}`;
  });
}

const GLOB = /(^|[^\\])[*?[]/;

class Walker {
  readonly parts: ScriptPart[] = [];
  /** Variables assigned a static value earlier in the line: `x=rm; $x -rf /` is still rm. */
  private readonly vars = new Map<string, string>();

  walk(node: Node): void {
    switch (node.type) {
      case 'command':
        return this.command(node);
      case 'redirected_statement':
        return this.redirected(node);
      case 'variable_assignment':
        return this.assignmentStatement(node);
      case 'declaration_command':
      case 'unset_command':
        return this.declaration(node);
      case 'file_redirect':
        return this.looseRedirect(node);
      case 'test_command':
        named(node).forEach((c) => this.walk(c));
        this.parts.push({ text: node.text, words: [{ text: node.child(0)?.type === '[[' ? '[[' : '[', dynamic: false }], assignments: [], redirects: [], stdin: null });
        return;
      case 'for_statement':
        for (const v of node.childrenForFieldName('variable')) if (v) this.vars.delete(v.text);
        named(node).forEach((c) => this.walk(c));
        return;
      default:
        named(node).forEach((c) => this.walk(c));
    }
  }

  private word(node: Node): Word {
    switch (node.type) {
      case 'word': {
        const glob = GLOB.test(node.text);
        return { text: unescapeWord(node.text), dynamic: false, ...(glob ? { glob } : {}) };
      }
      case 'number':
        return { text: node.text, dynamic: false };
      case 'raw_string':
        return { text: node.text.slice(1, -1), dynamic: false };
      case 'ansi_c_string':
        return { text: decodeAnsiC(node.text.slice(2, -1)), dynamic: false };
      case 'translated_string':
      case 'string':
        return this.join(named(node), unescapeDoubleQuoted, node.type === 'string' ? node.childCount <= 2 : false);
      case 'concatenation': {
        if (/^\{[^{}]*[,.][^{}]*\}/.test(node.text) || node.text.includes('{') && node.text.includes(',')) return { text: node.text, dynamic: true };
        return this.join(named(node), unescapeWord, false);
      }
      case 'simple_expansion':
      case 'expansion': {
        const inner = named(node);
        const only = inner.length === 1 ? inner[0] : undefined;
        const value = only?.type === 'variable_name' ? this.vars.get(only.text) : undefined;
        return value === undefined ? { text: node.text, dynamic: true } : { text: value, dynamic: false, viaVariable: true };
      }
      default:
        return { text: node.text, dynamic: true };
    }
  }

  private join(nodes: Node[], unescape: (raw: string) => string, empty: boolean): Word {
    if (empty && nodes.length === 0) return { text: '', dynamic: false };
    let text = '';
    let dynamic = false;
    let viaVariable = false;
    let glob = false;
    for (const n of nodes) {
      if (n.type === 'string_content') {
        text += unescape(n.text);
        continue;
      }
      const w = this.word(n);
      text += w.text;
      dynamic ||= w.dynamic;
      viaVariable ||= w.viaVariable ?? false;
      glob ||= w.glob ?? false;
    }
    return { text, dynamic, ...(viaVariable ? { viaVariable } : {}), ...(glob ? { glob } : {}) };
  }

  /** Substitutions inside words run too: walk into them. */
  private walkInside(node: Node): void {
    for (const child of named(node)) {
      if (child.type === 'command_substitution' || child.type === 'process_substitution') named(child).forEach((c) => this.walk(c));
      else this.walkInside(child);
    }
  }

  private command(node: Node): void {
    const part: ScriptPart = { text: node.text, words: [], assignments: [], redirects: [], stdin: null };
    for (let i = 0; i < node.childCount; i += 1) {
      const child = node.child(i);
      if (!child || !child.isNamed) continue;
      const field = node.fieldNameForChild(i);
      if (child.type === 'variable_assignment') {
        this.walkInside(child);
        part.assignments.push(this.assignment(child));
      } else if (field === 'redirect' || child.type.endsWith('_redirect')) {
        this.redirect(child, part);
      } else if (child.type === 'command_name') {
        const inner = named(child)[0];
        if (inner) {
          this.walkInside(child);
          if (inner.type === 'command_substitution' || inner.type === 'process_substitution') named(inner).forEach((c) => this.walk(c));
          part.words.push(this.word(inner));
        }
      } else {
        if (child.type === 'command_substitution' || child.type === 'process_substitution') named(child).forEach((c) => this.walk(c));
        else this.walkInside(child);
        part.words.push(this.word(child));
      }
    }
    this.parts.push(part);
  }

  private assignment(node: Node): { name: string; value: Word } {
    const name = node.childForFieldName('name')?.text ?? '';
    const value = node.childForFieldName('value');
    return { name, value: value ? this.word(value) : { text: '', dynamic: false } };
  }

  private assignmentStatement(node: Node): void {
    this.walkInside(node);
    const a = this.assignment(node);
    if (a.value.dynamic) this.vars.delete(a.name);
    else this.vars.set(a.name, a.value.text);
    this.parts.push({ text: node.text, words: [], assignments: [a], redirects: [], stdin: null });
  }

  private declaration(node: Node): void {
    const part: ScriptPart = { text: node.text, words: [{ text: node.child(0)?.type ?? 'declare', dynamic: false }], assignments: [], redirects: [], stdin: null };
    for (const child of named(node)) {
      this.walkInside(child);
      if (child.type === 'variable_assignment') {
        const a = this.assignment(child);
        part.assignments.push(a);
        if (a.value.dynamic) this.vars.delete(a.name);
        else this.vars.set(a.name, a.value.text);
      } else part.words.push(this.word(child));
    }
    this.parts.push(part);
  }

  /** `arguments`: where words after the target go (the grammar hangs them on the redirect). */
  private redirect(node: Node, part: ScriptPart, args: Word[] = part.words): void {
    this.walkInside(node);
    if (node.type === 'file_redirect') {
      const op = node.children.find((c) => c && !c.isNamed)?.type ?? '>';
      const destinations = node.childrenForFieldName('destination').filter((d): d is Node => d !== null);
      const [destination = named(node).at(-1), ...rest] = destinations;
      if (destination && destination.type !== 'file_descriptor') part.redirects.push({ op, target: this.word(destination) });
      // bash takes one word as the target; the words after it are the command's arguments
      // (`cat > /dev/null .git/config` reads .git/config).
      for (const word of rest) args.push(this.word(word));
    } else if (node.type === 'herestring_redirect') {
      const value = named(node)[0];
      if (value) part.stdin = this.word(value).text;
    } else if (node.type === 'heredoc_redirect') {
      const body = named(node).find((c) => c.type === 'heredoc_body');
      part.stdin = body?.text ?? '';
      for (const nested of named(node)) if (nested.type === 'file_redirect') this.redirect(nested, part);
    }
  }

  private redirected(node: Node): void {
    const body = node.childForFieldName('body');
    const first = this.parts.length;
    if (body) this.walk(body);
    const own: ScriptPart = { text: node.text, words: [], assignments: [], redirects: [], stdin: null };
    const command = body?.type === 'command' ? this.parts.slice(first).find((p) => p.text === body.text) : undefined;
    const args = command?.words ?? [];
    for (const child of named(node)) if (child !== body && child.id !== body?.id) this.redirect(child, own, args);
    if (!command && args.length > 0) this.parts.push({ text: node.text, words: args, assignments: [], redirects: [], stdin: null });
    if (own.stdin !== null) for (const part of this.parts.slice(first)) part.stdin ??= own.stdin;
    if (own.redirects.length > 0) this.parts.push(own);
  }

  private looseRedirect(node: Node): void {
    const own: ScriptPart = { text: node.parent?.text ?? node.text, words: [], assignments: [], redirects: [], stdin: null };
    this.redirect(node, own);
    if (own.redirects.length > 0) this.parts.push(own);
  }
}
