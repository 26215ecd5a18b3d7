import { join } from 'node:path';
import { canonicalJson } from '../core/canonicalJson.js';
import { AgenceError } from '../core/errors.js';
import { consistencyPath, inclusionPath, leafHash, treeHash, verifyConsistency, verifyInclusion, type Hash } from '../core/merkle.js';
import { LedgerRootSchema, type LedgerRoot } from '../core/schemas.js';
import { formatJson, writeFileAtomic } from '../store/atomic.js';
import { readJsonFile, readTextFile } from '../store/files.js';
import { parseSshPublicKey, signBytes, signingKey, verifyBytes } from '../shard/keys.js';
import type { ShardPaths } from '../shard/layout.js';
import { readTrust } from '../shard/trust.js';
import { ledgerFile } from './ledger.js';
import { forEachLine } from './ledgerFile.js';
import { verifyLedger, type LedgerVerdict } from './ledgerVerify.js';

/**
 * Signed Merkle roots of the ledger (RFC 6962), inclusion and consistency proofs, and checking
 * them: what lets another shard see that this ledger holds an entry and only ever grew, without
 * seeing the ledger.
 */

export function rootFile(paths: ShardPaths): string {
  return join(paths.agence, 'organic', 'ledger-root.json');
}

const ROOT_FIX = 'publish a new one with `agence ^ledger root`, or restore it with `git checkout -- .agence/organic/ledger-root.json`';

/** A root file, schema-checked (its signature is checked by checkRoot). */
export function readRootFile(file: string, shown = file): LedgerRoot | null {
  return readJsonFile(file, LedgerRootSchema, { shown, fix: ROOT_FIX });
}

/** This shard's last published root, or null (also when the file is another shard's). */
export function publishedRoot(paths: ShardPaths, shardId: string): LedgerRoot | null {
  const root = readRootFile(rootFile(paths), '.agence/organic/ledger-root.json');
  return root && root.shard === shardId ? root : null;
}

/** The leaf hashes of the first `size` entries (all when size is omitted). */
function leaves(paths: ShardPaths, size = Number.MAX_SAFE_INTEGER): Hash[] {
  const hashes: Hash[] = [];
  forEachLine(ledgerFile(paths), (line) => {
    hashes.push(leafHash(line));
    return hashes.length < size;
  });
  return hashes;
}

function unsignedBytes(root: Omit<LedgerRoot, 'signature'> | LedgerRoot): string {
  return canonicalJson({ ...root, signature: undefined });
}

/** Verify the ledger, then sign and publish the root of all its entries. */
export function publishRoot(paths: ShardPaths, shardId: string, now: Date): { root: LedgerRoot; verdict: LedgerVerdict; consistent: boolean | null } {
  const previous = publishedRoot(paths, shardId);
  // Checked against the previous root below, as consistency: a repaired ledger may publish anew.
  const verdict = verifyLedger(paths, null);
  if (!verdict.ok) {
    throw new AgenceError('corrupt', `the ledger does not verify (${verdict.problem?.message}); no root published`, { file: ledgerFile(paths), fix: 'see `agence ^ledger verify`, then `agence ^ledger repair`' });
  }
  const hashes = leaves(paths, verdict.entries);
  let consistency: LedgerRoot['consistency'] = null;
  let consistent: boolean | null = null;
  if (previous) {
    consistent = previous.tree_size <= hashes.length && treeHash(hashes, 0, previous.tree_size).toString('hex') === previous.root_hash;
    if (consistent) consistency = { from_size: previous.tree_size, from_root: previous.root_hash, proof: consistencyPath(hashes, previous.tree_size).map((h) => h.toString('hex')) };
  }
  const key = signingKey(paths);
  const unsigned: Omit<LedgerRoot, 'signature'> = {
    schema: 1,
    shard: shardId,
    tree_size: hashes.length,
    root_hash: treeHash(hashes).toString('hex'),
    head_hash: verdict.last.hash,
    timestamp: now.toISOString(),
    signer: key.publicSsh,
    consistency,
  };
  const root: LedgerRoot = { ...unsigned, signature: signBytes(key, unsignedBytes(unsigned)) };
  writeFileAtomic(rootFile(paths), formatJson(root));
  return { root, verdict, consistent };
}

export interface InclusionProof {
  type: 'inclusion';
  shard: string;
  seq: number;
  leaf_index: number;
  tree_size: number;
  root_hash: string;
  /** The entry's line: the checker hashes it into the leaf. */
  entry: string;
  path: string[];
}

