import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { type Actor, type Authorization, authorize } from '../core/access.js';
import { AgenceError } from '../core/errors.js';
import { assertBundleId, type Bundle, bundleRef, bundleText } from '../core/handoff.js';
import { type Manifest, NAME_RE } from '../core/schemas.js';
import { type Session, SessionSchema } from '../core/session.js';
import { deleteRef, pushRef, resolveCommit, updateRef, workTreeState } from '../git/git.js';
import { type Approval, requestApproval } from '../guard/approvals.js';
import { checkTransfer, prepareTransfer, type SessionContext, sessionExists, storeImported, storeTransfer } from '../sessions/sessions.js';
import { resolveActor } from '../shard/actor.js';
import { signingKey } from '../shard/keys.js';
import type { ShardPaths } from '../shard/layout.js';
import { readManifest } from '../shard/manifest.js';
import { createFileOnce } from '../store/atomic.js';
import { type Accepted, readAccepted, unfinishedImport, writeAccepted } from './accepted.js';
import { assertAcceptable, assertAgent, buildBundle, bundleOpener, type OpenedBundle } from './bundle.js';
import { acceptedCommit, bundleCommit, type Exchange, exchangeRemote, fetchHandoffs, pushHandoff, readRefBundles, type RefMark, withdrawHandoff } from './exchange.js';
import { type HandoffAction, logHandoff } from './handoffLog.js';
import { snapshotWork } from './worktree.js';

/**
 * The handoff service: `^handoff`, `^export`, `^import`, `^inbox`, `^accept`, `^trust` and the
 * push of an approved handoff (the work a handoff carries is `worktree.ts`). Every export, push,
 * accept and refusal is logged.
 */

export interface HandoffContext {
  sessions: SessionContext;
  manifest: Manifest;
}

function shard(ctx: HandoffContext): ShardPaths {
  return ctx.sessions.shard;
}

/** Run `fn`; log a policy or integrity refusal (with its reason) before passing it on. */
async function refusalsLogged<T>(ctx: HandoffContext, action: HandoffAction, subject: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof AgenceError && (error.code === 'refused' || error.code === 'corrupt')) {
      logHandoff(shard(ctx), { action: 'refuse', actor: await ctx.sessions.actor(), subject, decision: 'refused', data: { during: action, reason: error.message } }, ctx.sessions.now());
    }
    throw error;
  }
}

export interface HandoffInput {
  agent: string;
  note: string | null;
  toShard: string | null;
  withWorktree: boolean;
}

export interface HandoffResult {
  bundle: Bundle;
  exchange: string;
  pushed: boolean;
  /** Set when an agent handed off across shards: the push waits for a user's `^approve`. */
  approval: Approval | null;
}

/** authorize() (DESIGN §5) for handing `session` off: the actor's role knows whether it was imported. */
async function handoffAccess(ctx: HandoffContext, session: Session, scope: 'shard' | 'cross'): Promise<Authorization & { actor: Actor }> {
  const actor = await resolveActor(shard(ctx), ctx.sessions.env, session.lineage.from_shard !== null);
  return { ...authorize(actor, 'handoff', { kind: 'handoff', scope }), actor };
}

/** A handoff leaves the shard unless it names this shard. */
function crossShard(manifest: Manifest, toShard: string | null): boolean {
  return toShard !== manifest.shard.name && toShard !== manifest.shard.id;
}

/**
 * `^handoff <agent> ["note"] [--to SHARD] [--with-worktree]`: save the current session, bundle and
 * sign it, commit it on its ref and push it to the exchange remote; only then is the session
 * marked TRANSFERRED. An agent's cross-shard handoff stops before the push, for a user's approval.
 */
