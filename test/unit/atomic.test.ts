import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileOnce } from '../../src/store/atomic.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'agence-atomic-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('createFileOnce', () => {
  it('writes a new file, and never replaces one that exists (leaving no temp file either way)', () => {
    const file = join(dir, 'bundle.json');
    expect(createFileOnce(file, 'first')).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('first');
    expect(createFileOnce(file, 'second')).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('first');
    writeFileSync(join(dir, 'there.json'), 'mine');
    expect(createFileOnce(join(dir, 'there.json'), 'theirs')).toBe(false);
    expect(readFileSync(join(dir, 'there.json'), 'utf8')).toBe('mine');
    expect(readdirSync(dir).sort()).toEqual(['bundle.json', 'there.json']);
  });
});
