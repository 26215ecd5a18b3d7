import { describe, expect, it } from 'vitest';
import { bestLine, codeQueryWords } from '../../src/chunk/codeRecall.js';
import { parserFor } from '../../src/chunk/grammars.js';
import { formatChunkExport, parseChunkExport } from '../../src/core/chunkExport.js';
import { type ChunkedFile, chunkTree, cleanComment, lineWindows, looksMinified, splitRange } from '../../src/core/chunker.js';
import { type LanguageName, languageOf } from '../../src/core/chunkLanguages.js';
import { ChunkSettingsSchema, globToRegExp, hasBinaryExtension, selectsPath } from '../../src/core/chunkSettings.js';
import { expandIdentifiers, identifierIndex, identifierParts } from '../../src/core/identifiers.js';

/** The chunk rules over real parse trees of the real grammars (the wasm files agence ships). */

const NO_MERGE = { max_lines: 150, merge_lines: 0, window_lines: 60 };

async function chunk(language: LanguageName, source: string, sizes = NO_MERGE): Promise<ChunkedFile> {
  const parser = await parserFor(language);
  return parser.parse(source, (root) => chunkTree(language, root, source, sizes));
}

const boundaries = (f: ChunkedFile) => f.chunks.map((c) => `${c.start}-${c.end} ${c.kind} ${c.name ?? '-'}`);
const symbols = (f: ChunkedFile) => f.symbols.map((s) => `${s.kind} ${s.scope ? `${s.scope}.` : ''}${s.name} ${s.start}-${s.end}`);

