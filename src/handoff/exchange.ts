import * as z from '../core/zod.js';
import { AgenceError } from '../core/errors.js';
import { BUNDLE_ID_RE, type Bundle, bundleRef, bundleText } from '../core/handoff.js';
import { fetchableMasterUrl, masterUrlProblem } from '../core/masterUrl.js';
import type { Manifest } from '../core/schemas.js';
import { agenceIdentity, commitFiles, configGet, deleteRemoteRef, fetchRef, listRefs, pushRef, readObjects, writeBlob } from '../git/git.js';
import type { ShardPaths } from '../shard/layout.js';

/**
 * Handoffs travel on refs, never on the user's branches: `refs/agence/handoffs/<bundle-id>` is a
 * commit whose tree holds `bundle.json` (and, once accepted, `accepted.json`), pushed to and
 * fetched from the shard's exchange remote.
 */

export const HANDOFF_REFS = 'refs/agence/handoffs/';
const REMOTE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface Exchange {
  /** As configured: a remote name or a URL. */
  name: string;
  url: string;
}

/** The exchange remote: `exchange.remote` in agence.json, else the master, else origin. */
export async function exchangeRemote(paths: ShardPaths, manifest: Manifest): Promise<Exchange> {
  const configured = manifest.exchange.remote ?? manifest.master?.url ?? null;
  const name = configured ?? 'origin';
  if (REMOTE_NAME_RE.test(name)) {
    const url = await configGet(paths.root, `remote.${name}.url`);
    if (url) return { name, url };
  }
  if (configured === null) {
    throw new AgenceError('refused', 'this shard has no exchange remote to send handoffs through (no exchange.remote, no master, no origin)', {
      fix: 'set "exchange": {"remote": "<remote name or URL>"} in .agence/agence.json, or add an origin remote (`git remote add origin URL`)',
    });
  }
  const problem = masterUrlProblem(configured);
  if (problem) {
    throw new AgenceError('refused', `the exchange remote "${configured}" cannot be used: ${problem}`, { fix: 'fix "exchange.remote" in .agence/agence.json' });
  }
  return { name: configured, url: fetchableMasterUrl(configured, paths.root) };
}

/** `accepted.json` on a handoff ref: who claimed it (the shard, and the key of the clone that did). */
const RefMarkSchema = z.deferred(() => z.object({ by_shard: z.string(), by_agent: z.string(), by_key: z.string(), at: z.string() }));
export type RefMark = z.infer<typeof RefMarkSchema>;

function refIdentity(manifest: Manifest, now: Date): NodeJS.ProcessEnv {
  return agenceIdentity(`${manifest.shard.name}@agence.invalid`, now);
}

/**
 * The commit that carries a bundle. With the uncommitted work, that commit is its second parent,
 * so pushing the ref carries the work's objects too.
 */
export async function bundleCommit(paths: ShardPaths, manifest: Manifest, bundle: Bundle, now: Date): Promise<string> {
  const blob = await writeBlob(paths.root, bundleText(bundle));
  const parents = bundle.worktree ? [bundle.worktree.commit] : [];
  return commitFiles(paths.root, { 'bundle.json': blob }, parents, `agence handoff ${bundle.bundle_id}`, refIdentity(manifest, now));
}

/** The follow-up commit that marks a bundle accepted. */
export async function acceptedCommit(paths: ShardPaths, manifest: Manifest, parent: string, bundleBlob: string, mark: RefMark, now: Date): Promise<string> {
  const markBlob = await writeBlob(paths.root, `${JSON.stringify(mark, null, 2)}\n`);
  return commitFiles(paths.root, { 'bundle.json': bundleBlob, 'accepted.json': markBlob }, [parent], `agence handoff accepted by ${mark.by_shard}`, refIdentity(manifest, now));
}

/** Push a handoff ref; a refusal by the remote (or no remote at all) is a policy refusal, exit 2. */
export async function pushHandoff(paths: ShardPaths, exchange: Exchange, commit: string, bundleId: string): Promise<void> {
  const pushed = await pushRef(paths.root, exchange.url, commit, bundleRef(bundleId));
  if (!pushed.ok) {
    throw new AgenceError('refused', `the exchange remote ${exchange.name} refused the handoff ${bundleId}: ${pushed.message}`, {
      fix: 'check that you may push refs/agence/* there (or set "exchange.remote" in .agence/agence.json), then hand off again',
    });
  }
}

/**
 * Take a pushed handoff back: its ref goes from the exchange remote unless it moved since (an
 * accept moves it, so a bundle already claimed stays claimed). Whether it was taken back.
 */
export async function withdrawHandoff(paths: ShardPaths, exchange: Exchange, commit: string, bundleId: string): Promise<boolean> {
  return deleteRemoteRef(paths.root, exchange.url, bundleRef(bundleId), commit);
}

/** Bring every handoff ref of the exchange remote into this repository. */
export async function fetchHandoffs(paths: ShardPaths, exchange: Exchange): Promise<void> {
  await fetchRef(paths.root, exchange.url, `${HANDOFF_REFS}*`, `${HANDOFF_REFS}*`);
}

export interface RefBundle {
  id: string;
  ref: string;
  commit: string;
  /** The stored bytes of bundle.json and its blob, or why the ref holds no bundle. */
  text: string | null;
  blob: string | null;
  problem: string | null;
  accepted: RefMark | null;
}

/** What each local handoff ref holds (all, or those named), read with one `git cat-file --batch`. */
export async function readRefBundles(paths: ShardPaths, only?: string): Promise<RefBundle[]> {
  // One ref is named directly (no for-each-ref): cat-file resolves it, and says if it is missing.
  const refs: [string, string][] = only ? [[bundleRef(only), bundleRef(only)]] : [...(await listRefs(paths.root, HANDOFF_REFS))];
  const specs = refs.flatMap(([, name]) => [name, `${name}:bundle.json`, `${name}:accepted.json`]);
  const objects = await readObjects(paths.root, specs);
  if (only && objects[0] === null) return [];
  return refs.map(([ref], i) => {
    const id = ref.slice(HANDOFF_REFS.length);
    const [commit, bundle, accepted] = [objects[i * 3], objects[i * 3 + 1], objects[i * 3 + 2]];
    const base = { id, ref, commit: commit?.oid ?? '', blob: null, accepted: null as RefMark | null };
    if (!BUNDLE_ID_RE.test(id)) return { ...base, text: null, problem: `"${id}" is not a bundle id` };
    if (commit?.type !== 'commit') return { ...base, text: null, problem: 'the ref does not point at a commit' };
    if (bundle?.type !== 'blob') return { ...base, text: null, problem: 'the commit holds no bundle.json' };
    let mark: RefMark | null = null;
    if (accepted?.type === 'blob') {
      let parsed: ReturnType<typeof RefMarkSchema.safeParse> | null = null;
      try {
        parsed = RefMarkSchema.safeParse(JSON.parse(accepted.data.toString('utf8')));
      } catch {
        // not JSON: reported below like any other malformed mark
      }
      if (!parsed?.success) return { ...base, text: null, problem: 'accepted.json is malformed' };
      mark = parsed.data;
    }
    return { ...base, text: bundle.data.toString('utf8'), blob: bundle.oid, problem: null, accepted: mark };
  });
}