export async function handoff(ctx: HandoffContext, input: HandoffInput): Promise<HandoffResult> {
  const paths = shard(ctx);
  const actor = await ctx.sessions.actor();
  return refusalsLogged(ctx, 'push', input.agent, async () => {
    if (!NAME_RE.test(input.agent)) throw new AgenceError('usage', `"${input.agent}" is not an agent name`, { fix: 'e.g. `agence ^handoff ralph "note"`' });
    if (input.toShard !== null && !NAME_RE.test(input.toShard)) throw new AgenceError('usage', `--to "${input.toShard}" is not a shard name`, { fix: 'give the name in that shard\'s .agence/agence.json' });
    assertAgent(paths, input.agent, `shard ${ctx.manifest.shard.name}'s codex`);
    const exchange = await exchangeRemote(paths, ctx.manifest);
    const session = await prepareTransfer(ctx.sessions, input.note === null ? { current: true } : { current: true, note: input.note });
    const bundleId = `${session.session_id}-${randomBytes(6).toString('hex')}`;
    const now = ctx.sessions.now();
    const worktree = input.withWorktree ? await snapshotWork(paths, ctx.manifest.shard.name, bundleId, now) : null;
    const bundle = await buildBundle(paths, { bundleId, manifest: ctx.manifest, session, fromAgent: session.agent, toAgent: input.agent, toShard: input.toShard, note: input.note, worktree, now });
    const commit = await bundleCommit(paths, ctx.manifest, bundle, now);
    const data = { to_agent: input.agent, to_shard: input.toShard, session: session.session_id, commit, exchange: exchange.name, redactions: bundle.redactions.count };
    const access = await handoffAccess(ctx, session, crossShard(ctx.manifest, input.toShard) ? 'cross' : 'shard');
    if (access.verdict === 'deny') throw new AgenceError('refused', access.reason, { fix: 'ask a person to hand it off' });
    if (access.verdict === 'approval') {
      // Held on its local ref until a user decides; the session stays as it was until then, and
      // the approval keeps the TRANSFERRED revision that pushApprovedHandoff stores.
      await updateRef(paths.root, bundleRef(bundleId), commit, null);
      const approval = requestApproval(
        paths,
        { id: bundleId, kind: 'handoff', subject: `handoff ${bundleId} (session ${session.session_id}) to ${input.agent}${input.toShard ? ` in ${input.toShard}` : ''}`, requestedBy: actor, data: { bundle_id: bundleId, commit, session } },
        now,
      );
      logHandoff(paths, { action: 'await-approval', actor, subject: bundleId, decision: 'pending', data }, now);
      return { bundle, exchange: exchange.name, pushed: false, approval };
    }
    // Pushed straight from the commit: a refused push leaves no local ref behind (the next ^inbox fetches it).
    await pushHandoff(paths, exchange, commit, bundleId);
    await storeOrWithdraw(ctx.sessions, exchange, commit, bundleId, session);
    logHandoff(paths, { action: 'push', actor, subject: bundleId, decision: 'done', data }, now);
    return { bundle, exchange: exchange.name, pushed: true, approval: null };
  });
}

/**
 * After the push, the TRANSFERRED revision. If the session moved on meanwhile (a `^save`, say a
 * Claude Code hook's, between building the bundle and now), the bundle no longer carries the
 * session as it is: it is taken back from the exchange remote and the session stays here.
 */
async function storeOrWithdraw(ctx: SessionContext, exchange: Exchange, commit: string, bundleId: string, session: Session): Promise<void> {
  try {
    storeTransfer(ctx, session);
  } catch (error) {
    const withdrawn = await withdrawHandoff(ctx.shard, exchange, commit, bundleId);
    const why = error instanceof AgenceError ? error.message : String(error);
    if (withdrawn) {
      throw new AgenceError('conflict', `${why}; the bundle ${bundleId} was taken back from ${exchange.name}, the session stays here`, { fix: 'hand it off again' });
    }
    throw new AgenceError('conflict', `${why}, and the bundle ${bundleId} could not be taken back from ${exchange.name} (already accepted?): it carries session ${session.session_id} as of rev ${session.rev - 1}`, {
      fix: `see \`agence ^inbox --all\` on the receiving side; mark this copy done with \`agence ^done ${session.session_id}\` if the receiver has it`,
    });
  }
}

export interface PushedHandoff {
  bundle_id: string;
  exchange: string;
  commit: string;
}

