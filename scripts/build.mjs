// `npm run build`: bundle the CLI into dist/ as CommonJS, in several files so start-up pays only
// for what a command uses:
//   agence.cjs        the front door: answers --version, else loads app.cjs (with a V8 code cache)
//   app.cjs           the router: parse, routes, help, output, base/ in line
//   cmd-NAME.cjs      one command's handler and the services it uses (src/cli/commands/NAME.ts),
//                     required with its own code cache when its route is taken
//   vendor/yaml.cjs   the YAML parser, required only by commands that read YAML (with a code cache)
//   vendor/zod.cjs    zod/mini, required the first time a command builds a schema (with a code cache)
//   vendor/tar.cjs    tar and gzip, required only to read or write session archives
//   vendor/toml.cjs   smol-toml, required only by `^setup codex` (Codex CLI's config.toml)
//   vendor/ai.cjs     the Vercel AI SDK and its providers (src/llm/sdk.ts), only for model calls (with a code cache)
//   vendor/mcp.cjs    the MCP SDK's server parts (src/mcp/sdk.ts), only for `^mcp` (with a code cache)
//   vendor/web-tree-sitter.cjs + tree-sitter.wasm + tree-sitter-bash.wasm (the JS with a code cache)
//                     the bash parser of the command guard, loaded only by guard commands
//   ledger-verify-worker.cjs  a worker thread of `^ledger verify` on large ledgers
//   vendor/grammars/  the grammars of the code index (@cursorless/tree-sitter-wasms), loaded
//                     one language at a time by the chunk commands
// better-sqlite3's JavaScript is in the command bundles that open an index; its compiled addon
// stays in node_modules (found by src/store/sqlite.ts).
// CommonJS, because Node's ESM loader (and its eager builtin facades) costs more at start-up
// than the whole of `agence ^status`.
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// Minified (names kept, for readable stack traces): V8 parses less at every start.
const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning', legalComments: 'none', minifyWhitespace: true, minifySyntax: true, keepNames: false };

/** Leave `specifier` out of the bundle and require `target` (relative to the output) instead. */
const externalAs = (specifier, target) => ({
  name: `external:${specifier}`,
  setup(b) {
    const filter = new RegExp(`^${specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
    b.onResolve({ filter }, () => ({ path: target, external: true }));
  },
});

/**
 * A bundle required with its own V8 code cache (src/cli/compileCache.ts, as the app bundle is):
 * the import becomes a small module that does the require. Used for the large vendor bundles
 * (YAML, the AI SDK, the MCP SDK) and for each command's own bundle.
 */
const cachedBundle = (name, resolveTo) => ({
  name,
  setup(b) {
    b.onResolve({ filter: /./ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const file = resolveTo(args.path, args.importer);
      return file ? { path: file, namespace: 'cached-bundle' } : undefined;
    });
    b.onLoad({ filter: /./, namespace: 'cached-bundle' }, (args) => ({
      resolveDir: resolve('src/cli'),
      loader: 'js',
      contents: [
        "const { requireWithCompileCache } = require('./compileCache.ts');",
        `const file = ${JSON.stringify(args.path)};`,
        `const loaded = requireWithCompileCache(require('node:path').join(__dirname, file), file.replace(/^.*\\//, ''), 'bundle', process.env);`,
        // Written at exit, so the cache covers the functions this run compiled.
        "process.once('exit', loaded.saveCache);",
        'module.exports = loaded.exports;',
      ].join('\n'),
    }));
  },
});
const vendor = (matches, file) => cachedBundle(`vendor:${file}`, (path, importer) => (matches(path, importer) ? `vendor/${file}` : null));
/** zod/mini, required by src/core/zod.ts the first time a schema is built (the parts in src/core/zodParts.ts). */
const zodVendor = vendor((path) => path === 'zod/mini', 'zod.cjs');

/**
 * Each command handler (src/cli/commands/NAME.ts) is its own bundle, dist/cmd-NAME.cjs, required
 * when its route is taken: a command compiles and loads its own code, not every command's. What
 * commands share (core/, store/, shard/, ...) is copied into each; errors stay recognisable across
 * copies (core/errors.ts). The bundles sit beside app.cjs, so paths from __dirname are the same.
 */
