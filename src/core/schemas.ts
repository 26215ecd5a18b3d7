// zod/mini: the same schemas as zod's classic API at a fraction of the start-up cost.
import * as z from './zod.js';
import { masterUrlProblem } from './masterUrl.js';

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
const masterUrl = () => z.string().check(z.refine((url) => masterUrlProblem(url) === null, 'not a git URL agence will fetch (see docs/ARCHITECTURE.md)'));

const name = () => z.string().check(z.regex(NAME_RE, 'lowercase letters, digits, ".", "_" or "-", at most 64'));

/**
 * Building blocks are made afresh inside each deferred schema (a deferred one nested in another
 * would put a Proxy on the path of every parse): an ISO 8601 UTC time, a git commit id.
 */
export const isoTime = () => z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, 'an ISO 8601 UTC time'));
export const commitId = () => z.string().check(z.regex(COMMIT_RE));

export const MasterRefSchema = z.deferred(() => z.object({
  url: masterUrl(),
  /** What to follow on the master: HEAD (its default branch), a branch name or a full ref. */
  ref: z._default(z.string().check(z.regex(/^(?!.*\.\.)(?!-)[A-Za-z0-9._/-]+$/)), 'HEAD'),
  layers: z._default(z.array(z.enum(MASTER_LAYERS)).check(z.minLength(1)), [...MASTER_LAYERS]),
}));
export type MasterRef = z.infer<typeof MasterRefSchema>;

/** The files `^regen` can write, relative to the repository root (`instructions.targets` in agence.json). */
export const INSTRUCTION_TARGETS = ['AGENTS.md', 'CLAUDE.md', '.github/copilot-instructions.md', '.cursor/rules/agence.mdc'] as const;
export type InstructionTarget = (typeof INSTRUCTION_TARGETS)[number];

/** `.agence/agence.json`: the committed shard manifest. Unknown keys are kept for later releases. */
export const ManifestSchema = z.deferred(() => z.looseObject({
  schema: z.literal(1),
  shard: z.object({ id: z.string().check(z.regex(SHARD_ID_RE)), name: name(), org: name() }),
  master: z._default(z.nullable(MasterRefSchema), null),
  exchange: z._default(z.object({ remote: z.nullable(z.string().check(z.minLength(1))) }), { remote: null }),
  default_agent: z._default(name(), 'sonya'),
  /** What model calls may cost this shard per UTC month, in US dollars (`^cost`). */
  budget: z.optional(z.object({ monthly_usd: z.number().check(z.gte(0)) })),
  /** Which instruction files `^regen` writes (default: all of INSTRUCTION_TARGETS). */
  instructions: z.optional(z.object({ targets: z.array(z.enum(INSTRUCTION_TARGETS)) })),
}));
export type Manifest = z.infer<typeof ManifestSchema>;

/** `.agence/agence.lock`: the master commit every reader of this shard uses. */
export const LockSchema = z.deferred(() => z.object({
  schema: z.literal(1),
  master: z.object({ url: masterUrl(), ref: z.string().check(z.minLength(1)), commit: z.string().check(z.regex(COMMIT_RE)) }),
}));
export type Lock = z.infer<typeof LockSchema>;

/** `.agence/base/.agence-base.json`: which commit `base/` was materialised from. */
export const BaseMarkerSchema = z.deferred(() => z.object({
  commit: z.string().check(z.regex(COMMIT_RE)),
  layers: z.array(z.enum(MASTER_LAYERS)),
  files: z.int().check(z.nonnegative()),
  /** Content files per layer, so `^status` need not walk base/. */
  counts: z.record(z.string(), z.int().check(z.nonnegative())),
}));
export type BaseMarker = z.infer<typeof BaseMarkerSchema>;

export const RegistryEntrySchema = z.deferred(() => z.object({
  id: z.string().check(z.regex(SHARD_ID_RE)),
  name: name(),
  org: name(),
  path: z.string().check(z.minLength(1)),
  master: z.nullable(z.string()),
  registered: z.string(),
}));
export type RegistryEntry = z.infer<typeof RegistryEntrySchema>;

/** `~/.config/agence/shards.json`: the shards this user has initialised or opened. */
export const RegistrySchema = z.deferred(() => z.object({
  schema: z.literal(1),
  shards: z.array(RegistryEntrySchema),
}));
export type Registry = z.infer<typeof RegistrySchema>;

/** The first problem zod found, as `path: message`, for one-line errors. */
export function firstIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return `${where}: ${issue.message}`;
}