/** The held handoff an approval is about: its bundle id, commit, and the session revision to store. */
async function heldHandoff(paths: ShardPaths, approval: Approval, status: Approval['status']): Promise<{ bundleId: string; commit: string; session: Session }> {
  if (approval.kind !== 'handoff' || approval.status !== status) {
    throw new AgenceError('refused', `approval ${approval.id} is a ${approval.status} ${approval.kind} request, not ${status === 'approved' ? 'an approved' : 'a denied'} handoff`, { fix: `see it with \`agence ^approve --list\`` });
  }
  const bundleId = assertBundleId(approval.id, 'handoff approval id');
  const session = SessionSchema.safeParse(approval.data.session);
  const commit = await resolveCommit(paths.root, bundleRef(bundleId));
  if (!session.success || !commit || commit !== approval.data.commit) {
    throw new AgenceError('corrupt', `the handoff ${bundleId} held for approval is not as it was filed (its ref or its request changed)`, { fix: 'hand the session off again and approve the new bundle' });
  }
  return { bundleId, commit, session: session.data };
}

/** A session context for acting on a decision, outside the command that filed the request. */
function deciderContext(paths: ShardPaths, actor: string, now: Date): SessionContext {
  const manifest = readManifest(paths);
  return { shard: paths, shardName: manifest.shard.name, cwd: paths.root, env: {}, now: () => now, defaultAgent: manifest.default_agent, actor: async () => actor, workTree: workTreeState, notify: () => undefined };
}

/**
 * Push a handoff a user approved (`^approve <bundle-id>` calls this for approvals of kind
 * 'handoff'): the bundle committed on its local ref when the approval was asked for, unless the
 * session was saved again since (then the bundle is stale: refused). Only after the push is the
 * session marked TRANSFERRED.
 */
export async function pushApprovedHandoff(paths: ShardPaths, approval: Approval, actor: string, now: Date): Promise<PushedHandoff> {
  const held = await heldHandoff(paths, approval, 'approved');
  const ctx = deciderContext(paths, actor, now);
  checkTransfer(ctx, held.session);
  const exchange = await exchangeRemote(paths, readManifest(paths));
  try {
    await pushHandoff(paths, exchange, held.commit, held.bundleId);
    await storeOrWithdraw(ctx, exchange, held.commit, held.bundleId, held.session);
  } catch (error) {
    if (error instanceof AgenceError) logHandoff(paths, { action: 'refuse', actor, subject: held.bundleId, decision: 'refused', data: { during: 'push', reason: error.message } }, now);
    throw error;
  }
  logHandoff(paths, { action: 'push', actor, subject: held.bundleId, decision: 'done', data: { approved_by: approval.decided_by ?? actor, commit: held.commit, exchange: exchange.name, session: held.session.session_id } }, now);
  return { bundle_id: held.bundleId, exchange: exchange.name, commit: held.commit };
}

/**
 * Drop a handoff a user denied (`^deny <bundle-id>` calls this): its local ref goes, the session
 * stays with the agent as it was.
 */
export async function dropDeniedHandoff(paths: ShardPaths, approval: Approval, actor: string, now: Date): Promise<{ bundle_id: string; session: string }> {
  const held = await heldHandoff(paths, approval, 'denied');
  await deleteRef(paths.root, bundleRef(held.bundleId), held.commit);
  logHandoff(paths, { action: 'refuse', actor, subject: held.bundleId, decision: 'refused', data: { during: 'approval', denied_by: approval.decided_by ?? actor, session: held.session.session_id } }, now);
  return { bundle_id: held.bundleId, session: held.session.session_id };
}