export interface ConsistencyProof {
  type: 'consistency';
  shard: string;
  first: number;
  second: number;
  first_root: string;
  second_root: string;
  proof: string[];
}

/** Inclusion proof of entry `seq` in the tree of `size` entries (default: the published root's, else all). */
export function proveInclusion(paths: ShardPaths, shardId: string, seq: number, size?: number): InclusionProof {
  const treeSize = size ?? publishedRoot(paths, shardId)?.tree_size ?? Number.MAX_SAFE_INTEGER;
  const lines: Buffer[] = [];
  const hashes: Hash[] = [];
  forEachLine(ledgerFile(paths), (line) => {
    hashes.push(leafHash(line));
    if (hashes.length === seq) lines.push(Buffer.from(line));
    return hashes.length < treeSize;
  });
  const n = Math.min(treeSize, hashes.length);
  if (!Number.isInteger(seq) || seq < 1 || seq > n) {
    throw new AgenceError('usage', `no entry ${seq} in a tree of ${n} entries`, { fix: n === 0 ? 'the ledger is empty' : `give a seq from 1 to ${n}${size === undefined ? ' (the size of the published root; --size N for another)' : ''}` });
  }
  return {
    type: 'inclusion',
    shard: shardId,
    seq,
    leaf_index: seq - 1,
    tree_size: n,
    root_hash: treeHash(hashes, 0, n).toString('hex'),
    entry: (lines[0] as Buffer).toString('utf8'),
    path: inclusionPath(hashes, seq - 1, n).map((h) => h.toString('hex')),
  };
}

/** Consistency proof from the tree of `first` entries to the tree of `second`. */
export function proveConsistency(paths: ShardPaths, shardId: string, first: number, second?: number): ConsistencyProof {
  const hashes = leaves(paths, second);
  const n = second ?? hashes.length;
  if (!Number.isInteger(first) || first < 0 || first > n || n > hashes.length) throw new AgenceError('usage', `no consistency proof from ${first} to ${n} entries (the ledger has ${hashes.length})`);
  return {
    type: 'consistency',
    shard: shardId,
    first,
    second: n,
    first_root: treeHash(hashes, 0, first).toString('hex'),
    second_root: treeHash(hashes, 0, n).toString('hex'),
    proof: consistencyPath(hashes, first, n).map((h) => h.toString('hex')),
  };
}

export interface RootCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** Whose key signed a root: this shard, a shard listed in trust.yaml, or nobody we trust. */
function signerCheck(root: LedgerRoot, label: string, paths: ShardPaths | null, ownId: string | null): RootCheck {
  const publicKey = parseSshPublicKey(root.signer);
  if (!publicKey) return { name: `${label} signature`, ok: false, detail: 'the signer is not an ssh-ed25519 key' };
  if (!verifyBytes(publicKey, unsignedBytes(root), root.signature)) return { name: `${label} signature`, ok: false, detail: 'the signature does not match the root: it was changed after signing' };
  const signerBlob = root.signer.split(' ')[1];
  const sameKey = (line: string) => line.trim().split(/\s+/)[1] === signerBlob;
  if (paths && ownId === root.shard && sameKey(signingKey(paths).publicSsh)) return { name: `${label} signature`, ok: true, detail: 'signed by this shard\'s own key' };
  const trusted = paths ? readTrust(paths).shards.find((s) => s.id === root.shard) : undefined;
  if (trusted && sameKey(trusted.key)) return { name: `${label} signature`, ok: true, detail: `signed by shard ${trusted.name ?? trusted.id}, whose key codex/trust.yaml lists` };
  return { name: `${label} signature`, ok: false, detail: trusted ? `signed by a key codex/trust.yaml does not list for shard ${root.shard}` : `shard ${root.shard} is not listed in codex/trust.yaml` };
}

const hex = (s: string) => Buffer.from(s, 'hex');

function readProof(file: string): InclusionProof | ConsistencyProof {
  const text = readTextFile(file);
  if (text === null) throw new AgenceError('not_found', `${file} does not exist`, { fix: 'give the file `agence ^ledger prove` wrote' });
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new AgenceError('corrupt', `${file} is not valid JSON`, { file, fix: 'give the file `agence ^ledger prove --json` wrote' });
  }
  const hexList = (v: unknown) => Array.isArray(v) && v.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h));
  if (value.type === 'inclusion' && typeof value.entry === 'string' && Number.isInteger(value.leaf_index) && Number.isInteger(value.tree_size) && hexList(value.path)) return value as unknown as InclusionProof;
  if (value.type === 'consistency' && Number.isInteger(value.first) && Number.isInteger(value.second) && hexList(value.proof)) return value as unknown as ConsistencyProof;
  throw new AgenceError('corrupt', `${file} is not an inclusion or consistency proof`, { file, fix: 'give the file `agence ^ledger prove --json` wrote' });
}

