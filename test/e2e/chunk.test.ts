import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChunkRow, SymbolRow } from '../../src/chunk/chunkIndex.js';
import type { IndexStats } from '../../src/chunk/codeIndex.js';
import { agence, CLI, git, json, type Run, repo, type Sandbox, sandbox } from './helpers.js';

/** The code index from the built CLI, on real git repositories. */

const sb = sandbox();

const ok = (run: Run): Run => {
  expect(run.code, `${run.stderr}\n${run.stdout}`).toBe(0);
  return run;
};

type Stats = IndexStats;
type Chunk = ChunkRow;
type Declaration = SymbolRow;
interface Hit {
  id: string;
  title: string;
  layer: string;
  path: string;
  line: number;
  type: string;
  chunk?: { kind: string; name: string | null; start: number; end: number };
}

const FIXTURES: Record<string, string> = {
  'src/auth/session.ts': `import { post } from './http';

/** Exchange the refresh token for a new access token when the old one has expired. */
export async function refreshAccessToken(refreshToken: string): Promise<string> {
  const response = await post('/oauth/token', { grant_type: 'refresh_token', refreshToken });
  return response.access_token;
}

export class SessionStore {
  private sessions = new Map<string, string>();

  /** Remember a session. */
  save(id: string, token: string): void {
    this.sessions.set(id, token);
  }
}
`,
  'web/App.tsx': `export function App(): JSX.Element {\n  return <main className="app">hello</main>;\n}\n`,
  'web/util.js': `function debounce(fn, ms) {\n  let t;\n  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };\n}\nmodule.exports = { debounce };\n`,
  'tools/report.py': `import sys\n\n\ndef write_report(rows):\n    """Write the monthly usage report."""\n    for row in rows:\n        print(row)\n\n\nclass Reporter:\n    def run(self):\n        write_report([])\n`,
  'cmd/server/main.go': `package main\n\n// Server answers requests.\ntype Server struct {\n\taddr string\n}\n\n// ListenAndServe starts the server.\nfunc (s *Server) ListenAndServe() error {\n\treturn nil\n}\n`,
  'crates/geo/src/lib.rs': `/// A point in the plane.\npub struct Point {\n    pub x: f64,\n}\n\nimpl Point {\n    pub fn norm(&self) -> f64 {\n        self.x.abs()\n    }\n}\n`,
  'java/Billing.java': `package billing;\n\n/** Computes invoices. */\npublic class Billing {\n  public int total(int a, int b) {\n    return a + b;\n  }\n}\n`,
  'native/ring.c': `#include <stdlib.h>\n\n/* Push onto the ring buffer. */\nint ring_push(int *ring, int value) {\n  ring[0] = value;\n  return 0;\n}\n`,
  'native/matrix.cpp': `namespace linalg {\nclass Matrix {\n public:\n  int rows() const { return 1; }\n};\n}\n`,
  'lib/greeter.rb': `# Greets people.\nclass Greeter\n  def greet(name)\n    "hi #{name}"\n  end\nend\n`,
  'scripts/deploy.sh': `#!/bin/bash\n# Deploy the site.\ndeploy_site() {\n  rsync -a public/ host:/srv/\n}\ndeploy_site\n`,
  'docs/guide.md': `# Guide\n\nHow to use it.\n\n## Install\n\nRun the installer.\n`,
  'notes.txt': Array.from({ length: 70 }, (_, i) => `note line ${i}`).join('\n'),
  'src/broken.ts': `export function good(): number {\n  return 1;\n}\nfunction broken( {\n  let = ;\n}\nexport function afterError(): void {}\n`,
  'node_modules/dep/index.js': `function vendored() {}\n`,
};

function write(dir: string, path: string, content: string | Buffer): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), content);
}

function shard(name: string, files: Record<string, string | Buffer>): string {
  const dir = repo(sb, name);
  ok(agence(sb, dir, ['^init']));
  for (const [path, content] of Object.entries(files)) write(dir, path, content);
  git(sb, dir, ['add', '-A', '-f']);
  git(sb, dir, ['commit', '-qm', 'fixtures']);
  return dir;
}

