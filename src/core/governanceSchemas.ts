// zod/mini, like schemas.ts; kept apart so that commands which never touch the ledger or trust
// (every start of `agence`) do not pay for building these schemas.
import * as z from './zod.js';
import { SHARD_ID_RE, TIERS } from './schemas.js';

const HEX64_RE = /^[0-9a-f]{64}$/;
const hex64 = () => z.string().check(z.regex(HEX64_RE, '64 lowercase hex digits'));

/** One line of `nexus/ledger.jsonl` (DESIGN §5, docs/ledger.md). */
export const LedgerEntrySchema = z.deferred(() => z.object({
  seq: z.int().check(z.positive()),
  ts: z.string().check(z.minLength(1)),
  actor: z.string().check(z.minLength(1)),
  action: z.string().check(z.minLength(1)),
  subject: z.string(),
  tier: z.nullable(z.enum(TIERS)),
  decision: z.string().check(z.minLength(1)),
  data: z.record(z.string(), z.unknown()),
  prev: hex64(),
  hash: hex64(),
  mac: hex64(),
}));
export type LedgerEntry = z.infer<typeof LedgerEntrySchema>;

/**
 * `nexus/ledger.head.json`: where the ledger ends, so an append reads one line instead of the
 * file, and a truncated ledger is told from a short one. MACed with the ledger key.
 */
export const LedgerHeadSchema = z.deferred(() => z.object({
  seq: z.int().check(z.nonnegative()),
  hash: hex64(),
  /** Byte size of the ledger after entry `seq`, and where that entry's line starts. */
  size: z.int().check(z.nonnegative()),
  offset: z.int().check(z.nonnegative()),
  /** Set by `^ledger verify` when it finds a bad line; appends refuse until `^ledger repair`. */
  broken: z.nullable(z.object({ seq: z.int(), line: z.int(), problem: z.string() })),
  mac: hex64(),
}));
export type LedgerHead = z.infer<typeof LedgerHeadSchema>;

/**
 * `organic/ledger-root.json`: a signed Merkle root of the ledger (RFC 6962 tree hashing), so
 * other shards can check the log's integrity without seeing it. `head_hash` is the hash of entry
 * `tree_size`, which lets `^ledger verify` compare in O(1); `consistency` proves the tree grew
 * from the root published before it.
 */
export const LedgerRootSchema = z.deferred(() => z.object({
  schema: z.literal(1),
  shard: z.string().check(z.regex(SHARD_ID_RE)),
  tree_size: z.int().check(z.nonnegative()),
  root_hash: hex64(),
  head_hash: hex64(),
  timestamp: z.string().check(z.minLength(1)),
  signer: z.string().check(z.regex(/^ssh-ed25519 [A-Za-z0-9+/]+={0,2}$/)),
  consistency: z.nullable(z.object({ from_size: z.int().check(z.nonnegative()), from_root: hex64(), proof: z.array(hex64()) })),
  signature: z.string().check(z.regex(/^[A-Za-z0-9+/]+={0,2}$/)),
}));
export type LedgerRoot = z.infer<typeof LedgerRootSchema>;

/** `codex/trust.yaml` (effective view): who may change CODEX, and which shard keys are trusted. */
export const TrustSchema = z.deferred(() => z.object({
  version: z._default(z.literal(1), 1),
  admins: z._default(
    z.array(z.looseObject({ name: z.optional(z.string()), email: z.string().check(z.minLength(3)), keys: z._default(z.array(z.string()), []) })),
    [],
  ),
  shards: z._default(z.array(z.looseObject({ id: z.string().check(z.regex(SHARD_ID_RE)), name: z.optional(z.string()), key: z.string() })), []),
}));
export type Trust = z.infer<typeof TrustSchema>;

/** `^ledger prove SEQ`: that an entry is in the tree of `tree_size` entries (RFC 6962 audit path). */
export const InclusionProofSchema = z.deferred(() => z.object({
  type: z.literal('inclusion'),
  shard: z.string().check(z.regex(SHARD_ID_RE)),
  seq: z.int().check(z.positive()),
  leaf_index: z.int().check(z.nonnegative()),
  tree_size: z.int().check(z.positive()),
  root_hash: hex64(),
  /** The entry's line: the checker hashes it into the leaf. */
  entry: z.string(),
  path: z.array(hex64()),
}));
export type InclusionProof = z.infer<typeof InclusionProofSchema>;

/** `^ledger prove --from N`: that the tree of `first` entries is a prefix of the tree of `second`. */
export const ConsistencyProofSchema = z.deferred(() => z.object({
  type: z.literal('consistency'),
  shard: z.string().check(z.regex(SHARD_ID_RE)),
  first: z.int().check(z.nonnegative()),
  second: z.int().check(z.nonnegative()),
  first_root: hex64(),
  second_root: hex64(),
  proof: z.array(hex64()),
}));
export type ConsistencyProof = z.infer<typeof ConsistencyProofSchema>;

export const LedgerProofSchema = z.deferred(() => z.union([InclusionProofSchema, ConsistencyProofSchema]));
