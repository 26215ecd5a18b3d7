import { describe, expect, it } from 'vitest';
import { ROLES, actorOf, authorize, requireAccess, type AccessAction, type Actor, type Resource, type Role, type Verdict } from '../../src/core/access.js';

/**
 * DESIGN §5's matrix, written out cell by cell as the contract, and walked in full: every role
 * against every resource (each variant) and every action.
 */
const ME = 'me@example.com';
const RESOURCES: { label: string; resource: Resource }[] = [
  { label: 'codex', resource: { kind: 'codex' } },
  { label: 'nexus (shard, raw)', resource: { kind: 'nexus', owner: null, view: 'raw' } },
  { label: 'nexus (own, raw)', resource: { kind: 'nexus', owner: ME, view: 'raw' } },
  { label: "nexus (other's, raw)", resource: { kind: 'nexus', owner: 'other@example.com', view: 'raw' } },
  { label: 'nexus (shard, hints)', resource: { kind: 'nexus', owner: null, view: 'hints' } },
  { label: 'handoff (within shard)', resource: { kind: 'handoff', scope: 'shard' } },
  { label: 'handoff (cross shard)', resource: { kind: 'handoff', scope: 'cross' } },
];
const ACTIONS: AccessAction[] = ['read', 'write', 'handoff'];

type Row = Record<string, Partial<Record<AccessAction, Verdict>>>;
// What DESIGN §5 says, per role. Cells not listed are deny (e.g. "handoff" of CODEX).
const EXPECTED: Record<Role, Row> = {
  'agent-local': {
    codex: { read: 'allow' },
    'nexus (shard, raw)': { read: 'allow', write: 'allow' },
    'nexus (own, raw)': { read: 'allow', write: 'allow' },
    "nexus (other's, raw)": { read: 'allow', write: 'allow' },
    'nexus (shard, hints)': { read: 'allow', write: 'allow' },
    'handoff (within shard)': { handoff: 'allow' },
    // "within shard" freely; leaving it waits for a person (docs/handoff.md, Approval)
    'handoff (cross shard)': { handoff: 'approval' },
  },
  'agent-cross': {
    codex: { read: 'allow' },
    'nexus (shard, hints)': { read: 'allow' },
    'handoff (within shard)': { handoff: 'approval' },
    'handoff (cross shard)': { handoff: 'approval' },
  },
  user: {
    codex: { read: 'allow' },
    'nexus (shard, raw)': { read: 'allow', write: 'allow' },
    'nexus (own, raw)': { read: 'allow', write: 'allow' },
    'nexus (shard, hints)': { read: 'allow', write: 'allow' },
    'handoff (within shard)': { handoff: 'allow' },
    'handoff (cross shard)': { handoff: 'allow' },
  },
  admin: {
    codex: { read: 'allow', write: 'allow' },
    'nexus (shard, raw)': { read: 'allow', write: 'allow' },
    'nexus (own, raw)': { read: 'allow', write: 'allow' },
    "nexus (other's, raw)": { read: 'allow', write: 'allow' },
    'nexus (shard, hints)': { read: 'allow', write: 'allow' },
    'handoff (within shard)': { handoff: 'allow' },
    'handoff (cross shard)': { handoff: 'allow' },
  },
};

describe('authorize (DESIGN §5)', () => {
  it('walks the whole matrix: every role, resource and action', () => {
    let cells = 0;
    for (const role of ROLES) {
      const actor: Actor = { id: ME, role };
      for (const { label, resource } of RESOURCES) {
        for (const action of ACTIONS) {
          const expected = EXPECTED[role][label]?.[action] ?? 'deny';
          const { verdict, reason } = authorize(actor, action, resource);
          expect(verdict, `${role} ${action} ${label}`).toBe(expected);
          expect(reason).toContain(ME);
          cells++;
        }
      }
    }
    expect(cells).toBe(ROLES.length * RESOURCES.length * ACTIONS.length);
  });

  it('tells the role from AGENCE_AGENT, git user.email, trust.yaml admins and an imported session', () => {
    expect(actorOf({ agent: 'claude', email: 'ada@example.com', admins: ['ada@example.com'], imported: false })).toEqual({ id: 'claude', role: 'agent-local' });
    expect(actorOf({ agent: 'claude', email: null, admins: [], imported: true })).toEqual({ id: 'claude', role: 'agent-cross' });
    expect(actorOf({ agent: null, email: 'Ada@Example.com', admins: ['ada@example.com'], imported: false })).toEqual({ id: 'Ada@Example.com', role: 'admin' });
    expect(actorOf({ agent: null, email: 'bob@example.com', admins: ['ada@example.com'], imported: true })).toEqual({ id: 'bob@example.com', role: 'user' });
    expect(actorOf({ agent: null, email: null, admins: ['ada@example.com'], imported: false })).toEqual({ id: 'unknown', role: 'user' });
  });

  it('requireAccess refuses with exit 2 and the reason', () => {
    expect(() => requireAccess({ id: 'claude', role: 'agent-local' }, 'write', { kind: 'codex' })).toThrow(/claude \(an agent of this shard\) may not write CODEX/);
    const refusal = (() => {
      try {
        requireAccess({ id: 'x', role: 'agent-cross' }, 'handoff', { kind: 'handoff', scope: 'cross' });
        return null;
      } catch (error) {
        return error as Error & { exitCode: number };
      }
    })();
    expect(refusal?.exitCode).toBe(2);
    expect(refusal?.message).toMatch(/needs a human's approval/);
    expect(() => requireAccess({ id: 'ada', role: 'admin' }, 'write', { kind: 'codex' })).not.toThrow();
  });
});