describe('chunk boundaries per language', () => {
  it('TypeScript: exports, classes with methods, interfaces, types, enums, namespaces, arrow functions, doc comments', async () => {
    const f = await chunk(
      'typescript',
      `import { x } from './x';
/** Exchange the refresh token for a new access token. */
export async function refreshToken(a: string): Promise<void> {
  return;
}
export const handler = async (req: Req) => { return 1; };
export class Auth<T> extends Base {
  private n = 1;
  /** Logs in. */
  async login(user: string): Promise<boolean> { return true; }
}
export interface Opts { a: string; m(): void }
export type Id = string;
enum Color { Red }
namespace NS { export function inner() {} }
export const LIMIT = 10;
`,
    );
    expect(boundaries(f)).toEqual([
      '1-1 block -',
      '2-5 function refreshToken',
      '6-6 function handler',
      '7-11 class Auth',
      '12-12 interface Opts',
      '13-13 type Id',
      '14-14 enum Color',
      '15-15 namespace NS',
      '16-16 constant LIMIT',
    ]);
    expect(symbols(f)).toEqual([
      'function refreshToken 3-5',
      'function handler 6-6',
      'class Auth 7-11',
      'method Auth.login 10-10',
      'interface Opts 12-12',
      'method Opts.m 12-12',
      'type Id 13-13',
      'enum Color 14-14',
      'namespace NS 15-15',
      'function NS.inner 15-15',
      'constant LIMIT 16-16',
    ]);
    const refresh = f.chunks[1];
    expect(refresh?.signature).toBe('export async function refreshToken(a: string): Promise<void>');
    expect(refresh?.doc).toBe('Exchange the refresh token for a new access token.');
    expect(f.symbols.find((s) => s.name === 'login')?.doc).toBe('Logs in.');
    expect(f.errors).toBe(0);
  });

  it('TSX and JavaScript', async () => {
    const tsx = await chunk('tsx', `export function App(): JSX.Element {\n  return <div className="a">hi</div>;\n}\n`);
    expect(boundaries(tsx)).toEqual(['1-3 function App']);
    const js = await chunk('javascript', `const f = function named() {};\nfunction* gen() {}\nclass C { m() {} static s = () => 1; }\nmodule.exports = { f };\n`);
    expect(boundaries(js)).toEqual(['1-1 function f', '2-2 function gen', '3-3 class C', '4-4 block -']);
    expect(symbols(js)).toContain('method C.s 3-3');
  });

  it('Python: docstrings, decorators, methods', async () => {
    const f = await chunk('python', `import os\n\ndef top(a, b=1):\n    """Add things up."""\n    return a\n\n@decorator\nclass K(Base):\n    """A class."""\n    def m(self):\n        pass\n`);
    expect(boundaries(f)).toEqual(['1-1 block -', '3-5 function top', '7-11 class K']);
    expect(symbols(f)).toEqual(['function top 3-5', 'class K 7-11', 'method K.m 10-11']);
    expect(f.chunks[1]?.doc).toBe('Add things up.');
    expect(f.chunks[2]?.signature).toBe('@decorator class K(Base)');
  });

  it('Go: structs, interfaces, methods scoped to their receiver', async () => {
    const f = await chunk('go', `package main\n\n// Server serves.\ntype Server struct {\n\taddr string\n}\n\ntype Handler interface { Serve() }\n\n// Start starts.\nfunc (s *Server) Start() error {\n\treturn nil\n}\n`);
    expect(boundaries(f)).toEqual(['1-1 block -', '3-6 struct Server', '8-8 interface Handler', '10-13 method Start']);
    expect(symbols(f)).toEqual(['struct Server 4-6', 'interface Handler 8-8', 'method Server.Start 11-13']);
    expect(f.chunks[3]?.doc).toBe('Start starts.');
  });

  it('Rust: doc comments with attributes, impl blocks, traits, modules', async () => {
    const f = await chunk('rust', `/// A point.\n#[derive(Debug)]\npub struct Point { x: i32 }\nimpl Display for Point {\n    fn fmt(&self) -> i32 { 1 }\n}\npub trait T { fn t(&self); }\nmod inner { pub fn f() {} }\n`);
    expect(boundaries(f)).toEqual(['1-3 struct Point', '4-6 impl Display for Point', '7-7 trait T', '8-8 module inner']);
    expect(symbols(f)).toEqual(['struct Point 3-3', 'impl Display for Point 4-6', 'method Display for Point.fmt 5-5', 'trait T 7-7', 'method T.t 7-7', 'module inner 8-8', 'function inner.f 8-8']);
    expect(f.chunks[0]?.doc).toBe('A point.');
  });

  it('Java: classes, constructors, nested types', async () => {
    const f = await chunk('java', `package a;\n/** The A. */\npublic class A extends B {\n  private int x;\n  public A() {}\n  public String toString() { return ""; }\n  interface I { void f(); }\n}\n`);
    expect(boundaries(f)).toEqual(['1-1 block -', '2-8 class A']);
    expect(symbols(f)).toEqual(['class A 3-8', 'method A.A 5-5', 'method A.toString 6-6', 'interface A.I 7-7', 'method A.I.f 7-7']);
  });

  it('C and C++: declarators, structs, typedefs, namespaces, classes, templates', async () => {
    const c = await chunk('c', `#include <stdio.h>\n/* Adds. */\nstatic int add(int a, int b) { return a + b; }\nstruct point { int x; };\ntypedef struct { int y; } pt;\nchar *name(void) { return 0; }\n`);
    expect(boundaries(c)).toEqual(['1-1 block -', '2-3 function add', '4-4 struct point', '5-5 type pt', '6-6 function name']);
    const cpp = await chunk('cpp', `namespace ns {\nclass Foo : public Bar {\n public:\n  int get() const { return 1; }\n};\nvoid Foo::set(int v) {}\ntemplate <typename T> T max(T a, T b) { return a; }\n}\n`);
    expect(boundaries(cpp)).toEqual(['1-8 namespace ns']);
    expect(symbols(cpp)).toEqual(['namespace ns 1-8', 'class ns.Foo 2-5', 'method ns.Foo.get 4-4', 'function ns.Foo::set 6-6', 'function ns.max 7-7']);
  });

  it('Ruby and Bash', async () => {
    const rb = await chunk('ruby', `# A module.\nmodule M\n  # The K.\n  class K < Base\n    def initialize(a)\n      @a = a\n    end\n    def self.make; end\n  end\nend\n`);
    expect(boundaries(rb)).toEqual(['1-10 module M']);
    expect(symbols(rb)).toEqual(['module M 2-10', 'class M.K 4-9', 'method M.K.initialize 5-7', 'method M.K.self.make 8-8']);
    expect(rb.chunks[0]?.signature).toBe('module M');
    expect(rb.symbols[1]?.doc).toBe('The K.');
    const sh = await chunk('bash', `#!/bin/bash\n# Greets.\ngreet() {\n  echo hi\n}\necho main\n`);
    expect(boundaries(sh)).toEqual(['1-1 block -', '2-5 function greet', '6-6 block -']);
    expect(sh.chunks[1]?.doc).toBe('Greets.');
  });

  it('Markdown: sections by heading, nested', async () => {
    const f = await chunk('markdown', `# Title\n\nIntro.\n\n## Install\n\nRun it.\n\n## Use\n\ntext\n`);
    expect(boundaries(f)).toEqual(['1-11 section Title']);
    expect(symbols(f)).toEqual(['section Title 1-11', 'section Title.Install 5-8', 'section Title.Use 9-11']);
  });
});

