import { join } from 'node:path';
import { requireWithCompileCache } from '../cli/compileCache.js';
import type * as Sdk from './sdk.js';

/**
 * The AI SDK bundle (`dist/vendor/ai.cjs`, built from ./sdk.ts), required on first use with a V8
 * code cache like the app bundle: compiling it is most of what a chat call adds to Node's start.
 * The cache is written when the process exits, so it covers the functions the call compiled.
 */
let loaded: typeof Sdk | null = null;

export function sdk(): typeof Sdk {
  if (loaded) return loaded;
  const file = join(import.meta.dirname, 'vendor', 'ai.cjs');
  const module = requireWithCompileCache<typeof Sdk>(file, 'ai', 'ai', process.env);
  process.once('exit', module.saveCache);
  loaded = module.exports;
  return loaded;
}
