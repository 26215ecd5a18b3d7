/**
 * zod/mini, the parts agence uses, as one module: the build puts it in the router bundle
 * (dist/app.cjs), which every command bundle takes it from, so zod is loaded and set up once per
 * process. Import zod through this module only.
 */
export {
  _default,
  array,
  boolean,
  config,
  describe,
  enum,
  gte,
  int,
  literal,
  looseObject,
  lte,
  maximum,
  maxLength,
  minimum,
  minLength,
  nonnegative,
  nullable,
  number,
  object,
  optional,
  partial,
  positive,
  record,
  refine,
  regex,
  safeParse,
  strictObject,
  string,
  toJSONSchema,
  union,
  unknown,
} from 'zod/mini';
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
