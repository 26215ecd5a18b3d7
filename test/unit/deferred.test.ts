import { describe, expect, it } from 'vitest';
import * as z from '../../src/core/zod.js';

describe('z.deferred', () => {
  it('constructs the schema once, when it is first used, and behaves as the schema itself', () => {
    let built = 0;
    const Name = z.deferred(() => {
      built += 1;
      return z.string().check(z.minLength(2));
    });
    const Record = z.deferred(() => z.object({ name: Name, tags: z.optional(z.array(z.string())) }));
    expect(built).toBe(0);
    expect(Record.parse({ name: 'ok' })).toEqual({ name: 'ok' });
    expect(Record.safeParse({ name: 'x' }).success).toBe(false);
    expect(Name.parse('abc')).toBe('abc');
    expect(built).toBe(1);
    // zod's own checks and JSON Schema see the real schema.
    expect('_zod' in Record).toBe(true);
    const plain = z.object({ name: z.string().check(z.minLength(2)), tags: z.optional(z.array(z.string())) });
    expect(z.toJSONSchema(Record)).toEqual(z.toJSONSchema(plain));
  });
});

describe('the zod facade (src/core/zod.ts)', () => {
  it('offers exactly the parts the vendor bundle holds, and sets zod up jitless when first used', async () => {
    const parts = await import('../../src/core/zodParts.js');
    const facade = Object.keys(z).filter((k) => k !== 'deferred' && k !== 'config').sort();
    expect(facade).toEqual(Object.keys(parts).filter((k) => k !== 'config').sort());
    expect(z.string().parse('x')).toBe('x');
    const { createRequire } = await import('node:module');
    const zod = createRequire(import.meta.filename)('zod/mini') as typeof parts;
    expect(zod.config().jitless).toBe(true);
  });
});