/** `^export <id> [--out FILE]`: the same bundle, in a file (or on stdout), for a manual transfer. */
export async function exportSession(ctx: HandoffContext, id: string, out: string | { deliver: (bundle: Bundle, text: string) => void }): Promise<{ bundle: Bundle; text: string; file: string | null }> {
  const paths = shard(ctx);
  return refusalsLogged(ctx, 'export', id, async () => {
    const file = typeof out === 'string' ? out : null;
    const clobbered = () => new AgenceError('conflict', `${file} already exists`, { fix: 'choose another --out file, or move that one aside' });
    if (file !== null && existsSync(file)) throw clobbered();
    const session = await prepareTransfer(ctx.sessions, { current: false, id });
    // A bundle by hand is addressed to no shard, so it could go anywhere; there is no request to
    // approve for it, so only an actor allowed outright may export (an agent hands off with
    // ^handoff, whose cross-shard handoffs wait for a person).
    const access = await handoffAccess(ctx, session, 'cross');
    if (access.verdict !== 'allow') {
      throw new AgenceError('refused', `${access.actor.id} may not export a session by hand, only a user can (${access.reason})`, { fix: 'hand it off with `agence ^handoff AGENT`, or ask a person to export it' });
    }
    const bundleId = `${session.session_id}-${randomBytes(6).toString('hex')}`;
    const now = ctx.sessions.now();
    const bundle = await buildBundle(paths, { bundleId, manifest: ctx.manifest, session, fromAgent: session.agent, toAgent: null, toShard: null, note: null, worktree: null, now });
    const text = bundleText(bundle);
    // The session is TRANSFERRED only once the bundle is out: read back from its file, or written
    // whole to the caller's stream (a closed pipe leaves the session as it was).
    if (file !== null) {
      if (!createFileOnce(file, text)) throw clobbered();
      if (readFileSync(file, 'utf8') !== text) throw new AgenceError('corrupt', `${file} did not read back as written`, { fix: 'check the disk and export again' });
    } else if (typeof out !== 'string') {
      out.deliver(bundle, text);
    }
    storeTransfer(ctx.sessions, session);
    logHandoff(paths, { action: 'export', actor: await ctx.sessions.actor(), subject: bundleId, decision: 'done', data: { session: session.session_id, file, redactions: bundle.redactions.count } }, now);
    return { bundle, text, file };
  });
}

export interface AcceptResult {
  bundle: Bundle;
  session: Session;
}

/** Import an opened bundle, already judged acceptable, as a new SAVED session, once. */
function importOpened(ctx: HandoffContext, opened: OpenedBundle, via: Accepted['via']): Session {
  const paths = shard(ctx);
  const { bundle } = opened;
  return storeImported(
    ctx.sessions,
    (id, now): Session => ({
      ...bundle.session,
      session_id: id,
      rev: 1,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
      status: 'SAVED',
      agent: bundle.to.agent ?? bundle.session.agent,
      metadata: { ...bundle.session.metadata, repo: paths.mainRoot },
      cwd: paths.root,
      lineage: {
        parent: `${bundle.from.shard_name}:${bundle.session.session_id}`,
        from_shard: bundle.from.shard_name,
        from_agent: bundle.from.agent,
        to_agent: bundle.to.agent ?? bundle.session.agent,
        handoff_note: bundle.note,
      },
    }),
    (exists) => unfinishedImport(paths, bundle.bundle_id, exists),
    (session) =>
      writeAccepted(paths, {
        bundle_id: bundle.bundle_id,
        session_id: session.session_id,
        from_shard: bundle.from.shard_name,
        from_agent: bundle.from.agent,
        accepted_at: session.created_at,
        via,
        worktree: bundle.worktree,
      }),
  );
}

/**
 * `^accept <bundle-id>`: verify the bundle on its ref, claim it on the exchange remote (the
 * accepted mark is a fast-forward of the ref, so of two shards racing, one push is refused), then
 * import it. A claim this clone made whose import was cut short is finished, not refused.
 */
