import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { canonicalJson } from '../core/canonicalJson.js';
import { AgenceError } from '../core/errors.js';
import {
  type Bundle,
  LABELS,
  type Label,
  labelBlocks,
  parseBundleText,
  redactValue,
  signedBytes,
  type UnsignedBundle,
} from '../core/handoff.js';
import type { Manifest } from '../core/schemas.js';
import { type Session, todoProgress } from '../core/session.js';
import { layerDirs, listLayer } from '../shard/layerFiles.js';
import { parseSshPublicKey, signBytes, signingKey, sshFingerprint, verifyBytes } from '../shard/keys.js';
import type { ShardPaths } from '../shard/layout.js';
import { cachedTrustedShards, isTrusted } from '../shard/trustedKeys.js';
import { readOrNull } from '../store/files.js';

/** Building, signing, opening and judging handoff bundles. */

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * The digest of the effective CODEX: every file's base and local bytes, by path. Two shards with
 * the same digest are governed by the same rules; the receiver can tell whether they differ.
 */
export function codexDigest(paths: ShardPaths): string {
  const dirs = layerDirs(paths, 'codex');
  const files = listLayer(paths, 'codex').map((f) => {
    const base = readOrNull(join(dirs.base, f.path));
    const local = readOrNull(join(dirs.local, f.path));
    return { path: f.path, base: base && sha256(base), local: local && sha256(local) };
  });
  return `sha256:${sha256(canonicalJson(files))}`;
}

/** The agents of this shard (effective `codex/agents/*.md`). */
export function shardAgents(paths: ShardPaths): string[] {
  return listLayer(paths, 'codex')
    .map((f) => /^agents\/([a-z0-9][a-z0-9._-]*)\.md$/.exec(f.path)?.[1])
    .filter((n): n is string => n !== undefined);
}

export function assertAgent(paths: ShardPaths, agent: string, where: string): void {
  const agents = shardAgents(paths);
  if (!agents.includes(agent)) {
    throw new AgenceError('refused', `"${agent}" is not an agent of ${where}`, { fix: `use one of: ${agents.join(', ') || '(none: add codex/agents/<name>.md)'}` });
  }
}

/** What reads YAML is loaded only when there is YAML to read (a handoff without lessons has none). */
const loadReaders = async () => ({ ...(await import('../shard/effectiveView.js')), ...(await import('../shard/frontMatter.js')) });

