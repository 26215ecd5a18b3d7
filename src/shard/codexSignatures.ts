import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { allowedSigners, signatureVerdict } from '../core/codexTrust.js';
import { AgenceError } from '../core/errors.js';
import { mergeByName } from '../core/layering.js';
import { TrustSchema, type Trust } from '../core/governanceSchemas.js';
import { COMMIT_RE, firstIssue, LockSchema } from '../core/schemas.js';
import { commitAdding, commitSignature, commitsTouching, fileAt, isAncestor, resolveCommit } from '../git/git.js';
import type { ShardPaths } from './layout.js';

/**
 * `^verify codex`: every commit that changed `.agence/codex/` since the shard's anchor commit
 * must carry a good SSH signature by an admin key of codex/trust.yaml, as git itself judges it
 * (docs/ledger.md, "CODEX signatures").
 */

const CODEX = '.agence/codex/';
const TRUST = '.agence/codex/trust.yaml';
const MANIFEST = '.agence/agence.json';
const LOCK = '.agence/agence.lock';

export interface Anchor {
  commit: string;
  /** `manifest`: agence.json's `anchor`; `init`: the commit that added agence.json. */
  source: 'manifest' | 'init';
}

export interface CodexCommit {
  commit: string;
  ok: boolean;
  reason: string;
  author: string;
  subject: string;
  /** The admin (allowed-signers principal) whose key signed it, when one did. */
  signer: string | null;
  key: string | null;
  /** The parent's trust.yaml listed no admin key, so the commit was checked against its own (first keys). */
  bootstrap: boolean;
}

export interface CodexVerdict {
  ok: boolean;
  anchor: Anchor | null;
  commits: CodexCommit[];
  offending: CodexCommit[];
  /** Keys in trust.yaml that are not ssh-ed25519 keys (ignored, reported). */
  invalidKeys: { email: string; key: string }[];
}

/** ssh-keygen is what git runs to check SSH signatures; without it every commit would look unsigned. */
function requireSshKeygen(env: NodeJS.ProcessEnv): void {
  const found = (env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      const file = join(dir, 'ssh-keygen');
      return existsSync(file) && (statSync(file).mode & 0o111) !== 0;
    } catch {
      return false;
    }
  });
  if (!found) throw new AgenceError('dependency', 'ssh-keygen is not on PATH: git needs it to check SSH commit signatures', { fix: 'install OpenSSH (Debian/Ubuntu: apt-get install openssh-client)' });
}

function jsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A committed JSON file as of HEAD (the work tree is not what is being verified), or null. */
async function committedJson(paths: ShardPaths, path: string): Promise<Record<string, unknown> | null> {
  const text = await fileAt(paths.root, 'HEAD', path);
  if (text === null) return null;
  const value = jsonObject(text);
  if (!value) throw new AgenceError('corrupt', `${path} at HEAD is not a JSON object`, { fix: `fix ${path} in a new commit` });
  return value;
}

const anchorOf = (manifest: Record<string, unknown> | null): string | null => (manifest && manifest.anchor !== undefined ? String(manifest.anchor) : null);

/** The anchor as committed at HEAD: agence.json's `anchor`, else the commit that added agence.json. */
async function findAnchor(paths: ShardPaths): Promise<Anchor | null> {
  const anchor = anchorOf(await committedJson(paths, MANIFEST));
  if (anchor !== null) {
    const commit = COMMIT_RE.test(anchor) ? await resolveCommit(paths.root, anchor) : null;
    if (!commit || !(await isAncestor(paths.root, commit))) {
      throw new AgenceError('corrupt', `.agence/agence.json: anchor "${anchor}" is not a commit in the history of HEAD`, { file: paths.manifest, fix: 'set it to a full commit hash of this branch, or remove it to anchor at the commit that added agence.json' });
    }
    return { commit, source: 'manifest' };
  }
  const added = await commitAdding(paths.root, MANIFEST);
  return added ? { commit: added, source: 'init' } : null;
}

/**
 * The commit that set agence.json's current `anchor` (newest first: the first whose parent had
 * another value). Moving the anchor forward would exempt every CODEX commit before it, so that
 * commit is judged like a CODEX commit.
 */