/**
 * Check a root file: its signature (against this shard's key or trust.yaml's shards), an
 * inclusion proof against it, and that it extends an older root (consistency). `paths` is the
 * shard we run in (for trust and, for our own roots, the log itself), or null outside one.
 */
export function checkRoot(
  paths: ShardPaths | null,
  ownId: string | null,
  rootPath: string,
  options: { proof?: string; old?: string },
): { ok: boolean; checks: RootCheck[]; root: LedgerRoot } {
  const root = readRootFile(rootPath);
  if (!root) throw new AgenceError('not_found', `${rootPath} does not exist`, { fix: 'give a ledger-root.json file' });
  const checks: RootCheck[] = [signerCheck(root, 'root', paths, ownId)];
  const proof = options.proof ? readProof(options.proof) : null;
  if (proof?.type === 'inclusion') {
    const ok =
      proof.tree_size === root.tree_size &&
      verifyInclusion(leafHash(Buffer.from(proof.entry, 'utf8')), proof.leaf_index, proof.tree_size, proof.path.map(hex), hex(root.root_hash));
    checks.push({
      name: 'inclusion',
      ok,
      detail: ok
        ? `entry ${proof.leaf_index + 1} is in the tree of ${root.tree_size} entries`
        : proof.tree_size !== root.tree_size
          ? `the proof is for a tree of ${proof.tree_size} entries, the root has ${root.tree_size}`
          : `the proof does not lead from entry ${proof.leaf_index + 1} to the root hash`,
    });
  }
  if (options.old) {
    const old = readRootFile(options.old);
    if (!old) throw new AgenceError('not_found', `${options.old} does not exist`, { fix: 'give the older ledger-root.json' });
    checks.push(signerCheck(old, 'old root', paths, ownId));
    checks.push(consistencyCheck(paths, ownId, old, root, proof?.type === 'consistency' ? proof : null));
  } else if (proof?.type === 'consistency') {
    const ok = proof.second === root.tree_size && proof.second_root === root.root_hash && verifyConsistency(proof.first, proof.second, hex(proof.first_root), hex(root.root_hash), proof.proof.map(hex));
    checks.push({ name: 'consistency', ok, detail: ok ? `the tree of ${proof.first} entries is a prefix of this root` : 'the consistency proof does not hold for this root' });
  }
  return { ok: checks.every((c) => c.ok), checks, root };
}

function consistencyCheck(paths: ShardPaths | null, ownId: string | null, old: LedgerRoot, root: LedgerRoot, given: ConsistencyProof | null): RootCheck {
  const name = 'consistency';
  if (old.shard !== root.shard) return { name, ok: false, detail: `the roots are of different shards (${old.shard}, ${root.shard})` };
  if (old.tree_size > root.tree_size) return { name, ok: false, detail: `the old root has ${old.tree_size} entries, the new one ${root.tree_size}: the log shrank` };
  // Where the proof comes from: a proof file, the one the new root carries, or our own log.
  let proof: string[] | null = null;
  let source = '';
  if (given && given.first === old.tree_size && given.second === root.tree_size) {
    proof = given.proof;
    source = 'the proof file';
  } else if (root.consistency && root.consistency.from_size === old.tree_size && root.consistency.from_root === old.root_hash) {
    proof = root.consistency.proof;
    source = 'the proof the new root carries';
  } else if (paths && ownId === root.shard) {
    proof = proveConsistency(paths, root.shard, old.tree_size, root.tree_size).proof;
    source = 'this shard\'s ledger';
  }
  if (proof === null) return { name, ok: false, detail: `no consistency proof from ${old.tree_size} to ${root.tree_size} entries: ask the shard for \`agence ^ledger prove --from ${old.tree_size} --json\`` };
  const ok = verifyConsistency(old.tree_size, root.tree_size, hex(old.root_hash), hex(root.root_hash), proof.map(hex));
  return { name, ok, detail: ok ? `the log only grew from ${old.tree_size} to ${root.tree_size} entries (proof from ${source})` : `the log did not only grow from ${old.tree_size} to ${root.tree_size} entries: its history was rewritten (proof from ${source})` };
}
