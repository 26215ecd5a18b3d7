import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shardsOnExchange } from './daemon.js';
import { agence, git, json, sandbox } from './helpers.js';

/**
 * The whole approval flow from the CLI: an agent hands a session to another shard, the push
 * waits; a user's `^approve <bundle-id>` (the guard's command, which calls pushApprovedHandoff
 * for approvals of kind 'handoff') pushes it, and the other shard sees it.
 */
describe('^approve pushes an agent\'s cross-shard handoff', () => {
  const sb = sandbox();
  const exchange = join(sb.dir, 'exchange.git');

  it('waits, is approved by a user, is pushed, and reaches the other shard', () => {
    const [web, ops] = shardsOnExchange(sb, exchange, ['web', 'ops']) as [string, string];
    expect(agence(sb, web, ['^save', 'half done', '--task', 'Move DNS'], { AGENCE_AGENT: 'claudia' }).code).toBe(0);
    const held = agence(sb, web, ['^handoff', 'ralph', 'over to ops', '--to', 'ops', '--json'], { AGENCE_AGENT: 'claudia' });
    expect(held.code, held.stderr).toBe(2);
    const bundleId = json<{ bundle_id: string }>(held).bundle_id;
    expect(git(sb, exchange, ['for-each-ref', 'refs/agence/handoffs'])).toBe('');

    const status = () => json<{ sessions: { status: string }[] }>(agence(sb, web, ['^sessions', '--json'])).sessions.map((x) => x.status);
    expect(status()).toEqual(['SAVED']);
    const byAgent = agence(sb, web, ['^approve', bundleId, '--yes'], { AGENCE_AGENT: 'claudia' });
    expect(byAgent.code).toBe(2);
    expect(git(sb, exchange, ['for-each-ref', 'refs/agence/handoffs'])).toBe('');

    const approved = agence(sb, web, ['^approve', bundleId, '--yes']);
    expect(approved.code, approved.stderr).toBe(0);
    expect(status()).toEqual(['TRANSFERRED']);
    expect(git(sb, exchange, ['for-each-ref', '--format=%(refname)', 'refs/agence/handoffs'])).toBe(`refs/agence/handoffs/${bundleId}`);

    const inbox = json<{ handoffs: { bundle_id: string; to_agent: string }[] }>(agence(sb, ops, ['^inbox', '--json'])).handoffs;
    expect(inbox.map((h) => [h.bundle_id, h.to_agent])).toEqual([[bundleId, 'ralph']]);
    expect(agence(sb, web, ['^approve', bundleId, '--yes']).code).not.toBe(0); // decided once
  });

  it('a push that fails after the approval is tried again by approving again', () => {
    const web = join(sb.dir, 'web');
    expect(agence(sb, web, ['^save', 'retry me', '--new'], { AGENCE_AGENT: 'claudia' }).code).toBe(0);
    const held = agence(sb, web, ['^handoff', 'ralph', '--to', 'ops', '--json'], { AGENCE_AGENT: 'claudia' });
    expect(held.code, held.stderr).toBe(2);
    const bundleId = json<{ bundle_id: string }>(held).bundle_id;
    const saved = () => json<{ sessions: unknown[] }>(agence(sb, web, ['^sessions', '--status', 'saved', '--json'])).sessions.length;
    const before = saved();
    renameSync(exchange, `${exchange}.away`);
    const failed = agence(sb, web, ['^approve', bundleId, '--yes']);
    expect(failed.code).not.toBe(0);
    expect(saved()).toBe(before); // still here: nothing went out
    renameSync(`${exchange}.away`, exchange);
    const retried = agence(sb, web, ['^approve', bundleId, '--yes']);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toContain('was approved by');
    expect(git(sb, exchange, ['for-each-ref', '--format=%(refname)', `refs/agence/handoffs/${bundleId}`])).toBe(`refs/agence/handoffs/${bundleId}`);
    expect(saved()).toBe(before - 1);
  });

  it('an agent on a session imported from another shard needs approval even within the shard (DESIGN §5)', () => {
    const ops = join(sb.dir, 'ops');
    const [open] = json<{ handoffs: { bundle_id: string; signer: string }[] }>(agence(sb, ops, ['^inbox', '--json'])).handoffs;
    expect(agence(sb, ops, ['^trust', open?.signer as string]).code).toBe(0);
    const accepted = agence(sb, ops, ['^accept', open?.bundle_id as string, '--json']);
    expect(accepted.code, accepted.stderr).toBe(0);
    const imported = json<{ session: { session_id: string } }>(accepted).session.session_id;
    expect(agence(sb, ops, ['^resume', imported], { AGENCE_AGENT: 'ralph' }).code).toBe(0);
    const held = agence(sb, ops, ['^handoff', 'sonya', 'within ops', '--to', 'ops'], { AGENCE_AGENT: 'ralph' });
    expect(held.code, held.stderr).toBe(2);
    expect(held.stdout + held.stderr).toMatch(/agence \^approve [0-9a-f]{8}-/);
    // an agent's own session hands off within the shard without asking
    expect(agence(sb, ops, ['^save', 'ops work', '--new'], { AGENCE_AGENT: 'ralph' }).code).toBe(0);
    const local = agence(sb, ops, ['^handoff', 'sonya', 'within ops', '--to', 'ops'], { AGENCE_AGENT: 'ralph' });
    expect(local.code, local.stderr).toBe(0);
  });

  it('^deny drops the held handoff; the session stays with the agent', () => {
    const web = join(sb.dir, 'web');
    expect(agence(sb, web, ['^save', 'second', '--new'], { AGENCE_AGENT: 'claudia' }).code).toBe(0);
    const held = agence(sb, web, ['^handoff', 'ralph', '--to', 'ops', '--json'], { AGENCE_AGENT: 'claudia' });
    expect(held.code, held.stderr).toBe(2);
    const bundleId = json<{ bundle_id: string }>(held).bundle_id;
    const denied = agence(sb, web, ['^deny', bundleId, '--yes']);
    expect(denied.code, denied.stderr).toBe(0);
    expect(git(sb, web, ['for-each-ref', `refs/agence/handoffs/${bundleId}`])).toBe('');
    expect(git(sb, exchange, ['for-each-ref', `refs/agence/handoffs/${bundleId}`])).toBe('');
    expect(json<{ sessions: { status: string }[] }>(agence(sb, web, ['^sessions', '--status', 'saved', '--json'])).sessions).toHaveLength(1);
  });
});
