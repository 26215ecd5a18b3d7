import { AgenceError } from './errors.js';

/**
 * Access control (DESIGN §5): one table decides every operation on CODEX, NEXUS and handoffs.
 * Pure: the caller says who the actor is (from AGENCE_AGENT, git user.email, trust.yaml's admins
 * and whether the session was imported from another shard) and what is touched.
 */

export const ROLES = ['agent-local', 'agent-cross', 'user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Actor {
  /** AGENCE_AGENT for an agent, the git user.email for a person. */
  id: string;
  role: Role;
}

export interface ActorFacts {
  /** AGENCE_AGENT, when set. */
  agent: string | null;
  /** git user.email. */
  email: string | null;
  /** Emails of codex/trust.yaml's admins (effective view). */
  admins: readonly string[];
  /** The session the actor works in came from another shard (a handoff). */
  imported: boolean;
}

/** DESIGN §5: the actor is the agent when AGENCE_AGENT is set, else the person. */
export function actorOf(facts: ActorFacts): Actor {
  if (facts.agent) return { id: facts.agent, role: facts.imported ? 'agent-cross' : 'agent-local' };
  const email = facts.email ?? 'unknown';
  const isAdmin = facts.email !== null && facts.admins.some((a) => a.toLowerCase() === email.toLowerCase());
  return { id: email, role: isAdmin ? 'admin' : 'user' };
}

export type AccessAction = 'read' | 'write' | 'handoff';

/**
 * What is touched. NEXUS records say whose they are (`owner`: the actor that made them; null
 * for records of the shard on this machine, such as the ledger) and whether the read is of raw
 * records or of hints (summaries). Handoffs say whether they stay in the shard.
 */
export type Resource =
  | { kind: 'codex' }
  | { kind: 'nexus'; owner: string | null; view: 'raw' | 'hints' }
  | { kind: 'handoff'; scope: 'shard' | 'cross' };

export type Verdict = 'allow' | 'approval' | 'deny';

type Rule = Verdict | ((actor: Actor, resource: Resource) => Verdict);

const own = (actor: Actor, resource: Resource): Verdict => (resource.kind === 'nexus' && (resource.owner === null || resource.owner === actor.id) ? 'allow' : 'deny');
const hintsOnly = (_actor: Actor, resource: Resource): Verdict => (resource.kind === 'nexus' && resource.view === 'hints' ? 'allow' : 'deny');
/** An agent hands off within its shard freely; leaving the shard waits for a person's approval. */
const withinShard = (_actor: Actor, resource: Resource): Verdict => (resource.kind === 'handoff' && resource.scope === 'shard' ? 'allow' : 'approval');

/**
 * The matrix of DESIGN §5, one cell per role, resource kind and action. "user: read own" on
 * NEXUS is read as: a person reads and writes their own records (sessions they saved, and this
 * machine's shard records such as the ledger), not other people's.
 */
const MATRIX: Record<Role, Record<Resource['kind'], Partial<Record<AccessAction, Rule>>>> = {
  'agent-local': {
    codex: { read: 'allow', write: 'deny' },
    nexus: { read: 'allow', write: 'allow' },
    handoff: { handoff: withinShard },
  },
  'agent-cross': {
    codex: { read: 'allow', write: 'deny' },
    nexus: { read: hintsOnly, write: 'deny' },
    handoff: { handoff: 'approval' },
  },
  user: {
    codex: { read: 'allow', write: 'deny' },
    nexus: { read: own, write: own },
    handoff: { handoff: 'allow' },
  },
  admin: {
    codex: { read: 'allow', write: 'allow' },
    nexus: { read: 'allow', write: 'allow' },
    handoff: { handoff: 'allow' },
  },
};

const DESCRIBE: Record<Role, string> = {
  'agent-local': 'an agent of this shard',
  'agent-cross': 'an agent working on a session from another shard',
  user: 'a user who is not a CODEX admin',
  admin: 'a CODEX admin',
};

export interface Authorization {
  verdict: Verdict;
  reason: string;
}

function describe(action: AccessAction, resource: Resource): string {
  switch (resource.kind) {
    case 'codex':
      return `${action} CODEX`;
    case 'nexus':
      return `${action} ${resource.view === 'hints' ? 'summaries of' : ''}${resource.owner === null ? ' NEXUS' : ` ${resource.owner}'s NEXUS records`}`.replace(/\s+/g, ' ');
    case 'handoff':
      return `hand off ${resource.scope === 'shard' ? 'within the shard' : 'to another shard'}`;
  }
}

/** May `actor` do `action` on `resource`? A pair the table has no cell for is denied. */
export function authorize(actor: Actor, action: AccessAction, resource: Resource): Authorization {
  const rule = MATRIX[actor.role][resource.kind][action];
  const verdict: Verdict = rule === undefined ? 'deny' : typeof rule === 'function' ? rule(actor, resource) : rule;
  const what = describe(action, resource);
  const who = `${actor.id} (${DESCRIBE[actor.role]})`;
  const reason = verdict === 'allow' ? `${who} may ${what}` : verdict === 'approval' ? `${who} needs a human's approval to ${what}` : `${who} may not ${what}`;
  return { verdict, reason };
}

/** authorize() for callers that stop on anything but allow: exit 2 with the reason. */
export function requireAccess(actor: Actor, action: AccessAction, resource: Resource): void {
  const { verdict, reason } = authorize(actor, action, resource);
  if (verdict !== 'allow') {
    throw new AgenceError('refused', reason, { fix: verdict === 'approval' ? 'ask a person to approve it' : 'ask a CODEX admin (codex/trust.yaml) to do it' });
  }
}