async function anchoringCommit(paths: ShardPaths, anchor: string): Promise<string | null> {
  for (const commit of (await commitsTouching(paths.root, null, MANIFEST)).reverse()) {
    const parent = (await commitSignature(paths.root, commit, '/dev/null')).parents[0];
    const text = parent ? await fileAt(paths.root, parent, MANIFEST) : null;
    if ((text === null ? null : anchorOf(jsonObject(text))) !== anchor) return commit;
  }
  return null;
}

/** The base layer's trust.yaml: the master's, at the commit agence.lock pins at HEAD (never base/ on disk, which anyone can edit). */
async function baseTrustText(paths: ShardPaths): Promise<string | null> {
  const lock = LockSchema.safeParse(await committedJson(paths, LOCK));
  if (!lock.success) return null;
  const pinned = lock.data.master.commit;
  if (!(await resolveCommit(paths.root, pinned))) {
    throw new AgenceError('git', `the master commit ${pinned.slice(0, 12)} pinned in .agence/agence.lock is not in this repository`, { fix: 'fetch it with `agence ^pull --locked`' });
  }
  return fileAt(paths.root, pinned, 'codex/trust.yaml');
}

function parseTrust(text: string | null, shown: string): Record<string, unknown> | null {
  if (text === null) return null;
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new AgenceError('corrupt', `${shown} is not valid YAML (${(error as Error).message.split('\n')[0]})`, { fix: 'fix trust.yaml in a signed commit' });
  }
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** trust.yaml as of `rev`: the base layer's (the master at the lock) merged with the shard's at that commit. */
async function trustAt(paths: ShardPaths, rev: string, base: Record<string, unknown> | null): Promise<Trust> {
  const local = parseTrust(await fileAt(paths.root, rev, TRUST), `${TRUST} at ${rev.slice(0, 12)}`);
  const parsed = TrustSchema.safeParse(mergeByName(base, local).value);
  if (!parsed.success) throw new AgenceError('corrupt', `${TRUST} at ${rev.slice(0, 12)} is malformed (${firstIssue(parsed.error)})`, { fix: 'fix trust.yaml in a signed commit' });
  return parsed.data;
}

/**
 * Check every commit touching CODEX after the anchor. Each is judged by the admins of the
 * trust.yaml its parent had, so a commit cannot authorise itself by adding its own key; only
 * when the parent listed no admin key at all do the commit's own keys count (the first keys).
 */
export async function verifyCodexSignatures(paths: ShardPaths, env: NodeJS.ProcessEnv): Promise<CodexVerdict> {
  requireSshKeygen(env);
  const anchor = await findAnchor(paths);
  if (!anchor) return { ok: true, anchor: null, commits: [], offending: [], invalidKeys: [] };
  const base = parseTrust(await baseTrustText(paths), "the master's codex/trust.yaml at the locked commit");
  const anchoring = anchor.source === 'manifest' ? await anchoringCommit(paths, anchor.commit) : null;
  const touching = await commitsTouching(paths.root, anchor.commit, CODEX);
  const commits = anchoring && !touching.includes(anchoring) ? [anchoring, ...touching] : touching;
  const dir = mkdtempSync(join(tmpdir(), 'agence-signers-'));
  const results: CodexCommit[] = [];
  const invalid = new Map<string, { email: string; key: string }>();
  try {
    for (const [i, commit] of commits.entries()) {
      const parent = (await commitSignature(paths.root, commit, '/dev/null')).parents[0] ?? null;
      let trust = parent ? await trustAt(paths, parent, base) : null;
      let bootstrap = false;
      if (!trust || allowedSigners(trust).keys === 0) {
        trust = await trustAt(paths, commit, base);
        bootstrap = true;
      }
      const signers = allowedSigners(trust);
      for (const bad of signers.invalid) invalid.set(`${bad.email} ${bad.key}`, bad);
      const file = join(dir, `allowed-signers-${i}`);
      writeFileSync(file, signers.text);
      const sig = await commitSignature(paths.root, commit, file);
      const verdict = signers.keys === 0 ? { ok: false, reason: 'no admin in trust.yaml has a key' } : signatureVerdict(sig.status);
      results.push({ commit, ok: verdict.ok, reason: verdict.reason, author: sig.author, subject: sig.subject, signer: verdict.ok ? sig.signer : null, key: sig.key || null, bootstrap });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const offending = results.filter((r) => !r.ok);
  return { ok: offending.length === 0, anchor, commits: results, offending, invalidKeys: [...invalid.values()] };
}
