import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hmacSha256Hex, sha256, sha256Hex } from '../../src/core/sha256.js';

const native = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('sha256 in JavaScript', () => {
  it('gives the FIPS 180-4 example digests', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    expect(sha256Hex('a'.repeat(1_000_000))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('matches node:crypto at every length around the block and padding boundaries', () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff);
    for (let n = 0; n <= bytes.length; n++) expect(sha256Hex(bytes.subarray(0, n))).toBe(native(bytes.subarray(0, n)));
    expect(Buffer.from(sha256(bytes)).toString('hex')).toBe(native(bytes));
  });

  it('hashes strings as UTF-8 and matches node:crypto on any input', () => {
    expect(sha256Hex('ĝuard ✓ 𝄞')).toBe(native('ĝuard ✓ 𝄞'));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => sha256Hex(data) === native(data)));
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => sha256Hex(text) === native(text)));
  });

  it('computes HMAC-SHA256 as node:crypto does, for keys shorter than, equal to and longer than a block', () => {
    // RFC 4231 test case 2.
    expect(hmacSha256Hex(Buffer.from('Jefe'), 'what do ya want for nothing?')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 150 }), fc.uint8Array({ maxLength: 300 }), (key, data) => {
        return hmacSha256Hex(key, data) === createHmac('sha256', key).update(data).digest('hex');
      }),
    );
  });
});
