// zod/mini: the same schemas as zod's classic API at a fraction of the start-up cost.
import * as z from 'zod/mini';
import { masterUrlProblem } from './masterUrl.js';

// A CLI parses a handful of records per run: compiling a fast path for each schema costs more
// than it saves.
z.config({ jitless: true });

/** The versioned layers a master passes down (DESIGN §3). */
export const MASTER_LAYERS = ['codex', 'synthetic', 'organic', 'globalcache', 'objectcode'] as const;
export type MasterLayer = (typeof MASTER_LAYERS)[number];

export const TIERS = ['T0', 'T1', 'T2', 'T3', 'T4'] as const;
export type Tier = (typeof TIERS)[number];

/** Names of shards, orgs and agents: safe in paths, refs and `shard:id` names. */
export const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const SHARD_ID_RE = /^[0-9a-f]{12}$/;
export const COMMIT_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** A master URL is checked wherever it is read: a cloned manifest is input like any other. */
const masterUrl = z.string().check(z.refine((url) => masterUrlProblem(url) === null, 'not a git URL agence will fetch (see docs/ARCHITECTURE.md)'));

const name = z.string().check(z.regex(NAME_RE, 'lowercase letters, digits, ".", "_" or "-", at most 64'));

export const MasterRefSchema = z.object({
  url: masterUrl,
  /** What to follow on the master: HEAD (its default branch), a branch name or a full ref. */
  ref: z._default(z.string().check(z.regex(/^(?!.*\.\.)(?!-)[A-Za-z0-9._/-]+$/)), 'HEAD'),
  layers: z._default(z.array(z.enum(MASTER_LAYERS)).check(z.minLength(1)), [...MASTER_LAYERS]),
});
export type MasterRef = z.infer<typeof MasterRefSchema>;

/** `.agence/agence.json`: the committed shard manifest. Unknown keys are kept for later releases. */
export const ManifestSchema = z.looseObject({
  schema: z.literal(1),
  shard: z.object({ id: z.string().check(z.regex(SHARD_ID_RE)), name, org: name }),
  master: z._default(z.nullable(MasterRefSchema), null),
  exchange: z._default(z.object({ remote: z.nullable(z.string().check(z.minLength(1))) }), { remote: null }),
  default_agent: z._default(name, 'sonya'),
  /** What model calls may cost this shard per UTC month, in US dollars (`^cost`). */
  budget: z.optional(z.object({ monthly_usd: z.number().check(z.gte(0)) })),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** `.agence/agence.lock`: the master commit every reader of this shard uses. */
export const LockSchema = z.object({
  schema: z.literal(1),
  master: z.object({ url: masterUrl, ref: z.string().check(z.minLength(1)), commit: z.string().check(z.regex(COMMIT_RE)) }),
});
export type Lock = z.infer<typeof LockSchema>;

/** `.agence/base/.agence-base.json`: which commit `base/` was materialised from. */
export const BaseMarkerSchema = z.object({
  commit: z.string().check(z.regex(COMMIT_RE)),
  layers: z.array(z.enum(MASTER_LAYERS)),
  files: z.int().check(z.nonnegative()),
  /** Content files per layer, so `^status` need not walk base/. */
  counts: z.record(z.string(), z.int().check(z.nonnegative())),
});
export type BaseMarker = z.infer<typeof BaseMarkerSchema>;

export const RegistryEntrySchema = z.object({
  id: z.string().check(z.regex(SHARD_ID_RE)),
  name,
  org: name,
  path: z.string().check(z.minLength(1)),
  master: z.nullable(z.string()),
  registered: z.string(),
});
export type RegistryEntry = z.infer<typeof RegistryEntrySchema>;

/** `~/.config/agence/shards.json`: the shards this user has initialised or opened. */
export const RegistrySchema = z.object({
  schema: z.literal(1),
  shards: z.array(RegistryEntrySchema),
});
export type Registry = z.infer<typeof RegistrySchema>;

/** The first problem zod found, as `path: message`, for one-line errors. */
export function firstIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return `${where}: ${issue.message}`;
}

const HEX64_RE = /^[0-9a-f]{64}$/;
const hex64 = z.string().check(z.regex(HEX64_RE, '64 lowercase hex digits'));

/** One line of `nexus/ledger.jsonl` (DESIGN §5, docs/ledger.md). */
export const LedgerEntrySchema = z.object({
  seq: z.int().check(z.positive()),
  ts: z.string().check(z.minLength(1)),
  actor: z.string().check(z.minLength(1)),
  action: z.string().check(z.minLength(1)),
  subject: z.string(),
  tier: z.nullable(z.enum(TIERS)),
  decision: z.string().check(z.minLength(1)),
  data: z.record(z.string(), z.unknown()),
  prev: hex64,
  hash: hex64,
  mac: hex64,
});
export type LedgerEntry = z.infer<typeof LedgerEntrySchema>;

/**
 * `nexus/ledger.head.json`: where the ledger ends, so an append reads one line instead of the
 * file, and a truncated ledger is told from a short one. MACed with the ledger key.
 */
export const LedgerHeadSchema = z.object({
  seq: z.int().check(z.nonnegative()),
  hash: hex64,
  /** Byte size of the ledger after entry `seq`, and where that entry's line starts. */
  size: z.int().check(z.nonnegative()),
  offset: z.int().check(z.nonnegative()),
  /** Set by `^ledger verify` when it finds a bad line; appends refuse until `^ledger repair`. */
  broken: z.nullable(z.object({ seq: z.int(), line: z.int(), problem: z.string() })),
  mac: hex64,
});
export type LedgerHead = z.infer<typeof LedgerHeadSchema>;

/**
 * `organic/ledger-root.json`: a signed Merkle root of the ledger (RFC 6962 tree hashing), so
 * other shards can check the log's integrity without seeing it. `head_hash` is the hash of entry
 * `tree_size`, which lets `^ledger verify` compare in O(1); `consistency` proves the tree grew
 * from the root published before it.
 */
export const LedgerRootSchema = z.object({
  schema: z.literal(1),
  shard: z.string().check(z.regex(SHARD_ID_RE)),
  tree_size: z.int().check(z.nonnegative()),
  root_hash: hex64,
  head_hash: hex64,
  timestamp: z.string().check(z.minLength(1)),
  signer: z.string().check(z.regex(/^ssh-ed25519 [A-Za-z0-9+/]+={0,2}$/)),
  consistency: z.nullable(z.object({ from_size: z.int().check(z.nonnegative()), from_root: hex64, proof: z.array(hex64) })),
  signature: z.string().check(z.regex(/^[A-Za-z0-9+/]+={0,2}$/)),
});
export type LedgerRoot = z.infer<typeof LedgerRootSchema>;

/** `codex/trust.yaml` (effective view): who may change CODEX, and which shard keys are trusted. */
export const TrustSchema = z.object({
  version: z._default(z.literal(1), 1),
  admins: z._default(
    z.array(z.looseObject({ name: z.optional(z.string()), email: z.string().check(z.minLength(3)), keys: z._default(z.array(z.string()), []) })),
    [],
  ),
  shards: z._default(z.array(z.looseObject({ id: z.string().check(z.regex(SHARD_ID_RE)), name: z.optional(z.string()), key: z.string() })), []),
});
export type Trust = z.infer<typeof TrustSchema>;
