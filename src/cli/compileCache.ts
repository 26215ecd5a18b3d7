import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Load a CommonJS file with a V8 code cache, like Node 22's module.enableCompileCache() (used
 * when present). On Node 20 this does the same by hand: compiling the app bundle and the
 * functions a command runs is a third of `agence ^status`; with the cache, V8 skips it.
 *
 * The cache is an optimisation only: V8 rejects a cache that does not fit its version, flags or
 * source, and then the file is compiled as usual and the cache written again. A cache that cannot
 * be written (read-only home) costs nothing but the speed-up.
 */

export interface LoadedModule<T> {
  exports: T;
  /** Write the cache when there was none or V8 rejected it; call after the work, so it covers what ran. */
  saveCache: () => void;
}

function cacheDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(env.HOME || homedir(), '.cache'), 'agence', 'v8');
}

/**
 * V8 caches the functions compiled in the run that made the cache, so each command keeps its own
 * cache of the same bundle: the command word of `^sessions` or `shared sessions`, else "other".
 */
export function cacheVariant(argv: readonly string[]): string {
  const [first = '', second = ''] = argv.filter((a) => !a.startsWith('-') && !a.startsWith('@'));
  const word = /^[\^~]/.test(first) ? first.slice(1) || second : first === 'shared' || first === 'private' ? second : first === 'help' ? 'help' : 'other';
  return /^[a-z][a-z-]{0,23}$/.test(word) ? word : 'other';
}

export function requireWithCompileCache<T>(file: string, version: string, variant: string, env: NodeJS.ProcessEnv): LoadedModule<T> {
  const Module = require('node:module') as typeof import('node:module') & {
    enableCompileCache?: (dir: string) => unknown;
    wrap: (source: string) => string;
    _nodeModulePaths: (dir: string) => string[];
    _cache: Record<string, NodeModule | undefined>;
  };
  // Loaded once per process, like require(): a command bundle can be wanted by the router and by
  // another command.
  const loadedBefore = Module._cache[file];
  if (loadedBefore) return { exports: loadedBefore.exports as T, saveCache: () => undefined };
  const dir = cacheDir(env);
  if (env.AGENCE_NO_COMPILE_CACHE || typeof Module.enableCompileCache === 'function') {
    if (!env.AGENCE_NO_COMPILE_CACHE) Module.enableCompileCache?.(dir);
    return { exports: require(file) as T, saveCache: () => undefined };
  }

  const { Script } = require('node:vm') as typeof import('node:vm');
  const stat = statSync(file);
  // The name changes with the file (a reinstall), Node and the CPU architecture.
  const build = `${version}-${process.version}-${process.arch}-${stat.size}-${Math.floor(stat.mtimeMs)}`;
  const cacheFile = join(dir, `${build}-${variant}.cache`);
  let cached: Buffer | undefined;
  try {
    cached = readFileSync(cacheFile);
  } catch {
    cached = undefined;
  }
  const source = readFileSync(file, 'utf8');
  const script = new Script(Module.wrap(source), { filename: file, ...(cached ? { cachedData: cached } : {}) });
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(dirname(file));
  Module._cache[file] = mod;
  const fn = script.runInThisContext() as (...args: unknown[]) => void;
  fn.call(mod.exports, mod.exports, (id: string) => mod.require(id), mod, file, dirname(file));
  mod.loaded = true;
  return {
    exports: mod.exports as T,
    saveCache: () => {
      if (cached && !script.cachedDataRejected) return;
      // V8 drops the bytecode of functions unused for a while: the cache of a long run (a first
      // `^chunk index` of a large tree) would miss start-up's own functions. A later, short run
      // of the same command writes it instead.
      if (process.uptime() > 5) return;
      try {
        mkdirSync(dir, { recursive: true });
        const temp = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(temp, script.createCachedData());
        renameSync(temp, cacheFile);
        // Caches of earlier builds or Node versions of the same bundle will never be read again
        // (other bundles, such as the AI SDK's, keep theirs).
        for (const name of readdirSync(dir)) if (name.endsWith('.cache') && name.startsWith(`${version}-`) && !name.startsWith(`${build}-`)) rmSync(join(dir, name), { force: true });
      } catch {
        // Not being able to cache only costs speed; the command has already done its work.
      }
    },
  };
}
