/**
 * zod/mini, the parts agence uses, as one module: the build makes it one bundle
 * (dist/vendor/zod.cjs) that the router and every command bundle share, so zod is loaded and set
 * up once per process. Import zod through this module only.
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