const index = (dir: string, args: string[] = []): Stats => json<Stats>(ok(agence(sb, dir, ['^chunk', 'index', '--json', ...args])));
const symbols = (dir: string, args: string[]): Declaration[] => json<{ symbols: Declaration[] }>(ok(agence(sb, dir, ['^symbols', '--json', ...args]))).symbols;
const show = (dir: string, at: string): Chunk => json<{ chunk: Chunk }>(ok(agence(sb, dir, ['^chunk', 'show', '--json', at]))).chunk;
const recall = (dir: string, args: string[]): Hit[] => json<{ hits: Hit[] }>(ok(agence(sb, dir, ['^recall', '--json', ...args]))).hits;

describe('^chunk index', () => {
  const dir = shard('code', FIXTURES);

  it('indexes every language of the fixture, skips vendored code, falls back to windows', () => {
    const stats = index(dir);
    expect(stats.languages).toEqual({
      typescript: 2,
      tsx: 1,
      javascript: 1,
      python: 1,
      go: 1,
      rust: 1,
      java: 1,
      c: 1,
      cpp: 1,
      ruby: 1,
      bash: 1,
      markdown: 2,
      text: 1,
    });
    // README.md (from the repo helper) and the fixtures, without node_modules/.
    expect(stats.files).toBe(15);
    expect(stats.parsed).toBe(15);
    expect(stats.bytes).toBeGreaterThan(1000);
    expect(stats.grammarFailures).toEqual([]);
    expect(symbols(dir, ['vendored'])).toEqual([]);
  });

  it('has the expected declarations, with kinds, scopes and lines', () => {
    const all = symbols(dir, []);
    const seen = all.map((s) => `${s.path}:${s.start_line} ${s.kind} ${s.scope ? `${s.scope}.` : ''}${s.name}`);
    for (const expected of [
      'src/auth/session.ts:4 function refreshAccessToken',
      'src/auth/session.ts:9 class SessionStore',
      'src/auth/session.ts:13 method SessionStore.save',
      'web/App.tsx:1 function App',
      'web/util.js:1 function debounce',
      'tools/report.py:4 function write_report',
      'tools/report.py:11 method Reporter.run',
      'cmd/server/main.go:4 struct Server',
      'cmd/server/main.go:9 method Server.ListenAndServe',
      'crates/geo/src/lib.rs:2 struct Point',
      'crates/geo/src/lib.rs:7 method Point.norm',
      'java/Billing.java:4 class Billing',
      'java/Billing.java:5 method Billing.total',
      'native/ring.c:4 function ring_push',
      'native/matrix.cpp:2 class linalg.Matrix',
      'lib/greeter.rb:3 method Greeter.greet',
      'scripts/deploy.sh:3 function deploy_site',
      'docs/guide.md:5 section Guide.Install',
    ]) {
      expect(seen).toContain(expected);
    }
    expect(symbols(dir, ['--kind', 'struct']).map((s) => s.name).sort()).toEqual(['Point', 'Server']);
    expect(symbols(dir, ['refresh*']).map((s) => s.name)).toEqual(['refreshAccessToken']);
    const bad = agence(sb, dir, ['^symbols', '--kind', 'gadget']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--kind "gadget" is not a kind/);
  });

  it('^chunk show prints the enclosing chunk: the whole function, its doc comment and signature', () => {
    const chunk = show(dir, 'src/auth/session.ts:5');
    expect([chunk.kind, chunk.name, chunk.start_line, chunk.end_line]).toEqual(['function', 'refreshAccessToken', 3, 7]);
    expect(chunk.doc).toBe('Exchange the refresh token for a new access token when the old one has expired.');
    expect(chunk.signature).toBe('export async function refreshAccessToken(refreshToken: string): Promise<string>');
    expect(chunk.text.split('\n')).toHaveLength(5);
    const text = ok(agence(sb, dir, ['^chunk', 'show', 'src/auth/session.ts:14'])).stdout;
    expect(text).toMatch(/src\/auth\/session\.ts:9-16 {2}class SessionStore/);
    expect(text).toMatch(/14 {2}\s*this\.sessions\.set\(id, token\);/);
    // A path relative to the current folder, as a person types it.
    expect(show(join(dir, 'src'), 'auth/session.ts:5').name).toBe('refreshAccessToken');
    // Without a line: the file's outline.
    const outline = json<{ chunks: Chunk[] }>(ok(agence(sb, dir, ['^chunk', 'show', '--json', 'src/auth/session.ts']))).chunks;
    expect(outline.map((c) => [c.start_line, c.end_line, c.kind, c.name])).toEqual([
      [1, 1, 'block', null],
      [3, 7, 'function', 'refreshAccessToken'],
      [9, 16, 'class', 'SessionStore'],
    ]);
    expect(ok(agence(sb, dir, ['^chunk', 'show', 'src/auth/session.ts'])).stdout).toMatch(/3-7 +function +refreshAccessToken/);
    const window = show(dir, 'notes.txt:65');
    expect([window.kind, window.start_line, window.end_line]).toEqual(['window', 61, 70]);
  });

  it('^chunk show explains what it cannot show', () => {
    const untracked = agence(sb, dir, ['^chunk', 'show', 'nope.ts:1']);
    expect(untracked.code).toBe(1);
    expect(untracked.stderr).toMatch(/nope\.ts is not in the code index: it must be tracked by git/);
    const malformed = agence(sb, dir, ['^chunk', 'show', 'src/auth/session.ts:0']);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toMatch(/line 0 in "src\/auth\/session\.ts:0" is not a line number/);
    const between = agence(sb, dir, ['^chunk', 'show', 'src/auth/session.ts:8']);
    expect(between.code).toBe(1);
    expect(between.stderr).toMatch(/no chunk of src\/auth\/session\.ts covers line 8.*nearest: src\/auth\/session\.ts:3-7, src\/auth\/session\.ts:9-16/);
  });

  it('recall ranks the function first for a descriptive question, with the layer shown', () => {
    const hits = recall(dir, ['where is the token refresh handled']);
    expect(hits[0]?.chunk?.name).toBe('refreshAccessToken');
    expect(hits[0]?.layer).toBe('objectcode');
    expect(hits[0]?.path).toBe('src/auth/session.ts');
    // No other chunk has every word: those with some of them follow, up to the limit.
    expect(hits.length).toBeGreaterThan(1);
    const text = ok(agence(sb, dir, ['^recall', 'monthly usage report'])).stdout;
    expect(text.split('\n')[0]).toMatch(/^tools\/report\.py:4-7 {2}function write_report {2}\[objectcode\]/);
  });

  it('identifier-aware: refresh token, refreshToken and refresh_token find both spellings', () => {
    const names = (query: string) => recall(dir, ['--code', '--limit', '50', query]).map((h) => h.chunk?.name);
    for (const query of ['refresh token', 'refreshToken', 'refresh_token']) {
      // refreshAccessToken's code has both `refreshToken` and `'refresh_token'`.
      expect(names(query)).toContain('refreshAccessToken');
    }
    expect(names('write report')).toContain('write_report');
    expect(names('writeReport')).toContain('write_report');
    expect(names('ring push')).toContain('ring_push');
    expect(names('listen and serve')).toContain('ListenAndServe');
  });

  it('recall mixes knowledge items and code; --code gives code only; --layer objectcode too', () => {
    ok(agence(sb, dir, ['^learn', 'Access tokens expire after an hour: refresh them before calling the billing API']));
    const mixed = recall(dir, ['refresh access token', '--limit', '20']);
    expect(new Set(mixed.map((h) => h.layer))).toEqual(new Set(['synthetic', 'objectcode']));
    const code = recall(dir, ['--code', 'refresh access token']);
    expect(code.length).toBeGreaterThan(0);
    expect(code.every((h) => h.layer === 'objectcode' && h.type === 'code')).toBe(true);
    const objectcode = recall(dir, ['--layer', 'objectcode', 'refresh access token']);
    expect(objectcode.length).toBeGreaterThan(0);
    expect(objectcode.every((h) => h.layer === 'objectcode')).toBe(true);
    const lessons = recall(dir, ['--type', 'lesson', 'refresh access token']);
    expect(lessons.length).toBeGreaterThan(0);
    expect(lessons.every((h) => h.layer === 'synthetic')).toBe(true);
    const both = agence(sb, dir, ['^recall', '--code', '--type', 'lesson', 'token']);
    expect(both.code).toBe(1);
  });
  it('an agent cleared only for public material gets no code (code is internal)', () => {
    write(dir, '.agence/codex/agents/visitor.md', '---\nname: visitor\nclearance: public\n---\nA guest.\n');
    const hits = json<{ hits: Hit[] }>(ok(agence(sb, dir, ['^recall', '--json', 'refresh access token'], { AGENCE_AGENT: 'visitor' }))).hits;
    expect(hits.filter((h) => h.type === 'code')).toEqual([]);
    expect(recall(dir, ['refresh access token']).some((h) => h.type === 'code')).toBe(true);
  });

  it('the context pack carries the code for the task, and drops it first when over budget', () => {
    interface Pack {
      sections: { kind: string; source: string; content: string }[];
      dropped: { kind: string }[];
    }
    const pack = json<Pack>(ok(agence(sb, dir, ['^reload', '--json', '--task', 'refresh the access token'])));
    const code = pack.sections.filter((s) => s.kind === 'code');
    expect(code[0]?.source).toBe('src/auth/session.ts:3-7');
    expect(code[0]?.content).toContain('export async function refreshAccessToken');
    const tight = json<Pack>(ok(agence(sb, dir, ['^reload', '--json', '--task', 'refresh the access token', '--budget', '100'])));
    expect(tight.sections.some((s) => s.kind === 'code')).toBe(false);
    expect(tight.dropped.filter((d) => d.kind === 'code').length).toBe(code.length);
  });
});

