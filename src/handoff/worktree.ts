import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { type Bundle, redactValue } from '../core/handoff.js';
import { agenceIdentity, applyPatch, binaryDiff, git, resolveCommit, snapshotWorkTree, unpushedPatches, workTreeState } from '../git/git.js';
import type { ShardPaths } from '../shard/layout.js';
import { acceptedFor } from './accepted.js';
import { logHandoff } from './handoffLog.js';

/**
 * The uncommitted work a handoff carries (`--with-worktree`) and restores (`^resume --apply`).
 */

/** Beyond this many commits on no remote, a handoff with the work is refused rather than scanned. */
const MAX_UNPUSHED = 1000;

/**
 * The work's commit has HEAD as parent, so pushing it uploads every commit of HEAD that the
 * remotes do not have yet: those are scanned for secrets like the uncommitted work (every patch,
 * so a secret added and removed again is found too).
 */
async function refuseUnpushedSecrets(root: string): Promise<void> {
  const unpushed = await unpushedPatches(root, MAX_UNPUSHED);
  if (unpushed === null) {
    throw new AgenceError('refused', `more than ${MAX_UNPUSHED} commits of HEAD are on no remote, and the handoff would push them all to the exchange`, { fix: 'push your branch first, or hand off without --with-worktree' });
  }
  const found = redactValue(unpushed.patches);
  if (found.count > 0) {
    throw new AgenceError('refused', `the ${unpushed.commits} local commit${unpushed.commits === 1 ? '' : 's'} not on any remote hold ${found.count} secret${found.count === 1 ? '' : 's'} (${Object.keys(found.kinds).join(', ')}), and the handoff would push them`, {
      fix: 'take the secret out of those commits (rewrite them before pushing anything), or hand off without --with-worktree',
    });
  }
}

/** The uncommitted work as a commit (temporary index), refused if it or the local commits under it hold a secret. */
export async function snapshotWork(paths: ShardPaths, shardName: string, bundleId: string, now: Date): Promise<Bundle['worktree']> {
  const dir = mkdtempSync(join(tmpdir(), 'agence-index-'));
  try {
    const snap = await snapshotWorkTree(paths.root, join(dir, 'index'), `agence handoff ${bundleId}: uncommitted work`, agenceIdentity(`${shardName}@agence.invalid`, now));
    const found = redactValue((await binaryDiff(paths.root, snap.base, snap.commit)).toString('utf8'));
    if (found.count > 0) {
      throw new AgenceError('refused', `the uncommitted work holds ${found.count} secret${found.count === 1 ? '' : 's'} (${Object.keys(found.kinds).join(', ')}), and code travels as it is`, {
        fix: 'take the secrets out of the files (use an ignored .env), or hand off without --with-worktree',
      });
    }
    await refuseUnpushedSecrets(paths.root);
    return { commit: snap.commit, base: snap.base };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface WorktreePlan {
  bundle_id: string;
  commit: string;
  base: string;
  files: string[];
  patch: Buffer;
}

/**
 * Before `^resume --apply`: the uncommitted work a handed-off session brought, as a patch, checked
 * to apply cleanly and to touch no file with local changes. Nothing is changed yet.
 */
export async function planWorktree(paths: ShardPaths, sessionId: string): Promise<WorktreePlan> {
  const record = acceptedFor(paths, sessionId);
  if (!record?.worktree) throw new AgenceError('usage', `session ${sessionId} did not come with uncommitted work`, { fix: 'only sessions handed off with `^handoff --with-worktree` can be resumed with --apply' });
  const { commit, base } = record.worktree;
  if (!(await resolveCommit(paths.root, commit))) {
    throw new AgenceError('not_found', `the work of bundle ${record.bundle_id} (commit ${commit.slice(0, 12)}) is not in this repository`, { fix: 'fetch it with `agence ^inbox` (it travels on the handoff ref); bundles imported from a file carry no work' });
  }
  const files = (await git(['diff', '--name-only', '-z', base, commit, '--'], { cwd: paths.root })).split('\0').filter((f) => f !== '');
  const state = await workTreeState(paths.root);
  const touched = files.filter((f) => state.dirty.includes(f) || state.staged.includes(f));
  if (touched.length > 0) {
    throw new AgenceError('conflict', `applying the handed-off work would overwrite local changes in ${touched.slice(0, 5).join(', ')}${touched.length > 5 ? ', ...' : ''}`, {
      fix: 'commit or stash those changes (`git stash`), then `agence ^resume --apply` again',
    });
  }
  const patch = await binaryDiff(paths.root, base, commit);
  const check = await applyPatch(paths.root, patch, true);
  if (!check.ok) throw new AgenceError('conflict', `the handed-off work does not apply to this work tree: ${check.message}`, { fix: `check out the commit it was made on (${base.slice(0, 12)}), then \`agence ^resume --apply\` again` });
  return { bundle_id: record.bundle_id, commit, base, files, patch };
}

/** Apply a checked plan to the work tree (not the index). */
export async function applyWorktree(paths: ShardPaths, plan: WorktreePlan, actor: string, now: Date): Promise<void> {
  const applied = await applyPatch(paths.root, plan.patch, false);
  if (!applied.ok) throw new AgenceError('conflict', `the handed-off work did not apply: ${applied.message}`, { fix: 'see `git status`; nothing else was changed' });
  logHandoff(paths, { action: 'apply', actor, subject: plan.bundle_id, decision: 'done', data: { files: plan.files.length, commit: plan.commit } }, now);
}
