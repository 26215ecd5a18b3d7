import * as z from './zod.js';
import { canonicalJson } from './canonicalJson.js';
import { AgenceError } from './errors.js';
import { firstIssue, isoTime, NAME_RE, SHARD_ID_RE } from './schemas.js';
import { NoteSchema, SessionSchema } from './session.js';

/**
 * A handoff bundle: a session moving between agents, machines or shards, with what the receiver
 * needs to continue (brief, lineage, codex digest, lessons, optionally the uncommitted work as a
 * commit), signed by the source shard's ed25519 key. Stored and signed as canonical JSON, so the
 * bytes on a ref or in a file are exactly the bytes that were signed (plus a final newline).
 */

/** This version writes and reads schema 1; a newer one is refused rather than half understood. */
export const HANDOFF_SCHEMA = 1;

/** `<session id>-<12 random hex>`: safe as a file name, a ref component and an approval id. */
export const BUNDLE_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{12}$/;

/** A bad id is refused (exit 2), not merely mistyped: it may be an attempt at a path or a ref outside ours. */
export function assertBundleId(id: string, what = 'bundle id'): string {
  if (!BUNDLE_ID_RE.test(id)) {
    throw new AgenceError('refused', `"${id.length > 40 ? `${id.slice(0, 40)}...` : id}" is not a ${what}`, {
      fix: 'a bundle id looks like 69a8f74c-3f9a1c0e7b2d (see `agence ^inbox`)',
    });
  }
  return id;
}

export function bundleRef(id: string): string {
  return `refs/agence/handoffs/${assertBundleId(id)}`;
}

/** Knowledge labels (DESIGN §5), lowest first. */
export const LABELS = ['public', 'internal', 'secret', 'top-secret'] as const;
export type Label = (typeof LABELS)[number];

/**
 * Why a lesson labelled `label` may not travel to an agent cleared for `clearance`, or null when
 * it may. Secret and above never leave the machine, whatever the clearance.
 */
export function labelBlocks(label: Label, clearance: Label): string | null {
  if (LABELS.indexOf(label) >= LABELS.indexOf('secret')) return `labelled ${label}: never leaves this machine`;
  if (LABELS.indexOf(label) > LABELS.indexOf(clearance)) return `labelled ${label}, above the ${clearance} clearance of the receiving agent`;
  return null;
}

const name = () => z.string().check(z.regex(NAME_RE, 'a name'));
const oid = () => z.string().check(z.regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/, 'a git object id'));