describe('incremental by git blob id', () => {
  const dir = shard('incremental', { 'a.ts': 'export function a(): number {\n  return 1;\n}\n', 'b.py': 'def b():\n    return 2\n', 'c.go': 'package c\n\nfunc C() {}\n' });

  it('an unchanged tree parses nothing; a commit re-parses only the changed blobs; deleted files leave', () => {
    expect(index(dir).parsed).toBe(4); // with README.md
    const again = index(dir);
    expect([again.parsed, again.files, again.removed]).toEqual([0, 4, 0]);
    expect(again.chunks).toBeGreaterThan(0);

    writeFileSync(join(dir, 'a.ts'), 'export function a(): number {\n  return 10;\n}\nexport function a2(): void {}\n');
    write(dir, 'd.rb', 'def d\nend\n');
    git(sb, dir, ['add', '-A']);
    git(sb, dir, ['commit', '-qm', 'change a, add d']);
    const changed = index(dir);
    expect([changed.parsed, changed.files, changed.removed]).toEqual([2, 5, 0]);
    expect(symbols(dir, ['a2']).map((s) => s.path)).toEqual(['a.ts']);

    git(sb, dir, ['rm', '-q', 'b.py']);
    git(sb, dir, ['commit', '-qm', 'drop b']);
    const deleted = index(dir);
    expect([deleted.parsed, deleted.files, deleted.removed]).toEqual([0, 4, 1]);
    expect(symbols(dir, ['b'])).toEqual([]);
    const gone = agence(sb, dir, ['^chunk', 'show', 'b.py:1']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/b\.py is not in the code index/);
  });

  it('only what git has is read: an unstaged edit is not indexed, a staged one is', () => {
    writeFileSync(join(dir, 'c.go'), 'package c\n\nfunc Unstaged() {}\n');
    expect(index(dir).parsed).toBe(0);
    expect(symbols(dir, ['Unstaged'])).toEqual([]);
    git(sb, dir, ['add', 'c.go']);
    expect(index(dir).parsed).toBe(1);
    expect(symbols(dir, ['Unstaged']).map((s) => s.name)).toEqual(['Unstaged']);
  });

  it('a deleted or damaged index.db is rebuilt; --full re-reads everything', () => {
    rmSync(join(dir, '.agence/nexus/index.db'));
    for (const suffix of ['-wal', '-shm']) rmSync(join(dir, `.agence/nexus/index.db${suffix}`), { force: true });
    expect(index(dir).parsed).toBe(4);
    expect(index(dir, ['--full']).parsed).toBe(4);
    writeFileSync(join(dir, '.agence/nexus/index.db'), 'this is not a database');
    rmSync(join(dir, '.agence/nexus/index.db-wal'), { force: true });
    rmSync(join(dir, '.agence/nexus/index.db-shm'), { force: true });
    const run = agence(sb, dir, ['^chunk', 'index', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/could not be opened/);
    expect(json<Stats>(run).parsed).toBe(4);
    // ^reindex brings the code index along; --full re-chunks it.
    expect(json<{ code: Stats }>(ok(agence(sb, dir, ['^reindex', '--json']))).code.parsed).toBe(0);
    expect(json<{ code: Stats }>(ok(agence(sb, dir, ['^reindex', '--full', '--json']))).code.parsed).toBe(4);
  });

  it('the chunk settings of agence.json choose the files; bad settings name the file', () => {
    const manifestFile = join(dir, '.agence/agence.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, chunk: { exclude: ['*.rb', '*.md'] } }));
    const narrowed = index(dir);
    expect([narrowed.files, narrowed.removed, narrowed.parsed]).toEqual([2, 2, 0]);
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, chunk: { max_lines: 'many' } }));
    const bad = agence(sb, dir, ['^chunk', 'index']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/\.agence\/agence\.json: chunk\.max_lines/);
    writeFileSync(manifestFile, JSON.stringify(manifest));
    const widened = index(dir);
    expect([widened.files, widened.parsed]).toEqual([4, 2]);
    // The sizes decide every chunk: changing one re-chunks every file.
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, chunk: { max_lines: 40 } }));
    expect(index(dir).parsed).toBe(4);
  });
});