const COMMANDS = resolve('src/cli/commands');
const commandBundles = cachedBundle('command-bundles', (path, importer) => {
  if (!/^\.\.?\//.test(path)) return null;
  const target = resolve(dirname(importer), path);
  return dirname(target) === COMMANDS ? `cmd-${basename(target).replace(/\.[jt]s$/, '')}.cjs` : null;
});

rmSync('dist', { recursive: true, force: true });
await build({
  ...common,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/agence.cjs',
  define: { __AGENCE_VERSION__: JSON.stringify(pkg.version) },
  banner: { js: '#!/usr/bin/env node' },
});
const app = {
  ...common,
  // The sources are ESM and use import.meta.filename/dirname (not .url: building a file URL
  // costs milliseconds at start-up); in the CommonJS bundles they are the bundle's own.
  define: { 'import.meta.filename': '__filename', 'import.meta.dirname': '__dirname', __AGENCE_VERSION__: JSON.stringify(pkg.version) },
  plugins: [
    vendor((path) => path === 'yaml', 'yaml.cjs'),
    zodVendor,
    vendor((path, importer) => resolve(dirname(importer), path) === resolve('src/llm/sdk.js'), 'ai.cjs'),
    vendor((path, importer) => resolve(dirname(importer), path) === resolve('src/mcp/sdk.js'), 'mcp.cjs'),
    commandBundles,
    externalAs('tar', './vendor/tar.cjs'),
    externalAs('smol-toml', './vendor/toml.cjs'),
    vendor((path) => path === 'web-tree-sitter', 'web-tree-sitter.cjs'),
  ],
};
await build({ ...app, entryPoints: ['src/cli/run.ts'], outfile: 'dist/app.cjs' });
/**
 * The command bundles take zod and the record schemas from app.cjs (which the front door has
 * always loaded first, and which exports them as `zod` and `schemas`), so zod is set up and the
 * schemas are constructed once per process: constructing them is the costliest shared start-up
 * work (docs/ARCHITECTURE.md).
 */
const FROM_APP = { [resolve('src/core/zod.js')]: 'zod', [resolve('src/core/schemas.js')]: 'schemas' };
const sharedFromApp = {
  name: 'shared-from-app',
  setup(b) {
    b.onResolve({ filter: /(zod|schemas)\.js$/ }, (args) => {
      const name = FROM_APP[resolve(dirname(args.importer), args.path)];
      return name ? { path: name, namespace: 'from-app' } : undefined;
    });
    b.onLoad({ filter: /./, namespace: 'from-app' }, (args) => ({
      loader: 'js',
      contents: `module.exports = require('node:module')._cache[require('node:path').join(__dirname, 'app.cjs')].exports.${args.path};`,
    }));
  },
};
const commands = readdirSync('src/cli/commands').filter((f) => f.endsWith('.ts'));
await build({
  ...app,
  plugins: [sharedFromApp, ...app.plugins],
  entryPoints: Object.fromEntries(commands.map((f) => [`cmd-${basename(f, '.ts')}`, `src/cli/commands/${f}`])),
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
});
// The worker threads of a parallel `^ledger verify` (started only for large ledgers).
await build({ ...common, define: app.define, plugins: [zodVendor], entryPoints: ['src/ledger/verifyWorker.ts'], outfile: 'dist/ledger-verify-worker.cjs' });
await build({ ...common, entryPoints: ['yaml'], outfile: 'dist/vendor/yaml.cjs' });
await build({ ...common, entryPoints: ['src/core/zodParts.ts'], outfile: 'dist/vendor/zod.cjs' });
await build({ ...common, entryPoints: ['tar'], outfile: 'dist/vendor/tar.cjs' });
await build({ ...common, entryPoints: ['smol-toml'], outfile: 'dist/vendor/toml.cjs' });
/** zod's messages in sixty languages, a fifth of the SDK bundle: the SDK never leaves English. */
const zodEnglishOnly = {
  name: 'zod-locales:en',
  setup(b) {
    b.onResolve({ filter: /^\.\/[a-zA-Z-]+\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/.test(args.importer) && args.path !== './en.js' ? { path: join(dirname(args.importer), 'en.js') } : undefined,
    );
  },
};
// Required through a cached-bundle stub by the modules that import src/llm/sdk.ts.
// Third-party code: its names are minified too (a smaller file reads and deserialises faster).
await build({ ...common, minifyIdentifiers: true, entryPoints: ['src/llm/sdk.ts'], outfile: 'dist/vendor/ai.cjs', plugins: [zodEnglishOnly] });
// The MCP SDK (src/mcp/sdk.ts), required through a cached-bundle stub only by `^mcp`.
await build({ ...common, minifyIdentifiers: true, entryPoints: ['src/mcp/sdk.ts'], outfile: 'dist/vendor/mcp.cjs', plugins: [zodEnglishOnly] });
// web-tree-sitter is one CommonJS file already; it and the two wasm files are copied as they are.
const resolvePackage = createRequire(import.meta.url).resolve;
copyFileSync(resolvePackage('web-tree-sitter'), 'dist/vendor/web-tree-sitter.cjs');
copyFileSync(resolvePackage('web-tree-sitter/tree-sitter.wasm'), 'dist/vendor/tree-sitter.wasm');
copyFileSync(resolvePackage('tree-sitter-bash/tree-sitter-bash.wasm'), 'dist/vendor/tree-sitter-bash.wasm');
mkdirSync('dist/vendor/grammars', { recursive: true });
for (const language of ['typescript', 'tsx', 'javascript', 'python', 'go', 'rust', 'java', 'c', 'cpp', 'ruby', 'bash', 'markdown']) {
  const file = `tree-sitter-${language}.wasm`;
  copyFileSync(resolvePackage(`@cursorless/tree-sitter-wasms/out/${file}`), `dist/vendor/grammars/${file}`);
}
chmodSync('dist/agence.cjs', 0o755);
console.log(`built dist/ (agence ${pkg.version})`);