/** The clearance of an agent: `clearance:` in its persona, else internal. */
async function clearanceOf(paths: ShardPaths, agent: string | null): Promise<Label> {
  if (agent === null) return 'internal';
  const { frontMatter, readEffective } = await loadReaders();
  try {
    const fm = frontMatter(readEffective(paths, 'codex', `agents/${agent}.md`).content, `codex/agents/${agent}.md`);
    const value = fm?.clearance;
    return typeof value === 'string' && (LABELS as readonly string[]).includes(value) ? (value as Label) : 'internal';
  } catch (error) {
    if (error instanceof AgenceError && error.code === 'not_found') return 'internal';
    throw error;
  }
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Lessons the session refers to by id (in its task, notes, todos or tags), from
 * `synthetic/lessons/*.md` with front matter. Those above the receiver's clearance, or labelled
 * secret and above, stay behind with a note. HERMETIC is never read here.
 */
async function referencedLessons(paths: ShardPaths, session: Session, note: string | null, toAgent: string | null): Promise<Pick<Bundle, 'lessons' | 'omitted'>> {
  const text = [session.metadata.task_description, ...session.notes.map((n) => n.text), ...session.runstate.todo_list.map((t) => t.title), ...session.metadata.tags, note ?? ''].join('\n');
  const lessons: Bundle['lessons'] = [];
  const omitted: Bundle['omitted'] = [];
  const files = listLayer(paths, 'synthetic').filter((f) => /^lessons\/.+\.md$/.test(f.path));
  if (files.length === 0) return { lessons, omitted };
  const { frontMatter, readEffective } = await loadReaders();
  const clearance = await clearanceOf(paths, toAgent);
  for (const file of files) {
    const content = readEffective(paths, 'synthetic', file.path).content;
    const named = file.path.slice('lessons/'.length, -3).split('/').pop() as string;
    const referenced = (id: string) => new RegExp(`(?<![\\w-])${escapeRe(id)}(?![\\w-])`).test(text);
    let fm: Record<string, unknown> | null;
    try {
      fm = frontMatter(content, `synthetic/${file.path}`);
    } catch (error) {
      // A damaged lesson the session names stays behind, said so; one it does not name is not this command's business.
      if (error instanceof AgenceError && referenced(named)) omitted.push({ id: named, reason: error.message });
      continue;
    }
    if (!fm) continue;
    const id = typeof fm.id === 'string' ? fm.id : named;
    if (!referenced(id)) continue;
    const label = fm.label === undefined ? 'internal' : fm.label;
    if (typeof label !== 'string' || !(LABELS as readonly string[]).includes(label)) {
      omitted.push({ id, reason: `unknown label "${String(label)}" (labels: ${LABELS.join(', ')})` });
      continue;
    }
    const blocked = labelBlocks(label as Label, clearance);
    if (blocked) omitted.push({ id, reason: blocked });
    else lessons.push({ id, path: `synthetic/${file.path}`, label: label as Label, content });
  }
  return { lessons, omitted };
}

export interface BundleInput {
  bundleId: string;
  manifest: Manifest;
  session: Session;
  fromAgent: string;
  toAgent: string | null;
  toShard: string | null;
  note: string | null;
  worktree: Bundle['worktree'];
  now: Date;
}

/** Build the bundle, redact secrets from it, and sign it with this shard's key. */
export async function buildBundle(paths: ShardPaths, input: BundleInput): Promise<Bundle> {
  const { session } = input;
  const progress = todoProgress(session.runstate.todo_list);
  const knowledge = await referencedLessons(paths, session, input.note, input.toAgent);
  const key = signingKey(paths);
  const content = {
    schema: 1 as const,
    bundle_id: input.bundleId,
    created: input.now.toISOString(),
    org: input.manifest.shard.org,
    from: { shard_id: input.manifest.shard.id, shard_name: input.manifest.shard.name, agent: input.fromAgent },
    to: { shard: input.toShard, agent: input.toAgent },
    note: input.note,
    session,
    brief: {
      task: session.metadata.task_description,
      todo: { ...progress, next: session.runstate.todo_list.find((t) => t.status !== 'done')?.title ?? null },
      notes: session.notes.slice(-5),
    },
    codex_digest: codexDigest(paths),
    ...knowledge,
    worktree: input.worktree,
  };
  const redacted = redactValue(content);
  const unsigned: UnsignedBundle = {
    ...redacted.value,
    redactions: { count: redacted.count, kinds: redacted.kinds },
    signer: { key: key.publicSsh, fingerprint: key.fingerprint },
  };
  return { ...unsigned, signature: signBytes(key, signedBytes(unsigned)) };
}

export interface OpenedBundle {
  bundle: Bundle;
  trusted: boolean;
}

/** Parse stored bytes and verify the signature: any failure is an integrity error (exit 3). */
export function verifyBundle(text: string, shown: string): Bundle {
  const { bundle, raw } = parseBundleText(text, shown);
  const publicKey = parseSshPublicKey(bundle.signer.key);
  if (!publicKey || sshFingerprint(bundle.signer.key) !== bundle.signer.fingerprint) {
    throw new AgenceError('corrupt', `${shown}: the signer key does not match its fingerprint ${bundle.signer.fingerprint}`, { fix: 'refuse it and ask the sender to hand it off again' });
  }
  // Base64 has spare bits: only the one canonical encoding of 64 bytes counts, so no byte of it can change.
  const signature = Buffer.from(bundle.signature, 'base64');
  if (signature.length !== 64 || signature.toString('base64') !== bundle.signature || !verifyBytes(publicKey, signedBytes(raw), bundle.signature)) {
    throw new AgenceError('corrupt', `${shown}: the signature does not verify (the bundle was altered after it was signed)`, { fix: 'refuse it and ask the sender to hand it off again' });
  }
  return bundle;
}

/**
 * What opens bundles for this shard: verify, and say whether the effective trust.yaml lists the
 * signer. The trust list is read once, however many bundles the command opens.
 */
export async function bundleOpener(paths: ShardPaths): Promise<(text: string, shown: string) => OpenedBundle> {
  const trusted = await cachedTrustedShards(paths);
  return (text, shown) => {
    const bundle = verifyBundle(text, shown);
    return { bundle, trusted: isTrusted(trusted, bundle.from.shard_id, bundle.signer.fingerprint) };
  };
}

/** Why this shard refuses an opened bundle (DESIGN §5), or nothing: other org, untrusted signer, another shard's, unknown agent. */
export function assertAcceptable(paths: ShardPaths, manifest: Manifest, opened: OpenedBundle): void {
  const { bundle } = opened;
  if (bundle.org !== manifest.shard.org) {
    throw new AgenceError('refused', `bundle ${bundle.bundle_id} comes from org "${bundle.org}", and this shard is in "${manifest.shard.org}": handoffs never leave an org`, {
      fix: 'hand the session over within its org',
    });
  }
  if (!opened.trusted) {
    throw new AgenceError('refused', `bundle ${bundle.bundle_id} is signed by ${bundle.signer.fingerprint}, which codex/trust.yaml does not list for shard ${bundle.from.shard_name} (${bundle.from.shard_id})`, {
      fix: `if you know that key, trust it as a user: \`agence ^trust ${bundle.signer.fingerprint}\` (or list it in the master's trust.yaml)`,
    });
  }
  if (bundle.to.shard !== null && bundle.to.shard !== manifest.shard.name && bundle.to.shard !== manifest.shard.id) {
    throw new AgenceError('refused', `bundle ${bundle.bundle_id} is addressed to shard ${bundle.to.shard}, not to this one (${manifest.shard.name})`, { fix: `accept it in ${bundle.to.shard}` });
  }
  if (bundle.to.agent !== null) assertAgent(paths, bundle.to.agent, 'this shard');
}