export const BundleSchema = z.deferred(() => z.object({
  schema: z.literal(HANDOFF_SCHEMA),
  bundle_id: z.string().check(z.regex(BUNDLE_ID_RE, 'a bundle id')),
  created: isoTime(),
  org: name(),
  from: z.object({ shard_id: z.string().check(z.regex(SHARD_ID_RE)), shard_name: name(), agent: z.string() }),
  to: z.object({ shard: z.nullable(name()), agent: z.nullable(name()) }),
  note: z.nullable(z.string()),
  session: SessionSchema,
  brief: z.object({
    task: z.string(),
    todo: z.object({ done: z.int(), total: z.int(), step: z.int(), next: z.nullable(z.string()) }),
    notes: z.array(NoteSchema),
  }),
  codex_digest: z.string().check(z.regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 hex>')),
  lessons: z.array(z.object({ id: z.string(), path: z.string(), label: z.enum(LABELS), content: z.string() })),
  omitted: z.array(z.object({ id: z.string(), reason: z.string() })),
  worktree: z.nullable(z.object({ commit: oid(), base: oid() })),
  redactions: z.object({ count: z.int().check(z.nonnegative()), kinds: z.record(z.string(), z.int()) }),
  signer: z.object({ key: z.string(), fingerprint: z.string() }),
  signature: z.string(),
}));
export type Bundle = z.infer<typeof BundleSchema>;
export type UnsignedBundle = Omit<Bundle, 'signature'>;

/** The bytes a signature covers: the canonical JSON of everything but the signature. */
export function signedBytes(bundle: UnsignedBundle | Record<string, unknown>): string {
  const { signature: _ignored, ...rest } = bundle as Record<string, unknown>;
  return canonicalJson(rest);
}

/** The bundle as stored: canonical JSON and a newline. */
export function bundleText(bundle: Bundle): string {
  return `${canonicalJson(bundle)}\n`;
}

/**
 * Parse stored bundle bytes, before any signature check: the text must be canonical (so one
 * changed space is as fatal as one changed letter), of a schema this version knows, and valid.
 * Returns the raw value too: the signature is checked over what was stored, not over what the
 * schema kept of it.
 */
export function parseBundleText(text: string, shown: string): { bundle: Bundle; raw: Record<string, unknown> } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new AgenceError('corrupt', `${shown} is not a handoff bundle (not JSON: ${(error as Error).message.replace(/\s+/g, ' ')})`, { fix: 'ask the sender to export it again' });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new AgenceError('corrupt', `${shown} is not a handoff bundle (not a JSON object)`, { fix: 'ask the sender to export it again' });
  }
  const record = raw as Record<string, unknown>;
  if (typeof record.schema === 'number' && Number.isInteger(record.schema) && record.schema > HANDOFF_SCHEMA) {
    throw new AgenceError('refused', `${shown} is a schema ${record.schema} bundle; this agence reads schema ${HANDOFF_SCHEMA}`, {
      fix: 'upgrade agence on this machine, then accept it again',
    });
  }
  if (text !== `${canonicalJson(record)}\n`) {
    throw new AgenceError('corrupt', `${shown} was altered: its bytes are not the canonical form that was signed`, { fix: 'refuse it and ask the sender to hand it off again' });
  }
  const parsed = BundleSchema.safeParse(record);
  if (!parsed.success) throw new AgenceError('corrupt', `${shown} is malformed (${firstIssue(parsed.error)})`, { fix: 'ask the sender to export it again' });
  return { bundle: parsed.data, raw: record };
}

/** The kinds of secret redaction looks for, each with the pattern that finds it. */
const SECRET_PATTERNS: readonly { kind: string; re: RegExp }[] = [
  { kind: 'private-key', re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----/g },
  { kind: 'aws-access-key', re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { kind: 'google-api-key', re: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  { kind: 'github-token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b/g },
  { kind: 'gitlab-token', re: /\bglpat-[A-Za-z0-9_-]{20,}\b/g },
  { kind: 'anthropic-key', re: /\bsk-ant-[A-Za-z0-9_-]{20,}/g },
  { kind: 'openai-key', re: /\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}/g },
  { kind: 'slack-token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g },
  { kind: 'jwt', re: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}/g },
  { kind: 'url-password', re: /(?<=\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+(?=@)/gi },
  {
    // `.env` style: an UPPER_CASE name that says what it holds, then `=`.
    kind: 'env-assignment',
    re: /(?<=\b[A-Z0-9_]*(?:SECRET|TOKEN|PASSWORD|PASSWD|API_KEY|APIKEY|PRIVATE_KEY|ACCESS_KEY|CREDENTIALS?)[A-Z0-9_]*\s*=\s*["']?)[^\s"'[]{4,}/g,
  },
];

export interface Redaction<T> {
  value: T;
  /** Distinct secrets found (one token quoted in three places counts once). */
  count: number;
  kinds: Record<string, number>;
}

/** Replace every secret in every string (keys included) of a JSON value by `[REDACTED:kind]`. */
export function redactValue<T>(input: T): Redaction<T> {
  const found = new Map<string, string>();
  const text = (s: string): string => {
    let value = s;
    for (const { kind, re } of SECRET_PATTERNS) {
      value = value.replace(re, (match) => {
        if (!found.has(match)) found.set(match, kind);
        return `[REDACTED:${kind}]`;
      });
    }
    return value;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), walk(x)]));
    return v;
  };
  const value = walk(input) as T;
  const kinds: Record<string, number> = {};
  for (const kind of found.values()) kinds[kind] = (kinds[kind] ?? 0) + 1;
  return { value, count: found.size, kinds };
}