describe('splitting and merging', () => {
  it('an overlong class is split at its methods, its own lines keep its signature', async () => {
    const method = (n: number) => `  m${n}(): number {\n${'    x++;\n'.repeat(8)}    return ${n};\n  }\n`;
    const source = `export class Big {\n  private x = 0;\n${[1, 2, 3, 4].map(method).join('')}}\n`;
    const f = await chunk('typescript', source, { max_lines: 20, merge_lines: 0, window_lines: 60 });
    expect(boundaries(f)).toEqual(['1-2 class Big', '3-13 method m1', '14-24 method m2', '25-35 method m3', '36-46 method m4']);
    expect(f.chunks[0]?.signature).toBe('export class Big');
    expect(f.chunks.slice(1).every((c) => c.scope === 'Big')).toBe(true);
  });

  it('an overlong function is split at its statements, every part keeping its name and signature', async () => {
    const body = Array.from({ length: 30 }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const f = await chunk('typescript', `function long(a: number): number {\n${body}\n  return a;\n}\n`, { max_lines: 12, merge_lines: 0, window_lines: 60 });
    expect(f.chunks.length).toBe(3);
    expect(f.chunks.map((c) => [c.start, c.end, c.part, c.parts])).toEqual([
      [1, 12, 1, 3],
      [13, 24, 2, 3],
      [25, 33, 3, 3],
    ]);
    expect(new Set(f.chunks.map((c) => `${c.name} ${c.signature}`))).toEqual(new Set(['long function long(a: number): number']));
  });

  it('small neighbours of one kind are merged up to the target, others stay alone', async () => {
    const source = `import { x } from 'x';\ntype A = 1;\ntype B = 2;\ntype C = 3;\nfunction c() {\n  return 3;\n}\nfunction d() {\n  return 4;\n}\n\nfunction big() {\n${'  x();\n'.repeat(12)}}\n`;
    const f = await chunk('typescript', source, { max_lines: 150, merge_lines: 8, window_lines: 60 });
    expect(boundaries(f)).toEqual(['1-1 block -', '2-4 type A, B, C', '5-10 function c, d', '12-25 function big']);
  });

  it('splitRange cuts at boundaries within reach, else in windows', () => {
    expect(splitRange(0, 9, [], 4)).toEqual([
      [0, 3],
      [4, 7],
      [8, 9],
    ]);
    expect(splitRange(0, 9, [3, 6], 5)).toEqual([
      [0, 2],
      [3, 5],
      [6, 9],
    ]);
  });

  it('files without a grammar fall back to line windows', () => {
    const text = Array.from({ length: 130 }, (_, i) => `line ${i}`).join('\n');
    expect(lineWindows(text, NO_MERGE).map((c) => [c.kind, c.start, c.end])).toEqual([
      ['window', 1, 60],
      ['window', 61, 120],
      ['window', 121, 130],
    ]);
  });
});

describe('bad input in the chunker', () => {
  it('syntax errors: what parses is chunked, the error nodes are counted', async () => {
    const f = await chunk('typescript', `function ok(): number {\n  return 1;\n}\nfunction broken( {\n  let = ;\n}\nfunction after(): void {}\n`);
    expect(f.errors).toBeGreaterThan(0);
    expect(f.symbols.map((s) => s.name)).toContain('ok');
    expect(f.symbols.map((s) => s.name)).toContain('after');
  });

  it('minified one-line files are recognised', () => {
    expect(looksMinified(`var a=1;${'function f(){return 1};'.repeat(500)}`)).toBe(true);
    expect(looksMinified(`const a = 1;\n${'x();\n'.repeat(2000)}`)).toBe(false);
  });
});

describe('identifier-aware tokenisation', () => {
  it('splits camelCase, PascalCase, snake_case, acronyms and digits', () => {
    expect(identifierParts('refreshToken')).toEqual(['refresh', 'token']);
    expect(identifierParts('refresh_token')).toEqual(['refresh', 'token']);
    expect(identifierParts('parseHTTPResponse2')).toEqual(['parse', 'http', 'response', '2']);
    expect(identifierParts('XMLHttpRequest')).toEqual(['xml', 'http', 'request']);
    expect(identifierParts('__init__')).toEqual(['init']);
  });

  it('expands compound identifiers with their parts and their concatenation, leaves words alone', () => {
    expect(expandIdentifiers('refreshToken()')).toBe('refreshToken refresh token refreshtoken()');
    expect(expandIdentifiers('refresh_token = 1')).toBe('refresh_token refresh token refreshtoken = 1');
    expect(expandIdentifiers('plain words stay')).toBe('plain words stay');
  });
});

describe('languages and settings', () => {
  it('maps file names and #! lines to languages', () => {
    expect(languageOf('src/a.ts')).toBe('typescript');
    expect(languageOf('src/a.tsx')).toBe('tsx');
    expect(languageOf('a.mjs')).toBe('javascript');
    expect(languageOf('x.hpp')).toBe('cpp');
    expect(languageOf('Rakefile')).toBe('ruby');
    expect(languageOf('README.md')).toBe('markdown');
    expect(languageOf('bin/deploy', '#!/usr/bin/env bash')).toBe('bash');
    expect(languageOf('bin/tool', '#!/usr/bin/python3')).toBe('python');
    expect(languageOf('notes.txt')).toBeNull();
  });

  it('globs as gitignore writes them, and the default exclusions', () => {
    expect(globToRegExp('*.min.js').test('web/app.min.js')).toBe(true);
    expect(globToRegExp('**/vendor/**').test('vendor/x/y.go')).toBe(true);
    expect(globToRegExp('src/**/*.ts').test('src/a.ts')).toBe(true);
    expect(globToRegExp('src/**/*.ts').test('lib/a.ts')).toBe(false);
    const defaults = ChunkSettingsSchema.parse({});
    expect(selectsPath(defaults, 'src/a.ts')).toBe(true);
    expect(selectsPath(defaults, 'node_modules/x/index.js')).toBe(false);
    expect(selectsPath(defaults, 'web/vendor/lib.js')).toBe(false);
    expect(selectsPath(defaults, 'package-lock.json')).toBe(false);
    expect(selectsPath(defaults, '.agence/codex/LAWS.md')).toBe(false);
    expect(selectsPath({ ...defaults, include: ['src/**'] }, 'docs/a.md')).toBe(false);
    expect(selectsPath({ ...defaults, exclude: ['**/*.test.ts'] }, 'src/a.test.ts')).toBe(false);
    expect(selectsPath({ ...defaults, default_excludes: false }, 'vendor/a.go')).toBe(true);
    expect(selectsPath({ ...defaults, default_excludes: false }, '.agence/synthetic/lessons/l-a.md')).toBe(false);
    expect(hasBinaryExtension('img/logo.PNG')).toBe(true);
    expect(hasBinaryExtension('src/png.ts')).toBe(false);
  });

  it('doc comments lose their markers', () => {
    expect(cleanComment('/**\n * Line one.\n * Line two.\n */')).toBe('Line one.\nLine two.');
    expect(cleanComment('/// A point.')).toBe('A point.');
    expect(cleanComment('# Greets.')).toBe('Greets.');
  });
});

describe('the identifier index of a body of code', () => {
  it('lists each compound identifier once with its parts', () => {
    expect(identifierIndex('const refreshToken = getToken(refreshToken, refresh_token, plain);')).toBe('refreshToken refresh token refreshtoken\ngetToken get token gettoken\nrefresh_token refresh token refreshtoken');
  });
});

describe('chunk exports and code queries', () => {
  it('an export round-trips; bad lines are reported with their line number', () => {
    const record = { path: 'src/a.ts', language: 'typescript', kind: 'function', name: 'a', scope: null, start: 1, end: 3, signature: 'function a()', doc: '', text: 'function a() {\n}\n' };
    expect(parseChunkExport(formatChunkExport([record]))).toEqual({ records: [record], problems: [] });
    const parsed = parseChunkExport(`${JSON.stringify(record)}\n{oops\n${JSON.stringify({ ...record, kind: 'gadget' })}\n${JSON.stringify({ ...record, start: 5 })}\n`);
    expect(parsed.records).toHaveLength(1);
    expect(parsed.problems).toEqual([expect.stringMatching(/^line 2: not JSON/), expect.stringMatching(/^line 3: kind/), 'line 4: end is before start']);
  });

  it('a question keeps its content words; the best line is the one with most of them', () => {
    expect(codeQueryWords('where is the token refresh handled?')).toEqual(['token', 'refresh', 'handled']);
    expect(codeQueryWords('the')).toEqual(['the']);
    const best = bestLine('function a() {\n  const refreshToken = load();\n  return refreshToken.expires;\n}', 10, ['refresh', 'token']);
    expect(best.line).toBe(11);
    expect(best.snippet).toContain('\u0002refresh');
  });
});
