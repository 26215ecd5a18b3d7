import { createHash } from 'node:crypto';

/**
 * RFC 6962 Merkle tree hashing (§2.1), with the verification algorithms of RFC 9162 §2.1.3.2
 * and §2.1.4.2. Leaves are the ledger's entry lines; indexes are 0-based (entry seq - 1).
 */

export type Hash = Buffer;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

export const EMPTY_ROOT: Hash = createHash('sha256').digest();

export function leafHash(entry: Uint8Array): Hash {
  return createHash('sha256').update(LEAF_PREFIX).update(entry).digest();
}

export function nodeHash(left: Hash, right: Hash): Hash {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** The largest power of two smaller than n (n > 1): where RFC 6962 splits a tree. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * MTH(D[n]) from leaf hashes, left to right with a stack of perfect subtrees (one per set bit
 * of n), folded right to left at the end: the same tree as the recursive definition.
 */
export function treeHash(leaves: readonly Hash[], from = 0, to = leaves.length): Hash {
  if (to === from) return EMPTY_ROOT;
  const stack: { size: number; hash: Hash }[] = [];
  for (let i = from; i < to; i++) {
    let node = { size: 1, hash: leaves[i] as Hash };
    while (stack.length > 0 && (stack[stack.length - 1] as { size: number }).size === node.size) {
      const left = stack.pop() as { size: number; hash: Hash };
      node = { size: left.size * 2, hash: nodeHash(left.hash, node.hash) };
    }
    stack.push(node);
  }
  let hash = (stack.pop() as { hash: Hash }).hash;
  while (stack.length > 0) hash = nodeHash((stack.pop() as { hash: Hash }).hash, hash);
  return hash;
}

/** PATH(m, D[n]) of RFC 6962 §2.1.1: the audit path of leaf `index` in the tree of the first `size` leaves. */
export function inclusionPath(leaves: readonly Hash[], index: number, size = leaves.length): Hash[] {
  if (!Number.isInteger(index) || index < 0 || index >= size || size > leaves.length) throw new RangeError(`no leaf ${index} in a tree of ${size}`);
  const path: Hash[] = [];
  let from = 0;
  let to = size;
  let m = index;
  // Walk down from the root, collecting siblings; the path lists them bottom-up.
  while (to - from > 1) {
    const k = splitPoint(to - from);
    if (m < k) {
      path.push(treeHash(leaves, from + k, to));
      to = from + k;
    } else {
      path.push(treeHash(leaves, from, from + k));
      from += k;
      m -= k;
    }
  }
  return path.reverse();
}

/** PROOF(m, D[n]) of RFC 6962 §2.1.2: that the tree of `first` leaves is a prefix of the tree of `second`. */
export function consistencyPath(leaves: readonly Hash[], first: number, second = leaves.length): Hash[] {
  if (!Number.isInteger(first) || first < 0 || first > second || second > leaves.length) throw new RangeError(`no consistency proof from ${first} to ${second}`);
  if (first === 0 || first === second) return [];
  const proof: Hash[] = [];
  let from = 0;
  let to = second;
  let m = first;
  let whole = true;
  for (;;) {
    if (m === to - from) {
      if (!whole) proof.push(treeHash(leaves, from, to));
      break;
    }
    const k = splitPoint(to - from);
    if (m <= k) {
      proof.push(treeHash(leaves, from + k, to));
      to = from + k;
    } else {
      proof.push(treeHash(leaves, from, from + k));
      from += k;
      m -= k;
      whole = false;
    }
  }
  return proof.reverse();
}

/** RFC 9162 §2.1.3.2: does `path` prove leaf `index` of a tree of `size` has hash `leaf` under `root`? */
export function verifyInclusion(leaf: Hash, index: number, size: number, path: readonly Hash[], root: Hash): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return false;
  if (leaf.length !== 32 || root.length !== 32 || path.some((p) => p.length !== 32)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree of `first` leaves (`firstRoot`) is a prefix of the tree of `second` (`secondRoot`)? */
export function verifyConsistency(first: number, second: number, firstRoot: Hash, secondRoot: Hash, proof: readonly Hash[]): boolean {
  if (!Number.isInteger(first) || !Number.isInteger(second) || first < 0 || first > second) return false;
  if (firstRoot.length !== 32 || secondRoot.length !== 32 || proof.some((p) => p.length !== 32)) return false;
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  // Every tree extends the empty one; RFC 9162 leaves size 0 out, agence's first root may have it.
  if (first === 0) return proof.length === 0 && firstRoot.equals(EMPTY_ROOT);
  if (proof.length === 0) return false;
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] as Hash;
  let sr = path[0] as Hash;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}
