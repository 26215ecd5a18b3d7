import { describe, expect, it } from 'vitest';
import { AgenceError } from '../../src/core/errors.js';
import { capText, checkArgumentSize, decodeCursor, encodeCursor, fitPage, MAX_ARGUMENT_BYTES } from '../../src/core/mcpBounds.js';

describe('MCP bounds', () => {
  it('round-trips a cursor and refuses one it did not give', () => {
    expect(decodeCursor(encodeCursor(40), 990)).toBe(40);
    expect(decodeCursor(undefined, 990)).toBe(0);
    for (const bad of ['abc', encodeCursor(991), Buffer.from('o:-1').toString('base64url'), Buffer.from('o:1e3').toString('base64url')]) {
      expect(() => decodeCursor(bad, 990)).toThrow(/is not one this server gave/);
    }
  });

  it('refuses arguments over the cap, whole', () => {
    expect(() => checkArgumentSize('learn', { text: 'x'.repeat(100) })).not.toThrow();
    let error: unknown;
    try {
      checkArgumentSize('learn', { text: 'é'.repeat(MAX_ARGUMENT_BYTES / 2) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AgenceError);
    expect((error as AgenceError).code).toBe('usage');
    expect((error as AgenceError).message).toMatch(/^learn: the arguments are 655\d\d bytes, more than the 65536 a call may carry$/);
  });

  it('cuts text at a character boundary with a note, and leaves short text alone', () => {
    expect(capText('short', 100)).toBe('short');
    const cut = capText('€'.repeat(100), 120);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(120);
    expect(cut).toMatch(/^€+\n\[truncated: 300 bytes, the first 120 shown\]$/);
  });

  it('fits a page under the byte cap and says where the next one starts', () => {
    const items = Array.from({ length: 11 }, (_, i) => ({ id: i, text: 'x'.repeat(100) }));
    const render = (page: { items: unknown[]; next: number | null; truncated: string | null }) => JSON.stringify(page);
    // 10 asked for, 11 found (one more than the page: there is a next page).
    const whole = fitPage(items, 20, 10, render, 10_000);
    expect(whole.page.items).toHaveLength(10);
    expect(whole.page.next).toBe(30);
    expect(whole.page.truncated).toBeNull();
    const cut = fitPage(items, 20, 10, render, 700);
    expect(cut.page.items.length).toBeLessThan(10);
    expect(Buffer.byteLength(cut.text)).toBeLessThanOrEqual(700);
    expect(cut.page.next).toBe(20 + cut.page.items.length);
    expect(cut.page.truncated).toMatch(/^\d of 10 shown to stay under 700 bytes/);
    const last = fitPage(items.slice(0, 3), 0, 10, render, 10_000);
    expect(last.page).toMatchObject({ next: null, truncated: null });
    expect(fitPage([], 0, 10, render).page).toEqual({ items: [], next: null, truncated: null });
  });
});
