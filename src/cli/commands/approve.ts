import { createRequire } from 'node:module';
import { AgenceError } from '../../core/errors.js';
import type { Approval, ApprovalKind } from '../../guard/approvals.js';
import { requireShard, type ShardPaths } from '../../shard/layout.js';
import type { Handler, Invocation } from '../types.js';

/**
 * `^approve <id>`, `^deny <id>`, `^approve --list`. A person decides (never an agent, and on a
 * terminal or with --yes); the decision is recorded on the request and in the ledger, then the
 * service that filed the request acts on it, through the table below.
 */

type Decision = 'approved' | 'denied';
/** What the filing service does with a decision; returns a line for the person. */
type Act = (paths: ShardPaths, approval: Approval, inv: Invocation) => Promise<string>;

const loadHandoffs = () => import('../../handoff/handoffs.js');

const ACT_ON: Record<ApprovalKind, Record<Decision, Act>> = {
  // An agent's cross-shard handoff waits on its local ref until a person decides.
  handoff: {
    approved: async (paths, a, inv) => {
      const pushed = await (await loadHandoffs()).pushApprovedHandoff(paths, a, a.decided_by ?? 'unknown', inv.now());
      return `handoff ${pushed.bundle_id} pushed to ${pushed.exchange}`;
    },
    denied: async (paths, a, inv) => {
      const dropped = await (await loadHandoffs()).dropDeniedHandoff(paths, a, a.decided_by ?? 'unknown', inv.now());
      return `handoff ${dropped.bundle_id} dropped; session ${dropped.session} stays with ${a.requested_by}`;
    },
  },
  // A T2 command runs once when the agent that asked runs it again (validatedCommands.ts).
  command: {
    approved: async (_paths, a) => `${a.requested_by} may now run \`${a.subject}\` once: the same command, run again, goes through`,
    denied: async (_paths, a) => `\`${a.subject}\` stays refused for ${a.requested_by}`,
  },
};

function refuseUnlessPerson(inv: Invocation, verb: string): void {
  if (inv.env.AGENCE_AGENT) {
    throw new AgenceError('refused', `agents cannot ${verb} (AGENCE_AGENT=${inv.env.AGENCE_AGENT})`, { fix: 'a person runs this, in their own shell' });
  }
  const tty = createRequire(import.meta.filename)('node:tty') as typeof import('node:tty');
  if (!inv.opts.yes && !tty.isatty(0)) {
    throw new AgenceError('refused', `${verb} needs a terminal, so that a person decides`, { fix: 'run it in a terminal, or add --yes if you are the person deciding' });
  }
}

function listText(pending: Approval[]): string {
  if (pending.length === 0) return 'No pending approvals.';
  return pending.map((a) => `${a.id}  ${a.kind.padEnd(7)}  ${a.requested_by}  ${a.created.slice(0, 16).replace('T', ' ')}  ${a.subject}`).join('\n');
}

async function decide(inv: Invocation, decision: Decision): Promise<{ data: unknown; text: string }> {
  const verb = decision === 'approved' ? 'approve' : 'deny';
  const id = inv.args[0];
  if (id === undefined) throw new AgenceError('usage', `^${verb} needs an approval id`, { fix: 'list pending requests with `agence ^approve --list`' });
  refuseUnlessPerson(inv, verb);
  const paths = requireShard(inv.cwd);
  const { readApproval, decideApproval } = await import('../../guard/approvals.js');
  const request = readApproval(paths, id);
  if (!request) throw new AgenceError('not_found', `no approval request ${id}`, { fix: 'list pending requests with `agence ^approve --list`' });
  const act = ACT_ON[request.kind];
  // A handoff approved earlier whose push failed (network, a refusing remote) is still held on its
  // ref: approving it again tries the push again instead of answering "already approved".
  if (request.kind === 'handoff' && request.status === 'approved' && decision === 'approved') {
    return { data: request, text: `${id} was approved by ${request.decided_by ?? 'someone'}; ${await act.approved(paths, request, inv)}` };
  }
  const { configGet } = await import('../../git/git.js');
  const by = (await configGet(paths.root, 'user.email')) || 'unknown';
  const decided = decideApproval(paths, id, decision, by, inv.now());
  const { appendLedger } = await import('../../ledger/ledger.js');
  appendLedger(paths, { actor: by, action: `approval.${verb}`, subject: decided.subject, decision, data: { id, kind: decided.kind, requested_by: decided.requested_by } }, inv.now());
  const line = await act[decision](paths, decided, inv);
  return { data: decided, text: `${decision === 'approved' ? 'Approved' : 'Denied'} ${id}: ${line}` };
}

export const approve: Handler = async (inv) => {
  if (inv.opts.list) {
    if (inv.args.length > 0) throw new AgenceError('usage', '^approve --list takes no id', { fix: 'run `agence ^approve --list`, then `agence ^approve <id>`' });
    const { listApprovals } = await import('../../guard/approvals.js');
    const pending = listApprovals(requireShard(inv.cwd), 'pending');
    return { data: pending, text: listText(pending) };
  }
  return decide(inv, 'approved');
};

export const deny: Handler = (inv) => decide(inv, 'denied');
