import { createRequire } from 'node:module';
import type * as ZodParts from './zodParts.js';

/**
 * zod/mini, the parts agence uses, as one module: the build puts this module in the router bundle
 * (dist/app.cjs), which every command bundle takes it from, so zod is loaded and set up once per
 * process. Import zod through this module only.
 *
 * zod itself is required on first use (dist/vendor/zod.cjs, built from ./zodParts.ts, with a
 * code cache): loading and setting it up is about half of the router's own start-up, and a
 * command that validates nothing (a listing from the index, a cached manifest) never pays for it. Every schema is built on first
 * use (`deferred` below), so the first call into zod is the first parse that needs it.
 */
type ZodModule = typeof ZodParts;
let loaded: ZodModule | undefined;

function zod(): ZodModule {
  if (!loaded) {
    loaded = (typeof require === 'function' ? require('zod/mini') : createRequire(import.meta.filename)('zod/mini')) as ZodModule;
    // A CLI parses a handful of records per run: compiling a fast path for each schema costs more
    // than it saves.
    loaded.config({ jitless: true });
  }
  return loaded;
}

/** zod's function `key`, loading zod when it is first called. */
function lazy<K extends keyof ZodModule>(key: K): ZodModule[K] {
  return ((...args: unknown[]) => (zod()[key] as (...a: unknown[]) => unknown)(...args)) as ZodModule[K];
}

export const _default = lazy('_default');
export const array = lazy('array');
export const boolean = lazy('boolean');
export const describe = lazy('describe');
const enumSchema = lazy('enum');
export { enumSchema as enum };
export const gte = lazy('gte');
export const int = lazy('int');
export const literal = lazy('literal');
export const looseObject = lazy('looseObject');
export const lte = lazy('lte');
export const maximum = lazy('maximum');
export const maxLength = lazy('maxLength');
export const minimum = lazy('minimum');
export const minLength = lazy('minLength');
export const nonnegative = lazy('nonnegative');
export const nullable = lazy('nullable');
export const number = lazy('number');
export const object = lazy('object');
export const optional = lazy('optional');
export const partial = lazy('partial');
export const positive = lazy('positive');
export const record = lazy('record');
export const refine = lazy('refine');
export const regex = lazy('regex');
export const safeParse = lazy('safeParse');
export const strictObject = lazy('strictObject');
export const string = lazy('string');
export const toJSONSchema = lazy('toJSONSchema');
export const union = lazy('union');
export const unknown = lazy('unknown');
export type { core, infer, ZodMiniObject, ZodMiniType } from 'zod/mini';

/**
 * A schema constructed the first time it is used, with its own type. Constructing zod schemas
 * is the costliest start-up work agence has (about 65 µs apiece, cold; docs/ARCHITECTURE.md),
 * and a command uses a few of the records its modules define. Every top-level schema is written
 * `z.deferred(() => z.object(...))`; a deferred schema inside another is built with it.
 */
export function deferred<T extends object>(make: () => T): T {
  let built: T | undefined;
  const real = (): T => (built ??= make());
  return new Proxy({} as T, {
    get: (_target, key) => Reflect.get(real(), key),
    set: (_target, key, value) => Reflect.set(real(), key, value),
    has: (_target, key) => Reflect.has(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    // The proxy's own target is an empty object, so a property is reported as configurable.
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
    defineProperty: (_target, key, descriptor) => Reflect.defineProperty(real(), key, descriptor),
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
  });
}