export async function acceptBundle(ctx: HandoffContext, id: string): Promise<AcceptResult> {
  const paths = shard(ctx);
  const actor = await ctx.sessions.actor();
  return refusalsLogged(ctx, 'accept', id.slice(0, 80), async () => {
    assertBundleId(id);
    const [held] = await readRefBundles(paths, id);
    if (!held) throw new AgenceError('not_found', `no handoff ${id} here`, { fix: 'fetch handoffs with `agence ^inbox`, then accept one it lists' });
    if (held.text === null || held.blob === null) throw new AgenceError('corrupt', `${held.ref} holds no readable bundle: ${held.problem}`, { fix: `ask the sender to hand off again; \`git update-ref -d ${held.ref}\` removes it here` });
    const ownKey = signingKey(paths).fingerprint;
    unfinishedImport(paths, id, (session) => sessionExists(ctx.sessions, session));
    const claimedHere = held.accepted?.by_key === ownKey;
    if (held.accepted && !claimedHere) {
      throw new AgenceError('refused', `bundle ${id} was already accepted by ${held.accepted.by_shard} (${held.accepted.by_agent}) on ${held.accepted.at}: a replay`, { fix: 'ask the sender for a new handoff if the work should move again' });
    }
    const opened = (await bundleOpener(paths))(held.text, held.ref);
    if (opened.bundle.bundle_id !== id) throw new AgenceError('corrupt', `${held.ref} holds bundle ${opened.bundle.bundle_id}, not ${id}`, { fix: `\`git update-ref -d ${held.ref}\` and fetch again` });
    assertAcceptable(paths, ctx.manifest, opened);
    const now = ctx.sessions.now();
    if (!claimedHere) {
      const mark = { by_shard: ctx.manifest.shard.name, by_agent: opened.bundle.to.agent ?? opened.bundle.session.agent, by_key: ownKey, at: now.toISOString() };
      await claim(ctx, held.ref, held.commit, held.blob, mark, now);
    }
    const session = importOpened(ctx, opened, 'ref');
    logHandoff(paths, { action: 'accept', actor, subject: id, decision: 'done', data: { session: session.session_id, from_shard: opened.bundle.from.shard_name, signer: opened.bundle.signer.fingerprint } }, now);
    return { bundle: opened.bundle, session };
  });
}

/** Push the accepted mark as a fast-forward of the bundle's ref; refused if the ref moved on. */
async function claim(ctx: HandoffContext, ref: string, parent: string, bundleBlob: string, mark: RefMark, now: Date): Promise<void> {
  const paths = shard(ctx);
  const exchange = await exchangeRemote(paths, ctx.manifest);
  const commit = await acceptedCommit(paths, ctx.manifest, parent, bundleBlob, mark, now);
  const pushed = await pushRef(paths.root, exchange.url, commit, ref);
  if (!pushed.ok) {
    throw new AgenceError('refused', `bundle ${ref.slice(ref.lastIndexOf('/') + 1)} could not be claimed on ${exchange.name} (${pushed.message}); another shard may have accepted it`, {
      fix: 'run `agence ^inbox` to see its state, then accept again if it is still open',
    });
  }
  await updateRef(paths.root, ref, commit, parent);
}

/** The bytes of a bundle file named by the user. */
function readBundleFile(file: string): string {
  if (!existsSync(file) || !statSync(file).isFile()) throw new AgenceError('not_found', `${file} is not a file`, { fix: 'give the path of a bundle written by `agence ^export`' });
  return readFileSync(file, 'utf8');
}

/** `^import FILE`: verify and import a bundle exported to a file. */
export async function importFile(ctx: HandoffContext, file: string): Promise<{ bundle: Bundle; session: Session }> {
  const paths = shard(ctx);
  return refusalsLogged(ctx, 'import', file, async () => {
    const opened = (await bundleOpener(paths))(readBundleFile(file), file);
    assertAcceptable(paths, ctx.manifest, opened);
    const session = importOpened(ctx, opened, 'file');
    logHandoff(paths, { action: 'import', actor: await ctx.sessions.actor(), subject: opened.bundle.bundle_id, decision: 'done', data: { session: session.session_id, file } }, ctx.sessions.now());
    return { bundle: opened.bundle, session };
  });
}

export interface InboxEntry {
  bundle_id: string;
  from_shard: string | null;
  from_agent: string | null;
  to_agent: string | null;
  to_shard: string | null;
  note: string | null;
  created: string | null;
  signer: string | null;
  trusted: boolean;
  /** `here` (accepted by this shard), another shard's name, or null. */
  accepted: string | null;
  /** Why the bundle cannot be accepted as it is (unreadable, altered, newer schema, other org). */
  problem: string | null;
}

/**
 * `^inbox [--all]`: fetch the handoff refs of the exchange remote; list the open ones (with
 * --all, the accepted ones too) for this shard or its agents, and any ref that holds no bundle.
 */