describe('bad input', () => {
  const outside = join(sb.dir, 'outside-secret.ts');
  writeFileSync(outside, 'export function secretOutside(): void {}\n');
  const minified = `var a=1;${'function f(x){return x*2};'.repeat(400)}\n`;
  const withNul = Buffer.concat([Buffer.from('export function nul(): void {}\n'), Buffer.from([0, 1, 2]), Buffer.from('\nmore\n')]);
  const large = `// big\n${'export const x = 1;\n'.repeat(60_000)}`;
  const dir = shard('bad', {
    'src/ok.ts': 'export function fine(): number {\n  return 1;\n}\n',
    'src/broken.ts': FIXTURES['src/broken.ts'] as string,
    'dist-like/bundle.js': minified,
    'src/nul.ts': withNul,
    'src/big.ts': large,
  });
  symlinkSync(outside, join(dir, 'src/link.ts'));
  git(sb, dir, ['add', 'src/link.ts']);
  git(sb, dir, ['commit', '-qm', 'a symlink out of the repository']);

  it('syntax errors are counted and what parses is indexed; minified, NUL, too large and symlinked files are skipped', () => {
    const stats = index(dir);
    expect(stats.errors).toBeGreaterThan(0);
    expect(stats.skipped).toEqual({ minified: 1, binary: 1, 'too-large': 1, symlink: 1 });
    const names = symbols(dir, []).map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['fine', 'good', 'afterError']));
    expect(names).not.toContain('secretOutside');
    expect(names).not.toContain('nul');
    const link = agence(sb, dir, ['^chunk', 'show', 'src/link.ts:1']);
    expect(link.code).toBe(1);
    expect(link.stderr).toMatch(/symbolic link \(never followed\)/);
    expect(agence(sb, dir, ['^chunk', 'show', 'dist-like/bundle.js:1']).stderr).toMatch(/minified/);
  });

  it('a grammar that fails to load is named, the rest is indexed, and the run exits non-zero', () => {
    const broken = brokenDist(sb, 'tree-sitter-python.wasm');
    const code = shard('grammar', { 'a.ts': 'export function a(): void {}\n', 'b.py': 'def b():\n    pass\n' });
    const run = spawnSync(process.execPath, [join(broken, 'dist/agence.cjs'), '^chunk', 'index', '--json'], { cwd: code, env: sb.env, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/python grammar .* failed to load/);
    const stats = JSON.parse(run.stdout) as Stats;
    expect(stats.grammarFailures.map((f) => f.language)).toEqual(['python']);
    expect(stats.languages.typescript).toBe(1);
    expect(stats.languages.python).toBeUndefined();
    // With the grammar back, the next run indexes the files it could not.
    const fixed = index(code);
    expect(fixed.languages.python).toBe(1);
    expect(fixed.parsed).toBe(1);
  });
});

