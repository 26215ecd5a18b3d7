import type { Bundle } from '../../core/handoff.js';
import { handoff } from '../../handoff/handoffs.js';
import { handoffContext } from '../sessionContext.js';
import type { Handler } from '../types.js';

/** The lines every command that makes a bundle prints: redactions, lessons, work. */
export function bundleSummary(bundle: Bundle): string[] {
  const { count, kinds } = bundle.redactions;
  const lines = [count === 0 ? '  no secrets found' : `  redacted ${count} secret${count === 1 ? '' : 's'} before signing (${Object.entries(kinds).map(([k, n]) => `${k} x${n}`).join(', ')})`];
  if (bundle.lessons.length > 0) lines.push(`  lessons: ${bundle.lessons.map((l) => l.id).join(', ')}`);
  for (const o of bundle.omitted) lines.push(`  left out lesson ${o.id}: ${o.reason}`);
  if (bundle.worktree) lines.push(`  with the uncommitted work (commit ${bundle.worktree.commit.slice(0, 12)} on ${bundle.worktree.base.slice(0, 12)})`);
  lines.push(`  signed by ${bundle.signer.fingerprint}`);
  return lines;
}

export const run: Handler = async (inv) => {
  const ctx = await handoffContext(inv);
  const result = await handoff(ctx, {
    agent: inv.args[0] as string,
    note: inv.args[1] ?? null,
    toShard: typeof inv.opts.to === 'string' ? inv.opts.to : null,
    withWorktree: inv.opts['with-worktree'] === true,
  });
  const { bundle } = result;
  const head = `session ${bundle.session.session_id} to ${bundle.to.agent}${bundle.to.shard ? ` in ${bundle.to.shard}` : ''} (bundle ${bundle.bundle_id})`;
  if (result.approval) {
    return {
      data: { ok: false, pushed: false, approval: result.approval, bundle_id: bundle.bundle_id, redactions: bundle.redactions, bundle },
      text: [
        `Bundled ${head}; not pushed: a cross-shard handoff by an agent needs a user's approval (the session stays yours until then)`,
        ...bundleSummary(bundle),
        `  a user approves it with: agence ^approve ${bundle.bundle_id}`,
      ].join('\n'),
      exit: 2,
    };
  }
  return {
    data: { ok: true, pushed: true, exchange: result.exchange, bundle_id: bundle.bundle_id, redactions: bundle.redactions, bundle },
    text: [`Handed off ${head}`, `  pushed to ${result.exchange} on refs/agence/handoffs/${bundle.bundle_id}`, ...bundleSummary(bundle)].join('\n'),
  };
};
