import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, consistencyPath, inclusionPath, leafHash, nodeHash, splitPoint, treeHash, verifyConsistency, verifyInclusion } from '../../src/core/merkle.js';

// Certificate Transparency's RFC 6962 reference leaves and tree heads (as in transparency-dev/merkle's
// testonly constants), used as data.
const hex = (b: Buffer) => b.toString('hex');
const unhex = (s: string) => Buffer.from(s, 'hex');
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((d) => leafHash(unhex(d)));
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const INCLUSION = [
  { index: 0, size: 8, path: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { index: 5, size: 8, path: ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
];
const CONSISTENCY = [
  { first: 2, second: 8, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { first: 6, second: 8, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { first: 2, second: 5, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
];

// Distinct leaves: with two equal leaves, one leaf's proof also proves the other's place.
const flip = (b: Buffer, at: number, bit: number) => b.writeUInt8((b.readUInt8(at) ^ (1 << bit)) & 0xff, at);

const leavesArb = fc.array(fc.uint8Array({ maxLength: 24 }), { minLength: 1, maxLength: 70 }).map((data) => data.map((d, i) => leafHash(Buffer.concat([Buffer.from(`${i}:`), d]))));

describe('Merkle tree (RFC 6962)', () => {
  it('matches the reference tree heads for sizes 0 to 8', () => {
    expect(hex(EMPTY_ROOT)).toBe(ROOTS[0]);
    for (let n = 0; n <= 8; n++) expect(hex(treeHash(LEAVES.slice(0, n)))).toBe(ROOTS[n]);
  });

  it('splits at the largest power of two below n, not the middle', () => {
    expect([2, 3, 4, 5, 6, 7, 8, 9, 1000].map(splitPoint)).toEqual([1, 2, 2, 4, 4, 4, 4, 8, 512]);
  });

  it('gives and verifies the reference inclusion proofs', () => {
    for (const v of INCLUSION) {
      expect(inclusionPath(LEAVES, v.index, v.size).map(hex)).toEqual(v.path);
      expect(verifyInclusion(LEAVES[v.index]!, v.index, v.size, v.path.map(unhex), unhex(ROOTS[v.size]!))).toBe(true);
    }
  });

  it('gives and verifies the reference consistency proofs', () => {
    for (const v of CONSISTENCY) {
      expect(consistencyPath(LEAVES, v.first, v.second).map(hex)).toEqual(v.proof);
      expect(verifyConsistency(v.first, v.second, unhex(ROOTS[v.first]!), unhex(ROOTS[v.second]!), v.proof.map(unhex))).toBe(true);
    }
  });

  it('agrees with the recursive definition of MTH', () => {
    const mth = (d: Buffer[]): Buffer => (d.length === 0 ? EMPTY_ROOT : d.length === 1 ? d[0]! : nodeHash(mth(d.slice(0, splitPoint(d.length))), mth(d.slice(splitPoint(d.length)))));
    fc.assert(
      fc.property(leavesArb, (leaves) => {
        expect(treeHash(leaves).equals(mth(leaves))).toBe(true);
      }),
    );
  });

  it('every inclusion proof verifies, and fails for another leaf, index, size or a changed path', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), fc.nat(), (leaves, i, j) => {
        const n = leaves.length;
        const index = i % n;
        const root = treeHash(leaves);
        const path = inclusionPath(leaves, index);
        expect(verifyInclusion(leaves[index]!, index, n, path, root)).toBe(true);
        const other = j % n;
        if (!leaves[other]!.equals(leaves[index]!)) expect(verifyInclusion(leaves[other]!, index, n, path, root)).toBe(false);
        if (n > 1) {
          expect(verifyInclusion(leaves[index]!, (index + 1) % n, n, path, root)).toBe(false);
          const changed = path.map((p) => Buffer.from(p));
          flip(changed[j % changed.length]!, j % 32, i % 8);
          expect(verifyInclusion(leaves[index]!, index, n, changed, root)).toBe(false);
          expect(verifyInclusion(leaves[index]!, index, n, path.slice(0, -1), root)).toBe(false);
        }
        expect(verifyInclusion(leaves[index]!, index, n, [...path, EMPTY_ROOT], root)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('every consistency proof verifies, and fails for a log that did not only grow', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), fc.nat(), (leaves, a, j) => {
        const second = leaves.length;
        const first = a % (second + 1);
        const proof = consistencyPath(leaves, first, second);
        const r1 = treeHash(leaves.slice(0, first));
        const r2 = treeHash(leaves);
        expect(verifyConsistency(first, second, r1, r2, proof)).toBe(true);
        if (first > 0 && first < second) {
          // A history rewritten under the old root: change one of the first `first` leaves.
          const rewritten = leaves.slice();
          rewritten[j % first] = leafHash(Buffer.from(`rewritten ${j}`));
          expect(verifyConsistency(first, second, r1, treeHash(rewritten), consistencyPath(rewritten, first, second))).toBe(false);
          const changed = proof.map((p) => Buffer.from(p));
          flip(changed[j % changed.length]!, j % 32, 0);
          expect(verifyConsistency(first, second, r1, r2, changed)).toBe(false);
          expect(verifyConsistency(second, first, r2, r1, proof)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });
});
