import { AgenceError } from '../../core/errors.js';
import { parseDuration } from '../../core/time.js';
import type { GrantStatus } from '../../guard/grants.js';
import { requireShard, type ShardPaths } from '../../shard/layout.js';
import type { Handler, Invocation } from '../types.js';

/** Grants are an admin's (codex/trust.yaml); the actor is the git user.email, never an agent. */
async function requireAdmin(paths: ShardPaths, inv: Invocation, verb: string): Promise<string> {
  const { resolveActor } = await import('../../shard/actor.js');
  const actor = await resolveActor(paths, inv.env);
  if (actor.role !== 'admin') {
    throw new AgenceError('refused', `only an admin may ${verb} (${actor.id} is ${actor.role === 'user' ? 'not listed in codex/trust.yaml' : 'an agent'})`, { fix: 'ask an admin listed in codex/trust.yaml' });
  }
  return actor.id;
}

function describe(g: GrantStatus): string {
  const limits = [g.token.expires_at ? `until ${g.token.expires_at.slice(0, 16).replace('T', ' ')}` : 'no expiry', g.token.uses === null ? `${g.used} uses` : `${g.used}/${g.token.uses} uses`];
  return `${g.token.id}  ${g.token.agent}  "${g.token.pattern}"  ${limits.join(', ')}  ${g.valid ? 'valid' : g.why}`;
}

/** `^grant <agent> "<pattern>" [--ttl 2h] [--uses N]`, or `^grant --list`. */
export const grant: Handler = async (inv) => {
  const paths = requireShard(inv.cwd);
  const { issueGrant, listGrants } = await import('../../guard/grants.js');
  if (inv.opts.list) {
    const all = listGrants(paths, inv.now());
    return { data: all, text: all.length === 0 ? 'No capability tokens.' : all.map(describe).join('\n') };
  }
  const [agent, pattern] = inv.args;
  if (agent === undefined || pattern === undefined) throw new AgenceError('usage', '^grant needs an agent and a command pattern', { fix: 'e.g. agence ^grant claude "git push origin *" --ttl 2h --uses 3' });
  const by = await requireAdmin(paths, inv, 'grant capability tokens');
  const ttl = typeof inv.opts.ttl === 'string' ? parseDuration(inv.opts.ttl, '--ttl') : null;
  const uses = typeof inv.opts.uses === 'string' ? Number(inv.opts.uses) : null;
  const token = issueGrant(paths, { agent, pattern, issuedBy: by, ttlMs: ttl, uses }, inv.now());
  const { appendLedger } = await import('../../ledger/ledger.js');
  appendLedger(paths, { actor: by, action: 'grant.issue', subject: token.id, decision: 'issued', data: { agent, pattern: token.pattern, expires_at: token.expires_at, uses: token.uses } }, inv.now());
  return {
    data: token,
    text: `Granted ${token.id}: ${agent} may run "${token.pattern}" at T1 where the guard says T2${token.expires_at ? `, until ${token.expires_at}` : ''}${token.uses !== null ? `, ${token.uses} time${token.uses === 1 ? '' : 's'}` : ''}. T3 and T4 stay closed. Revoke with \`agence ^revoke ${token.id}\`.`,
  };
};

/** `^revoke <token-id>`. */
export const revoke: Handler = async (inv) => {
  const paths = requireShard(inv.cwd);
  const by = await requireAdmin(paths, inv, 'revoke capability tokens');
  const { revokeGrant } = await import('../../guard/grants.js');
  const revoked = revokeGrant(paths, inv.args[0] as string, by, inv.now());
  const { appendLedger } = await import('../../ledger/ledger.js');
  appendLedger(paths, { actor: by, action: 'grant.revoke', subject: revoked.token.id, decision: 'revoked', data: { agent: revoked.token.agent, pattern: revoked.token.pattern } }, inv.now());
  return { data: revoked, text: `Revoked ${revoked.token.id} (${revoked.token.agent}: "${revoked.token.pattern}")` };
};