/** A copy of dist/ whose grammar `file` is damaged, with node_modules beside it for better-sqlite3. */
function brokenDist(sandboxDir: Sandbox, file: string): string {
  const root = join(sandboxDir.dir, 'broken-install');
  cpSync(resolve(import.meta.dirname, '../../dist'), join(root, 'dist'), { recursive: true });
  symlinkSync(resolve(import.meta.dirname, '../../node_modules'), join(root, 'node_modules'));
  unlinkSync(join(root, 'dist/vendor/grammars', file));
  writeFileSync(join(root, 'dist/vendor/grammars', file), 'not a wasm module');
  return root;
}

describe('OBJECTCODE from the master', () => {
  const master = join(sb.dir, 'org-master');
  ok(agence(sb, sb.dir, ['^master', 'init', master]));
  // A library's code exported by another shard: the export format round-trips.
  const lib = shard('http-lib', {
    'src/retry.ts': '/** Retry a request with exponential backoff. */\nexport async function retryWithBackoff(attempts: number): Promise<void> {\n  for (let i = 0; i < attempts; i++) await sleep(2 ** i);\n}\n',
  });
  ok(agence(sb, lib, ['^chunk', 'export', join(master, 'objectcode/http-lib.chunks.jsonl')]));
  write(master, 'objectcode/shared/ids.py', 'def new_correlation_id():\n    """A correlation id for tracing a request across services."""\n    return "x"\n');
  write(master, 'objectcode/chunk.json', JSON.stringify({ max_lines: 80 }));
  git(sb, master, ['add', '-A']);
  git(sb, master, ['commit', '-qm', 'objectcode: http-lib export and shared ids']);
  const dir = repo(sb, 'app');
  ok(agence(sb, dir, ['^init', '--master', '../org-master']));
  ok(agence(sb, dir, ['^pull']));

  it('base/objectcode is indexed: source files chunked, exports taken as they are', () => {
    const stats = index(dir);
    // Two files in base/objectcode/: the export holds the library's README.md and src/retry.ts.
    expect(stats.base).toEqual({ files: 2, parsed: 3, removed: 0 });
    const found = symbols(dir, ['--kind', 'function']).map((s) => `${s.path} ${s.name}`);
    expect(found).toContain('.agence/base/objectcode/http-lib/src/retry.ts retryWithBackoff');
    expect(found).toContain('.agence/base/objectcode/shared/ids.py new_correlation_id');
    const again = index(dir);
    expect([again.base.parsed, again.files]).toEqual([0, stats.files]);
  });

  it('recall covers it with layer base/objectcode; --layer base selects the master', () => {
    const hits = recall(dir, ['retry backoff']);
    expect(hits[0]?.layer).toBe('base/objectcode');
    expect(hits[0]?.chunk?.name).toBe('retryWithBackoff');
    expect(recall(dir, ['--layer', 'base', 'correlation id tracing'])[0]?.path).toBe('.agence/base/objectcode/shared/ids.py');
    const shown = show(dir, '.agence/base/objectcode/http-lib/src/retry.ts:2');
    expect(shown.name).toBe('retryWithBackoff');
  });

  it("the master's chunk.json sets defaults the shard's agence.json overrides; a new master commit updates the layer", () => {
    const bad = join(master, 'objectcode/chunk.json');
    writeFileSync(bad, JSON.stringify({ max_lines: 'lots' }));
    rmSync(join(master, 'objectcode/http-lib.chunks.jsonl'));
    git(sb, master, ['commit', '-qam', 'drop the export, break the settings']);
    ok(agence(sb, dir, ['^pull']));
    const run = agence(sb, dir, ['^chunk', 'index']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/\.agence\/base\/objectcode\/chunk\.json:\.max_lines/);
    const manifestFile = join(dir, '.agence/agence.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, chunk: { max_lines: 90 } }));
    const stats = index(dir);
    expect(stats.base.removed).toBe(2);
    expect(symbols(dir, ['retryWithBackoff'])).toEqual([]);
  });

  it('a bad export line is reported and skipped, the rest is indexed', () => {
    const exportFile = join(sb.dir, 'bad.chunks.jsonl');
    writeFileSync(exportFile, `{"path":"a.ts","language":"typescript","kind":"function","name":"fromExport","scope":null,"start":1,"end":2,"text":"x"}\nnot json\n{"path":"b.ts","kind":"gadget"}\n`);
    cpSync(exportFile, join(master, 'objectcode/bad.chunks.jsonl'));
    git(sb, master, ['add', '-A']);
    git(sb, master, ['commit', '-qm', 'a damaged export']);
    ok(agence(sb, dir, ['^pull']));
    const run = agence(sb, dir, ['^chunk', 'index', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/2 line\(s\) of the master's chunk exports are not chunk records.*bad\.chunks\.jsonl line 2: not JSON/);
    expect(symbols(dir, ['fromExport']).map((s) => s.path)).toEqual(['.agence/base/objectcode/bad/a.ts']);
  });

  it('^chunk export refuses a file name a master would not read as an export', () => {
    const run = agence(sb, lib, ['^chunk', 'export', 'out.json']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/does not end in \.chunks\.jsonl/);
  });
});

describe('progress', () => {
  it('^chunk index draws a progress bar on a terminal, and nothing on a pipe', () => {
    const files: Record<string, string> = {};
    // Enough to parse for well over the bar's 300 ms delay on a fast machine.
    const body = Array.from({ length: 40 }, (_, j) => `  const v${j} = a * ${j} + helper(v${j}, 'text ${j}');`).join('\n');
    for (let i = 0; i < 1500; i++) files[`src/m${i}.ts`] = `/** Module ${i}. */\nexport function f${i}(a: number): number {\n${body}\n  return a + ${i};\n}\n`;
    const dir = shard('many', files);
    const tty = spawnSync('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} ^chunk index`, '/dev/null'], { cwd: dir, env: sb.env, encoding: 'utf8' });
    expect(tty.status, tty.stderr).toBe(0);
    expect(tty.stdout).toMatch(/\[#*\.*\] [\d,]+\/1,501 files parsed/);
    expect(tty.stdout).toContain('Indexed 1501 of 1501 files');
    const piped = ok(agence(sb, dir, ['^chunk', 'index', '--full']));
    expect(piped.stderr).not.toContain('files parsed');
  });
});

describe('a repository without a git index (no commit yet)', () => {
  it('answers "nothing changed" from the stamp, without asking git at every recall', () => {
    const dir = join(sb.dir, 'empty-repo');
    git(sb, sb.dir, ['init', '-q', dir]);
    ok(agence(sb, dir, ['^init']));
    ok(agence(sb, dir, ['^recall', 'anything']));
    const stamp = () => JSON.parse(readFileSync(join(dir, '.agence/nexus/code-index.json'), 'utf8')) as { git_index: string; at: number };
    expect(stamp().git_index).toBe('missing');
    const before = stamp().at;
    ok(agence(sb, dir, ['^recall', 'anything']));
    // Not rewritten: the stamp matched, so git was not asked.
    expect(stamp().at).toBe(before);
    // Staging a file creates git's index: the stamp no longer matches and the code is indexed.
    writeFileSync(join(dir, 'tool.py'), 'def sharpen_blade():\n    return 1\n');
    git(sb, dir, ['add', 'tool.py']);
    expect(recall(dir, ['sharpen', '--code']).map((h) => h.path)).toContain('tool.py');
  });
});