export async function inbox(ctx: HandoffContext, agents: readonly string[], all: boolean): Promise<{ exchange: Exchange; entries: InboxEntry[] }> {
  const paths = shard(ctx);
  const exchange = await exchangeRemote(paths, ctx.manifest);
  await fetchHandoffs(paths, exchange);
  const entries: InboxEntry[] = [];
  const me = ctx.manifest.shard;
  const ownKey = signingKey(paths).fingerprint;
  const open = await bundleOpener(paths);
  for (const held of await readRefBundles(paths)) {
    const blank = { bundle_id: held.id, from_shard: null, from_agent: null, to_agent: null, to_shard: null, note: null, created: null, signer: null, trusted: false, accepted: null };
    if (held.text === null) {
      entries.push({ ...blank, problem: held.problem });
      continue;
    }
    // Accepted handoffs (here, or marked on their ref) are done: listed with --all only.
    const local = readAccepted(paths, held.id);
    if (!all && (local || held.accepted)) continue;
    let opened: OpenedBundle;
    try {
      opened = open(held.text, held.ref);
    } catch (error) {
      if (!(error instanceof AgenceError)) throw error;
      entries.push({ ...blank, problem: error.message });
      continue;
    }
    const b = opened.bundle;
    // What this clone sent is not its mail (another clone of the shard has another key).
    if (b.from.shard_id === me.id && b.signer.fingerprint === ownKey) continue;
    const addressed = b.to.shard === me.name || b.to.shard === me.id || (b.to.shard === null && b.to.agent !== null && agents.includes(b.to.agent));
    if (!addressed) continue;
    entries.push({
      bundle_id: b.bundle_id,
      from_shard: b.from.shard_name,
      from_agent: b.from.agent,
      to_agent: b.to.agent,
      to_shard: b.to.shard,
      note: b.note,
      created: b.created,
      signer: b.signer.fingerprint,
      trusted: opened.trusted,
      accepted: local ? 'here' : (held.accepted?.by_shard ?? null),
      problem: b.org !== me.org ? `from org ${b.org}` : null,
    });
  }
  entries.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''));
  return { exchange, entries };
}

/**
 * `^trust <fingerprint> [--bundle FILE]`: a user adds the key that signed a bundle (fetched on a
 * handoff ref, or in FILE) to this shard's trust.yaml. Never an agent.
 */
export async function trustSigner(ctx: HandoffContext, fingerprint: string, file: string | null): Promise<{ shard_id: string; shard_name: string; key: string; added: boolean }> {
  const paths = shard(ctx);
  return refusalsLogged(ctx, 'trust', fingerprint, async () => {
    if (ctx.sessions.env.AGENCE_AGENT) {
      throw new AgenceError('refused', `agent ${ctx.sessions.env.AGENCE_AGENT} may not trust a signer: only a user can`, { fix: 'ask a person to run `agence ^trust ' + fingerprint + '` in their own shell' });
    }
    if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(fingerprint)) throw new AgenceError('usage', `"${fingerprint}" is not a key fingerprint`, { fix: 'copy the signer shown by `agence ^inbox` (SHA256:...)' });
    const texts = file !== null ? [{ text: readBundleFile(file), shown: file }] : (await readRefBundles(paths)).filter((h) => h.text !== null).map((h) => ({ text: h.text as string, shown: h.ref }));
    const open = await bundleOpener(paths);
    for (const { text, shown } of texts) {
      let opened: OpenedBundle;
      try {
        opened = open(text, shown);
      } catch (error) {
        if (file !== null || !(error instanceof AgenceError)) throw error;
        continue; // another ref's problem is not this command's
      }
      if (opened.bundle.signer.fingerprint !== fingerprint) continue;
      const { from, signer } = opened.bundle;
      const { addTrustedKey } = await import('../shard/trust.js');
      const added = addTrustedKey(paths, { id: from.shard_id, name: from.shard_name }, signer.key);
      logHandoff(paths, { action: 'trust', actor: await ctx.sessions.actor(), subject: fingerprint, decision: 'done', data: { shard_id: from.shard_id, shard_name: from.shard_name, added } }, ctx.sessions.now());
      return { shard_id: from.shard_id, shard_name: from.shard_name, key: signer.key, added };
    }
    throw new AgenceError('not_found', `no verified bundle here is signed by ${fingerprint}`, { fix: 'fetch handoffs with `agence ^inbox` first, or name the bundle file with --bundle FILE' });
  });
}
