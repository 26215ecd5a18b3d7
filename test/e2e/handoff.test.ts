import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decideApproval, readApproval } from '../../src/guard/approvals.js';
import { dropDeniedHandoff, pushApprovedHandoff } from '../../src/handoff/handoffs.js';
import { requireShard } from '../../src/shard/layout.js';
import { gitDaemon, shardsOnExchange } from './daemon.js';
import { agence, git, json, repo, sandbox } from './helpers.js';

interface InboxEntry {
  bundle_id: string;
  from_shard: string;
  from_agent: string;
  to_agent: string;
  note: string;
  created: string;
  signer: string;
  trusted: boolean;
  accepted: string | null;
}

function logLines(shard: string): { action: string; decision: string; subject: string }[] {
  return readFileSync(join(shard, '.agence/nexus/logs/handoffs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

describe('two shards of one org hand a session over a master served by git daemon', () => {
  // Two machines: separate HOMEs (registries, git identities), one org master on the loopback daemon.
  const a = sandbox();
  const b = sandbox();
  let front = '';
  let infra = '';
  let url = '';
  let bundleId = '';
  let signer = '';

  it('sets up the master and two shards that inherit it', async () => {
    const served = join(a.dir, 'served');
    mkdirSync(served);
    expect(agence(a, a.dir, ['^master', 'init', 'master']).code).toBe(0);
    git(a, served, ['clone', '-q', '--bare', join(a.dir, 'master'), 'org-master.git']);
    url = `${await gitDaemon(a, served, 'org-master.git')}org-master.git`;
    front = repo(a, 'front');
    infra = repo(b, 'infra');
    for (const [sb, dir] of [[a, front], [b, infra]] as const) {
      expect(agence(sb, dir, ['^init', '--org', 'acme', '--master', url]).code).toBe(0);
      const pulled = agence(sb, dir, ['^pull']);
      expect(pulled.code, pulled.stderr).toBe(0);
    }
    // ^init lists the shard's own public key in its trust.yaml
    const trust = readFileSync(join(front, '.agence/codex/trust.yaml'), 'utf8');
    expect(trust).toMatch(/ssh-ed25519 AAAA[A-Za-z0-9+/=]+/);
    expect(existsSync(join(front, '.agence/hermetic/keys/shard-ed25519.pem'))).toBe(true);
  });

  it('shard A saves and hands off to ralph; the bundle goes to the exchange remote on its own ref', () => {
    const saved = agence(a, front, ['^save', 'Login form half done', '--task', 'Build the login page', '--todo', 'login form', '--todo', 'session API'], { AGENCE_AGENT: 'claudia' });
    expect(saved.code, saved.stderr).toBe(0);
    const branchBefore = git(a, front, ['rev-parse', 'HEAD']);
    const run = agence(a, front, ['^handoff', 'ralph', 'Need infrastructure setup', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const out = json<{ pushed: boolean; bundle_id: string; redactions: { count: number }; bundle: { signer: { fingerprint: string } } }>(run);
    expect(out.pushed).toBe(true);
    expect(out.redactions.count).toBe(0);
    bundleId = out.bundle_id;
    signer = out.bundle.signer.fingerprint;
    expect(git(a, join(a.dir, 'served/org-master.git'), ['cat-file', '-p', `refs/agence/handoffs/${bundleId}:bundle.json`])).toContain('"note":"Need infrastructure setup"');
    expect(git(a, front, ['rev-parse', 'HEAD'])).toBe(branchBefore);
    const sessions = json<{ sessions: { status: string }[] }>(agence(a, front, ['^sessions', '--status', 'transferred', '--json']));
    expect(sessions.sessions).toHaveLength(1);
    const text = agence(a, front, ['^handoff', 'ralph']);
    expect(text.code).toBe(1); // nothing current any more
    expect(logLines(front).map((l) => l.action)).toEqual(['push']);
    expect(json<{ handoffs: InboxEntry[] }>(agence(a, front, ['^inbox', '--json'])).handoffs).toEqual([]); // what it sent is not its mail
    const ledger = readFileSync(join(front, '.agence/nexus/ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; subject: string; decision: string });
    expect(ledger.filter((e) => e.action.startsWith('handoff.'))).toEqual([expect.objectContaining({ action: 'handoff.push', subject: bundleId, decision: 'done' })]);
  });

  it('shard B lists it in ^inbox, refuses it until a user trusts the signer, then accepts it', () => {
    const listed = agence(b, infra, ['^inbox', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const entries = json<{ handoffs: InboxEntry[] }>(listed).handoffs;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ bundle_id: bundleId, from_shard: 'front', from_agent: 'claudia', to_agent: 'ralph', note: 'Need infrastructure setup', signer, trusted: false, accepted: null });

    const refused = agence(b, infra, ['^accept', bundleId]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`agence ^trust ${signer}`);
    expect(existsSync(join(infra, '.agence/nexus/sessions/session-saved.jsonl'))).toBe(false);

    const byAgent = agence(b, infra, ['^trust', signer], { AGENCE_AGENT: 'ralph' });
    expect(byAgent.code).toBe(2);
    expect(byAgent.stderr).toContain('only a user');
    const trusted = agence(b, infra, ['^trust', signer]);
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(readFileSync(join(infra, '.agence/codex/trust.yaml'), 'utf8')).toContain('name: front');

    const accepted = agence(b, infra, ['^accept', bundleId, '--json']);
    expect(accepted.code, accepted.stderr).toBe(0);
    const session = json<{ session: { session_id: string; status: string; agent: string; lineage: Record<string, unknown> } }>(accepted).session;
    expect(session.status).toBe('SAVED');
    expect(session.agent).toBe('ralph');
    expect(session.lineage).toMatchObject({ from_shard: 'front', from_agent: 'claudia', to_agent: 'ralph', handoff_note: 'Need infrastructure setup' });
    // marked accepted on the exchange remote by a follow-up commit
    expect(JSON.parse(git(b, infra, ['cat-file', '-p', `refs/agence/handoffs/${bundleId}:accepted.json`]))).toMatchObject({ by_shard: 'infra', by_agent: 'ralph' });
    expect(git(a, join(a.dir, 'served/org-master.git'), ['rev-list', '--count', `refs/agence/handoffs/${bundleId}`])).toBe('2');
    expect(logLines(infra).map((l) => `${l.action}:${l.decision}`)).toEqual(['refuse:refused', 'refuse:refused', 'trust:done', 'accept:done']);
  });

  it('^resume on shard B shows Claudia\'s task, todo list and note, for ralph', () => {
    const brief = agence(b, infra, ['^resume', '--json']);
    expect(brief.code, brief.stderr).toBe(0);
    const out = json<{ task: string; todo: { total: number; next: string }; notes: { text: string }[]; session: { session_id: string; agent: string; lineage: { to_agent: string } } }>(brief);
    expect(out.task).toBe('Build the login page');
    expect(out.todo).toMatchObject({ total: 2, next: 'login form' });
    expect(out.notes.map((n) => n.text)).toEqual(['Login form half done', 'Need infrastructure setup']);
    expect(out.session.agent).toBe('ralph');
    expect(out.session.lineage.to_agent).toBe('ralph');
    const text = agence(b, infra, ['^resume', out.session.session_id]).stdout;
    expect(text).toContain('task:  Build the login page');
    expect(text).toContain('[ ] session API');
    expect(text).toContain('Need infrastructure setup');
  });

  it('a shard the org master lists in its trust.yaml is trusted without ^trust', () => {
    const web = repo(a, 'web');
    expect(agence(a, web, ['^init', '--org', 'acme', '--master', url]).code).toBe(0);
    expect(agence(a, web, ['^pull']).code).toBe(0);
    const webTrust = readFileSync(join(web, '.agence/codex/trust.yaml'), 'utf8');
    const key = /key: (ssh-ed25519 \S+)/.exec(webTrust)?.[1] as string;
    const webId = JSON.parse(readFileSync(join(web, '.agence/agence.json'), 'utf8')).shard.id as string;
    // the org admin lists the new shard in the master
    const checkout = join(a.dir, 'master-checkout');
    git(a, a.dir, ['clone', '-q', join(a.dir, 'served/org-master.git'), checkout]);
    const masterTrust = join(checkout, 'codex/trust.yaml');
    writeFileSync(masterTrust, readFileSync(masterTrust, 'utf8').replace(/^shards: \[\]$/m, `shards:\n  - { id: "${webId}", name: web, key: "${key}" }`));
    git(a, checkout, ['commit', '-qam', 'trust web']);
    git(a, checkout, ['push', '-q', 'origin', 'HEAD']);
    expect(agence(b, infra, ['^pull']).code).toBe(0);

    expect(agence(a, web, ['^save', 'from web', '--task', 'Add a CDN']).code).toBe(0);
    const handed = agence(a, web, ['^handoff', 'ralph', 'CDN next', '--to', 'infra', '--json']);
    expect(handed.code, handed.stderr).toBe(0);
    const id = json<{ bundle_id: string }>(handed).bundle_id;
    const listed = json<{ handoffs: InboxEntry[] }>(agence(b, infra, ['^inbox', '--json'])).handoffs;
    expect(listed.find((h) => h.bundle_id === id)).toMatchObject({ from_shard: 'web', trusted: true });
    const accepted = agence(b, infra, ['^accept', id]);
    expect(accepted.code, accepted.stderr).toBe(0);
  });

  it('a second accept, here or from the inbox, is a replay', () => {
    const again = agence(b, infra, ['^accept', bundleId]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('a replay');
    expect(json<{ handoffs: InboxEntry[] }>(agence(b, infra, ['^inbox', '--json'])).handoffs).toEqual([]); // nothing open
    expect(json<{ handoffs: InboxEntry[] }>(agence(b, infra, ['^inbox', '--all', '--json'])).handoffs[0]?.accepted).toBe('here');
  });
});

describe('an agent\'s cross-shard handoff waits for a user\'s approval before it is pushed', () => {
  const sb = sandbox();
  const exchange = join(sb.dir, 'exchange.git');

  it('is committed on its local ref and filed for approval; pushApprovedHandoff pushes it once approved', async () => {
    const [web, ops] = shardsOnExchange(sb, exchange, ['web', 'ops']) as [string, string];
    expect(agence(sb, web, ['^save', 'half done', '--task', 'Move DNS'], { AGENCE_AGENT: 'claudia' }).code).toBe(0);
    const held = agence(sb, web, ['^handoff', 'ralph', 'over to ops', '--to', 'ops', '--json'], { AGENCE_AGENT: 'claudia' });
    expect(held.code, held.stderr).toBe(2);
    const out = json<{ pushed: boolean; bundle_id: string; approval: { kind: string; status: string; requested_by: string } }>(held);
    expect(out.pushed).toBe(false);
    expect(out.approval).toMatchObject({ kind: 'handoff', status: 'pending', requested_by: 'claudia' });
    const status = () => json<{ sessions: { status: string }[] }>(agence(sb, web, ['^sessions', '--json'])).sessions.map((x) => x.status);
    expect(status()).toEqual(['SAVED']); // the work has not left yet
    expect(git(sb, exchange, ['for-each-ref', 'refs/agence/handoffs'])).toBe('');
    expect(agence(sb, ops, ['^inbox', '--json']).stdout).toContain('"handoffs":[]');

    // `^approve` (the guard's command) decides, then calls pushApprovedHandoff for kind 'handoff'
    const paths = requireShard(web);
    await expect(pushApprovedHandoff(paths, readApproval(paths, out.bundle_id) as never, 'test@example.com', new Date())).rejects.toThrow(/is a pending handoff request, not an approved handoff/);
    const approval = decideApproval(paths, out.bundle_id, 'approved', 'test@example.com', new Date());
    const pushed = await pushApprovedHandoff(paths, approval, 'test@example.com', new Date());
    expect(pushed).toMatchObject({ bundle_id: out.bundle_id, exchange: 'origin' });
    expect(git(sb, exchange, ['rev-parse', `refs/agence/handoffs/${out.bundle_id}`])).toBe(pushed.commit);
    expect(status()).toEqual(['TRANSFERRED']);
    expect(logLines(web).map((l) => `${l.action}:${l.decision}`)).toEqual(['await-approval:pending', 'push:done']);
    const inbox = json<{ handoffs: InboxEntry[] }>(agence(sb, ops, ['^inbox', '--json'])).handoffs;
    expect(inbox.map((h) => [h.bundle_id, h.to_agent, h.note])).toEqual([[out.bundle_id, 'ralph', 'over to ops']]);
  });

  it('a denied handoff is dropped and the session stays; a bundle made stale by a later save is not pushed', async () => {
    const web = join(sb.dir, 'web');
    const paths = requireShard(web);
    const hold = () => {
      const held = agence(sb, web, ['^handoff', 'ralph', '--to', 'ops', '--json'], { AGENCE_AGENT: 'claudia' });
      expect(held.code, held.stderr).toBe(2);
      return json<{ bundle_id: string }>(held).bundle_id;
    };
    expect(agence(sb, web, ['^save', 'second task', '--new'], { AGENCE_AGENT: 'claudia' }).code).toBe(0);
    const denied = hold();
    const dropped = await dropDeniedHandoff(paths, decideApproval(paths, denied, 'denied', 'test@example.com', new Date()), 'test@example.com', new Date());
    expect(git(sb, web, ['for-each-ref', `refs/agence/handoffs/${denied}`])).toBe('');
    const again = hold();
    expect(agence(sb, web, ['^save', 'more work after asking'], { AGENCE_AGENT: 'claudia' }).code).toBe(0);
    await expect(pushApprovedHandoff(paths, decideApproval(paths, again, 'approved', 'test@example.com', new Date()), 'test@example.com', new Date())).rejects.toThrow(/changed since it was handed off/);
    expect(git(sb, exchange, ['for-each-ref', `refs/agence/handoffs/${again}`])).toBe('');
    expect(json<{ sessions: { id: string; status: string }[] }>(agence(sb, web, ['^sessions', '--json'])).sessions.find((x) => x.id === dropped.session)?.status).toBe('SAVED');
  });

  it('a handoff within the shard, or by a user, needs no approval', () => {
    const web = join(sb.dir, 'web');
    expect(agence(sb, web, ['^save', 'next', '--new'], { AGENCE_AGENT: 'claudia' }).code).toBe(0);
    const within = agence(sb, web, ['^handoff', 'ralph', '--to', 'web', '--json'], { AGENCE_AGENT: 'claudia' });
    expect(within.code, within.stderr).toBe(0);
    expect(json<{ pushed: boolean }>(within).pushed).toBe(true);
    expect(agence(sb, web, ['^save', 'and more', '--new']).code).toBe(0);
    const byUser = agence(sb, web, ['^handoff', 'ralph', '--to', 'ops', '--json']);
    expect(byUser.code, byUser.stderr).toBe(0);
  });
});

describe('the same repository cloned twice: --with-worktree and ^resume --apply', () => {
  const sb = sandbox();
  const origin = join(sb.dir, 'origin.git');
  let one = '';
  let two = '';

  it('carries the uncommitted work, byte for byte, without touching the branch or the index', () => {
    one = repo(sb, 'one');
    writeFileSync(join(one, 'app.js'), 'console.log("v1");\n');
    writeFileSync(join(one, 'old.txt'), 'to be deleted\n');
    git(sb, one, ['add', '.']);
    git(sb, one, ['commit', '-qm', 'app']);
    git(sb, sb.dir, ['init', '-q', '--bare', origin]);
    git(sb, one, ['remote', 'add', 'origin', origin]);
    expect(agence(sb, one, ['^init', '--name', 'web', '--org', 'acme']).code).toBe(0);
    git(sb, one, ['add', '.agence']);
    git(sb, one, ['commit', '-qm', 'agence shard']);
    git(sb, one, ['push', '-q', 'origin', 'HEAD:main']);
    two = join(sb.dir, 'two');
    git(sb, sb.dir, ['clone', '-q', origin, two]);
    expect(agence(sb, two, ['^init']).code).toBe(0); // this clone's own key, trusted next to the first's

    // uncommitted work in clone one: a change, a staged change, a deletion, a new text file, a new binary file
    writeFileSync(join(one, 'app.js'), 'console.log("v2");\n// half done\n');
    writeFileSync(join(one, 'README.md'), '# one\n\nstaged line\n');
    git(sb, one, ['add', 'README.md']);
    git(sb, one, ['rm', '-q', 'old.txt']);
    mkdirSync(join(one, 'src'));
    writeFileSync(join(one, 'src/new.ts'), 'export const x = 1;\n');
    writeFileSync(join(one, 'logo.bin'), Buffer.from([0, 1, 2, 255, 254, 10, 13, 0, 128]));
    const before = { head: git(sb, one, ['rev-parse', 'HEAD']), index: readFileSync(join(one, '.git/index')), status: git(sb, one, ['status', '--porcelain']) };

    expect(agence(sb, one, ['^save', 'halfway', '--task', 'Ship v2']).code).toBe(0);
    const handed = agence(sb, one, ['^handoff', 'sonya', 'finish it on the other machine', '--to', 'web', '--with-worktree', '--json']);
    expect(handed.code, handed.stderr).toBe(0);
    const bundleId = json<{ bundle_id: string }>(handed).bundle_id;
    expect(git(sb, one, ['rev-parse', 'HEAD'])).toBe(before.head);
    expect(readFileSync(join(one, '.git/index')).equals(before.index)).toBe(true);
    expect(git(sb, one, ['status', '--porcelain'])).toBe(before.status);
    const expectedDiff = git(sb, one, ['diff', 'HEAD', '--binary', '--', 'app.js', 'README.md', 'old.txt']);

    expect(json<{ handoffs: InboxEntry[] }>(agence(sb, two, ['^inbox', '--json'])).handoffs.map((h) => [h.bundle_id, h.trusted])).toEqual([[bundleId, true]]);
    const accepted = agence(sb, two, ['^accept', bundleId, '--json']);
    expect(accepted.code, accepted.stderr).toBe(0);
    const sessionId = json<{ session: { session_id: string } }>(accepted).session.session_id;

    // a local change to a file the work touches: refused, nothing changed
    writeFileSync(join(two, 'app.js'), 'console.log("local");\n');
    const refused = agence(sb, two, ['^resume', sessionId, '--apply']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('would overwrite local changes in app.js');
    expect(readFileSync(join(two, 'app.js'), 'utf8')).toBe('console.log("local");\n');
    git(sb, two, ['checkout', '--', 'app.js']);

    const applied = agence(sb, two, ['^resume', sessionId, '--apply', '--json']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(json<{ applied: { files: string[] } }>(applied).applied.files.sort()).toEqual(['README.md', 'app.js', 'logo.bin', 'old.txt', 'src/new.ts']);
    expect(git(sb, two, ['diff', 'HEAD', '--binary', '--', 'app.js', 'README.md', 'old.txt'])).toBe(expectedDiff);
    for (const file of ['app.js', 'README.md', 'src/new.ts', 'logo.bin']) expect(readFileSync(join(two, file)).equals(readFileSync(join(one, file))), file).toBe(true);
    expect(existsSync(join(two, 'old.txt'))).toBe(false);
  });
});
