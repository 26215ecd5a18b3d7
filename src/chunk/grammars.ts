import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Language, Parser } from 'web-tree-sitter';
import type { LanguageName, SyntaxNode } from '../core/chunkLanguages.js';
import { AgenceError } from '../core/errors.js';

/**
 * tree-sitter and its grammars, compiled on first use. This module is imported only by the code
 * index (a static import, so the bundle requires the vendored runtime rather than import() it).
 * The grammars are the prebuilt wasm files of `@cursorless/tree-sitter-wasms`, copied next to the
 * bundle by the build (dist/vendor/grammars/), else found in node_modules.
 */

/** Grammar file per language (TypeScript and TSX are two grammars of one package). */
const GRAMMAR_FILES: Record<LanguageName, string> = {
  typescript: 'tree-sitter-typescript.wasm',
  tsx: 'tree-sitter-tsx.wasm',
  javascript: 'tree-sitter-javascript.wasm',
  python: 'tree-sitter-python.wasm',
  go: 'tree-sitter-go.wasm',
  rust: 'tree-sitter-rust.wasm',
  java: 'tree-sitter-java.wasm',
  c: 'tree-sitter-c.wasm',
  cpp: 'tree-sitter-cpp.wasm',
  ruby: 'tree-sitter-ruby.wasm',
  bash: 'tree-sitter-bash.wasm',
  markdown: 'tree-sitter-markdown.wasm',
};

const require = createRequire(import.meta.filename);

function resolveFile(bundled: string, packagePath: string, what: string): string {
  if (existsSync(bundled)) return bundled;
  try {
    return require.resolve(packagePath);
  } catch (cause) {
    throw new AgenceError('dependency', `${what} is missing (neither ${bundled} nor ${packagePath})`, { cause, fix: 'reinstall agence (npm install), or run `npm run build`' });
  }
}

function grammarFile(language: LanguageName): string {
  const name = GRAMMAR_FILES[language];
  return resolveFile(join(import.meta.dirname, 'vendor', 'grammars', name), `@cursorless/tree-sitter-wasms/out/${name}`, `the ${language} grammar (${name})`);
}

let runtime: Promise<void> | null = null;

function initRuntime(): Promise<void> {
  runtime ??= (async () => {
    const file = resolveFile(join(import.meta.dirname, 'vendor', 'tree-sitter.wasm'), 'web-tree-sitter/tree-sitter.wasm', 'the tree-sitter runtime (tree-sitter.wasm)');
    try {
      // The bytes, not a path: given a path, the runtime reads it with a dynamic import() that a
      // module compiled through the V8 code cache (compileCache.ts) cannot make.
      await Parser.init({ wasmBinary: readFileSync(file) } as object);
    } catch (cause) {
      throw new AgenceError('dependency', `the tree-sitter runtime failed to load (${(cause as Error).message})`, { cause, fix: 'reinstall agence (npm install)' });
    }
  })();
  return runtime;
}

export interface CodeParser {
  /** Parse a file; the tree's root is handed to `use`, and the tree freed afterwards. */
  parse<T>(source: string, use: (root: SyntaxNode) => T): T;
}

const parsers = new Map<LanguageName, Promise<CodeParser>>();

/**
 * The parser of one language. A grammar that fails to load rejects with an AgenceError naming it
 * (the caller indexes the other languages and reports this one).
 */
export function parserFor(language: LanguageName): Promise<CodeParser> {
  let parser = parsers.get(language);
  if (!parser) {
    parser = (async () => {
      await initRuntime();
      const file = grammarFile(language);
      let grammar: Language;
      try {
        grammar = await Language.load(readFileSync(file));
      } catch (cause) {
        throw new AgenceError('dependency', `the ${language} grammar (${file}) failed to load: ${(cause as Error).message}`, { cause, fix: 'reinstall agence (npm install), or run `npm run build`' });
      }
      const tsParser = new Parser();
      tsParser.setLanguage(grammar);
      return {
        parse<T>(source: string, use: (root: SyntaxNode) => T): T {
          const tree = tsParser.parse(source);
          if (!tree) throw new AgenceError('corrupt', `the ${language} parser gave up`);
          try {
            return use(tree.rootNode as unknown as SyntaxNode);
          } finally {
            tree.delete();
          }
        },
      };
    })();
    parsers.set(language, parser);
  }
  return parser;
}
