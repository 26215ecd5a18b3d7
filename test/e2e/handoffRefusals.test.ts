import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { agence, CLI, git, json, repo, sandbox } from './helpers.js';

/**
 * Every bad input of the handoff issue is refused with a clear message and exit 2 or 3, and the
 * receiving shard's store (sessions, accepted bundles, handoff refs, trust) is left byte for byte.
 */

const sb = sandbox();
const exchange = join(sb.dir, 'exchange.git');

function shard(name: string, org: string, origin: string | null): string {
  const dir = repo(sb, name);
  if (origin) git(sb, dir, ['remote', 'add', 'origin', origin]);
  const init = agence(sb, dir, ['^init', '--org', org]);
  expect(init.code, init.stderr).toBe(0);
  return dir;
}

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile());
}

/** Everything a refusal must leave alone, as bytes (INDEX.md is the index's rebuildable listing, a cache). */
function store(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const sub of ['.agence/nexus/sessions', '.agence/nexus/handoffs', '.agence/nexus/approvals']) {
    for (const f of files(join(dir, sub))) if (!f.endsWith('.lock') && !f.endsWith('INDEX.md')) out[relative(dir, join(dir, sub, f))] = readFileSync(join(dir, sub, f)).toString('base64');
  }
  out.trust = readFileSync(join(dir, '.agence/codex/trust.yaml'), 'utf8');
  out.refs = git(sb, dir, ['for-each-ref', 'refs/agence/handoffs']);
  return out;
}

function refused(dir: string, args: string[], exit: 1 | 2 | 3, message: string | RegExp, env: NodeJS.ProcessEnv = {}): void {
  const before = store(dir);
  const run = agence(sb, dir, args, env);
  expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(exit);
  expect(run.stderr).toMatch(message);
  // one line, naming the problem and the fix (after a notice that the session index was built, if it was)
  expect(run.stderr.trim().split('\n').filter((l) => !l.includes('session index')), run.stderr).toHaveLength(1);
  expect(store(dir)).toEqual(before);
}

/** Save a session in `dir` and export it to `<sb>/<name>.json`; the file and its signer. */
function exported(dir: string, name: string, note: string): { file: string; fingerprint: string } {
  expect(agence(sb, dir, ['^save', note, '--new']).code).toBe(0);
  const id = json<{ sessions: { id: string }[] }>(agence(sb, dir, ['^sessions', '--status', 'saved', '--json'])).sessions[0]?.id as string;
  const file = join(sb.dir, `${name}.json`);
  const run = agence(sb, dir, ['^export', id, '--out', file]);
  expect(run.code, run.stderr).toBe(0);
  return { file, fingerprint: (JSON.parse(readFileSync(file, 'utf8')) as { signer: { fingerprint: string } }).signer.fingerprint };
}

let src = '';
let dst = '';
let bundleFile = '';
let bundleText = '';

beforeAll(() => {
  git(sb, sb.dir, ['init', '-q', '--bare', exchange]);
  src = shard('src', 'acme', exchange);
  dst = shard('dst', 'acme', exchange);
  const { file, fingerprint } = exported(src, 'bundle', 'first');
  bundleFile = file;
  bundleText = readFileSync(bundleFile, 'utf8');
  const trusted = agence(sb, dst, ['^trust', fingerprint, '--bundle', bundleFile]);
  expect(trusted.code, trusted.stderr).toBe(0);
});

describe('bundles from a file', () => {
  it('a change at any byte (here: ten spread over the file) is an integrity failure', () => {
    const bytes = Buffer.from(bundleText, 'utf8');
    const positions = [0, 1, 12, Math.floor(bytes.length / 4), Math.floor(bytes.length / 2), Math.floor((bytes.length * 3) / 4), bytes.length - 60, bytes.length - 4, bytes.length - 2, bytes.length - 1];
    for (const [i, at] of positions.entries()) {
      const tampered = Buffer.from(bytes);
      tampered[at] = (tampered[at] as number) === 0x20 ? 0x21 : (tampered[at] as number) ^ 0x02;
      const file = join(sb.dir, `tampered-${i}.json`);
      writeFileSync(file, tampered);
      refused(dst, ['^import', file], 3, /tampered|altered|not a handoff bundle|malformed|signature|fingerprint/);
    }
    const spaced = join(sb.dir, 'spaced.json');
    writeFileSync(spaced, bundleText.replace('","', '", "'));
    refused(dst, ['^import', spaced], 3, /altered/);
  });

  it('^export without --out writes the bundle itself to stdout, the summary to stderr', () => {
    expect(agence(sb, src, ['^save', 'to stdout', '--new']).code).toBe(0);
    const id = json<{ sessions: { id: string }[] }>(agence(sb, src, ['^sessions', '--status', 'saved', '--json'])).sessions[0]?.id as string;
    const run = agence(sb, src, ['^export', id]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Exported session ${id} as bundle ${id}-`);
    const file = join(sb.dir, 'stdout.json');
    writeFileSync(file, run.stdout);
    expect(JSON.parse(run.stdout)).toMatchObject({ schema: 1, from: { shard_name: 'src' }, session: { session_id: id, status: 'TRANSFERRED' } });
    expect(agence(sb, src, ['^save', 'another', '--new']).code).toBe(0);
    const next = json<{ sessions: { id: string }[] }>(agence(sb, src, ['^sessions', '--status', 'saved', '--json'])).sessions[0]?.id as string;
    refused(src, ['^export', next, '--out', file], 1, /stdout.json already exists/);
    // a bundle by hand is addressed to no shard: an agent hands off with ^handoff instead
    refused(src, ['^export', next, '--out', join(sb.dir, 'by-agent.json')], 2, /may not export a session by hand/, { AGENCE_AGENT: 'claudia' });
    expect(existsSync(join(sb.dir, 'by-agent.json'))).toBe(false);
    const imported = agence(sb, dst, ['^import', file]);
    expect(imported.code, imported.stderr).toBe(0);
    refused(dst, ['^import', join(sb.dir, 'no-such.json')], 1, /no-such.json is not a file/);
  });

  it('a newer schema is refused: upgrade first', () => {
    const newer = join(sb.dir, 'newer.json');
    writeFileSync(newer, bundleText.replace('"schema":1', '"schema":2'));
    refused(dst, ['^import', newer], 2, /schema 2 bundle; this agence reads schema 1.*upgrade agence/);
  });

  it('imports once; the same bundle again is a replay', () => {
    const ok = agence(sb, dst, ['^import', bundleFile, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(json<{ session: { status: string; lineage: { from_shard: string } } }>(ok).session).toMatchObject({ status: 'SAVED', lineage: { from_shard: 'src' } });
    refused(dst, ['^import', bundleFile], 2, /already accepted here.*a replay/);
  });

  it('an import cut short after its mark was written is finished by the next attempt, under the same id, once', () => {
    const { file } = exported(src, 'cut-short', 'cut short');
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as { bundle_id: string; from: { shard_name: string; agent: string } };
    // what a crash between writing the accepted mark and appending the session leaves
    const mark = join(dst, '.agence/nexus/handoffs/accepted', `${bundle.bundle_id}.json`);
    mkdirSync(join(dst, '.agence/nexus/handoffs/accepted'), { recursive: true });
    writeFileSync(mark, JSON.stringify({ bundle_id: bundle.bundle_id, session_id: '0000abcd', from_shard: bundle.from.shard_name, from_agent: bundle.from.agent, accepted_at: '2026-11-25T00:00:00.000Z', via: 'file', worktree: null }));
    const finished = agence(sb, dst, ['^import', file, '--json']);
    expect(finished.code, finished.stderr).toBe(0);
    expect(json<{ session: { session_id: string; status: string } }>(finished).session).toMatchObject({ session_id: '0000abcd', status: 'SAVED' });
    refused(dst, ['^import', file], 2, /already accepted here.*session 0000abcd.*a replay/);
    expect(json<{ sessions: { id: string }[] }>(agence(sb, dst, ['^sessions', '--json'])).sessions.filter((x) => x.id === '0000abcd')).toHaveLength(1);
  });

  it('a bundle from another org is refused, even with its signer trusted', () => {
    const { file, fingerprint } = exported(shard('alien', 'other-org', null), 'alien', 'x');
    expect(agence(sb, dst, ['^trust', fingerprint, '--bundle', file]).code).toBe(0);
    refused(dst, ['^import', file], 2, /org "other-org".*handoffs never leave an org/);
  });

  it('an unknown signer is refused until a user trusts it; an agent may not', () => {
    const { file, fingerprint } = exported(shard('stranger', 'acme', null), 'stranger', 'y');
    refused(dst, ['^import', file], 2, new RegExp(`agence \\^trust ${fingerprint.replace(/[+/]/g, '\\$&')}`));
    refused(dst, ['^trust', fingerprint, '--bundle', file], 2, /only a user can/, { AGENCE_AGENT: 'ralph' });
  });
});

describe('handing off', () => {
  it('to an unknown agent is refused and the session stays as it was', () => {
    expect(agence(sb, src, ['^save', 'again', '--new']).code).toBe(0);
    refused(src, ['^handoff', 'nobody', 'x'], 2, /"nobody" is not an agent of shard src's codex: use one of: .*ralph/);
  });

  it('with no exchange remote is refused', () => {
    const lonely = shard('lonely', 'acme', null);
    expect(agence(sb, lonely, ['^save', 'z']).code).toBe(0);
    refused(lonely, ['^handoff', 'ralph'], 2, /no exchange remote.*exchange/);
    refused(lonely, ['^inbox'], 2, /no exchange remote/);
    refused(lonely, ['^handoff', 'ralph', '--to', '../web'], 1, /--to "..\/web" is not a shard name/);
  });

  it('a push the remote rejects is refused, and no local ref or transfer is left behind', () => {
    const walledRemote = join(sb.dir, 'walled.git');
    git(sb, sb.dir, ['init', '-q', '--bare', walledRemote]);
    writeFileSync(join(walledRemote, 'hooks/pre-receive'), '#!/bin/sh\necho "handoffs are not welcome here" >&2\nexit 1\n');
    chmodSync(join(walledRemote, 'hooks/pre-receive'), 0o755);
    const walled = shard('walled', 'acme', walledRemote);
    expect(agence(sb, walled, ['^save', 'w']).code).toBe(0);
    refused(walled, ['^handoff', 'ralph', 'note'], 2, /exchange remote origin refused the handoff .*: handoffs are not welcome here; \[remote rejected\] \(pre-receive hook declined\)/);
    expect(json<{ sessions: { status: string }[] }>(agence(sb, walled, ['^sessions', '--json'])).sessions.map((s) => s.status)).toEqual(['SAVED']);
  });

  it('a session saved while its handoff is being pushed: the bundle is taken back, the session stays', () => {
    const raceRemote = join(sb.dir, 'race.git');
    git(sb, sb.dir, ['init', '-q', '--bare', raceRemote]);
    const racing = shard('racing', 'acme', raceRemote);
    expect(agence(sb, racing, ['^save', 'before the handoff']).code).toBe(0);
    // The remote's hook saves the session again while the push is under way (as a Claude Code
    // hook saving on PreCompact could), after the bundle was built.
    const hook = join(raceRemote, 'hooks/pre-receive');
    writeFileSync(hook, `#!/bin/sh\nunset $(env | sed -n 's/^\\(GIT_[A-Z_]*\\)=.*/\\1/p')\ncd '${racing}' && '${process.execPath}' '${CLI}' ^save 'saved during the push' >/dev/null 2>&1\nexit 0\n`);
    chmodSync(hook, 0o755);
    const run = agence(sb, racing, ['^handoff', 'ralph', 'note']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/changed since it was handed off.*taken back from origin, the session stays here/);
    expect(git(sb, racing, ['ls-remote', raceRemote, 'refs/agence/handoffs/*'])).toBe('');
    const [session] = json<{ sessions: { id: string; status: string }[] }>(agence(sb, racing, ['^sessions', '--json'])).sessions;
    expect(session?.status).toBe('SAVED');
    const shown = json<{ notes: { text: string }[] }>(agence(sb, racing, ['^session', 'show', session?.id as string, '--json']));
    expect(shown.notes.map((n) => n.text)).toContain('saved during the push');
    // without the race the same handoff goes through
    rmSync(hook);
    const again = agence(sb, racing, ['^handoff', 'ralph', 'note']);
    expect(again.code, again.stderr).toBe(0);
    expect(git(sb, racing, ['ls-remote', raceRemote, 'refs/agence/handoffs/*'])).toMatch(/refs\/agence\/handoffs\//);
  });

  it('^export to a stdout that is closed: nothing is marked transferred', async () => {
    expect(agence(sb, src, ['^save', 'to a closed pipe', '--new']).code).toBe(0);
    const id = json<{ sessions: { id: string }[] }>(agence(sb, src, ['^sessions', '--status', 'saved', '--json'])).sessions[0]?.id as string;
    const before = store(src);
    const child = spawn(process.execPath, [CLI, '^export', id], { cwd: src, env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the bundle is written
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(1);
    expect(stderr).toMatch(/the bundle could not be written to stdout \(EPIPE\); session [0-9a-f]{8} was not marked transferred.*--out FILE/);
    expect(store(src)).toEqual(before);
  });

  it('--with-worktree refuses when local commits the handoff would push held a secret, even one removed since', () => {
    const leaky = shard('leaky', 'acme', exchange);
    git(sb, leaky, ['add', '.']);
    git(sb, leaky, ['commit', '-qm', 'agence']);
    writeFileSync(join(leaky, 'deploy.sh'), 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n');
    git(sb, leaky, ['add', '.']);
    git(sb, leaky, ['commit', '-qm', 'deploy script']);
    writeFileSync(join(leaky, 'deploy.sh'), 'AWS_ACCESS_KEY_ID="$(vault read aws)"\n');
    git(sb, leaky, ['commit', '-qam', 'key out of the script']);
    writeFileSync(join(leaky, 'notes.txt'), 'half done\n');
    expect(agence(sb, leaky, ['^save', 'w']).code).toBe(0);
    refused(leaky, ['^handoff', 'ralph', '--with-worktree'], 2, /the 4 local commits not on any remote hold \d+ secrets? \(aws-access-key.*\).*rewrite them/);
    // once the branch is on a remote, only what the remotes lack is looked at
    git(sb, leaky, ['push', '-q', 'origin', 'HEAD:refs/heads/main']);
    git(sb, leaky, ['fetch', '-q', 'origin']);
    const handed = agence(sb, leaky, ['^handoff', 'ralph', '--with-worktree']);
    expect(handed.code, handed.stderr).toBe(0);
  });

  it('uncommitted work holding a secret is refused with --with-worktree', () => {
    writeFileSync(join(src, 'deploy.sh'), 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n');
    refused(src, ['^handoff', 'ralph', '--with-worktree'], 2, /uncommitted work holds 1 secret/);
  });
});

describe('handoff refs', () => {
  /** A handoff ref written by someone else: one file (name, content) in a commit, forced onto the exchange. */
  function pushRef(id: string, name: string, content: string): void {
    const scratch = repo(sb, `scratch-${id}`);
    const blob = spawnSync('git', ['hash-object', '-w', '--stdin'], { cwd: scratch, env: sb.env, input: content, encoding: 'utf8' }).stdout.trim();
    const tree = spawnSync('git', ['mktree'], { cwd: scratch, env: sb.env, input: `100644 blob ${blob}\t${name}\n`, encoding: 'utf8' }).stdout.trim();
    git(sb, scratch, ['push', '-q', '--force', exchange, `${git(sb, scratch, ['commit-tree', tree, '-m', 'written by hand'])}:refs/agence/handoffs/${id}`]);
  }

  it('a ref with garbage content is listed as unreadable and refused as corrupt', () => {
    pushRef('11111111-222222222222', 'bundle.json', 'this is not a bundle');
    pushRef('11111111-333333333333', 'other.txt', 'x');
    const inbox = agence(sb, dst, ['^inbox', '--json']);
    expect(inbox.code, inbox.stderr).toBe(0);
    const entries = json<{ handoffs: { bundle_id: string; problem: string | null }[] }>(inbox).handoffs;
    expect(entries.find((e) => e.bundle_id === '11111111-222222222222')?.problem).toContain('not JSON');
    expect(entries.find((e) => e.bundle_id === '11111111-333333333333')?.problem).toContain('no bundle.json');
    refused(dst, ['^accept', '11111111-222222222222'], 3, /not a handoff bundle/);
    refused(dst, ['^accept', '11111111-333333333333'], 3, /holds no readable bundle/);
  });

  it('a bundle altered on its ref is refused as corrupt', () => {
    expect(agence(sb, src, ['^save', 'for the ref', '--new']).code).toBe(0);
    const handed = agence(sb, src, ['^handoff', 'ralph', 'Rotate them', '--to', 'dst', '--json']);
    expect(handed.code, handed.stderr).toBe(0);
    const id = json<{ bundle_id: string }>(handed).bundle_id;
    const original = git(sb, exchange, ['cat-file', '-p', `refs/agence/handoffs/${id}:bundle.json`]);
    pushRef(id, 'bundle.json', `${original.replace('Rotate them', 'Rotate thex')}\n`);
    expect(agence(sb, dst, ['^inbox']).code).toBe(0);
    refused(dst, ['^accept', id], 3, /signature does not verify/);
  });

  it('a bundle addressed to another shard is refused there', () => {
    const other = shard('other', 'acme', exchange);
    expect(agence(sb, src, ['^save', 'for dst only', '--new']).code).toBe(0);
    const id = json<{ bundle_id: string; bundle: { signer: { fingerprint: string } } }>(agence(sb, src, ['^handoff', 'ralph', '--to', 'dst', '--json']));
    expect(json<{ handoffs: { bundle_id: string }[] }>(agence(sb, other, ['^inbox', '--json'])).handoffs.map((h) => h.bundle_id)).not.toContain(id.bundle_id);
    expect(agence(sb, other, ['^trust', id.bundle.signer.fingerprint]).code).toBe(0);
    refused(other, ['^accept', id.bundle_id], 2, /addressed to shard dst, not to this one \(other\)/);
  });

  it('of two shards that fetched the same handoff, the second to accept is refused (a replay)', () => {
    const third = shard('third', 'acme', exchange);
    expect(agence(sb, src, ['^save', 'anyone with ralph', '--new']).code).toBe(0);
    const out = json<{ bundle_id: string; bundle: { signer: { fingerprint: string } } }>(agence(sb, src, ['^handoff', 'ralph', 'first come', '--json']));
    for (const dir of [dst, third]) expect(json<{ handoffs: { bundle_id: string }[] }>(agence(sb, dir, ['^inbox', '--json'])).handoffs.map((h) => h.bundle_id)).toContain(out.bundle_id);
    expect(agence(sb, third, ['^trust', out.bundle.signer.fingerprint]).code).toBe(0);
    const first = agence(sb, dst, ['^accept', out.bundle_id]);
    expect(first.code, first.stderr).toBe(0);
    refused(third, ['^accept', out.bundle_id], 2, /could not be claimed on origin .*another shard may have accepted it/);
    expect(agence(sb, third, ['^inbox']).code).toBe(0);
    refused(third, ['^accept', out.bundle_id], 2, /already accepted by dst \(ralph\).*a replay/);
    // An accept cut short after its claim (no local record) is finished by the clone that claimed it.
    rmSync(join(dst, `.agence/nexus/handoffs/accepted/${out.bundle_id}.json`));
    const again = agence(sb, dst, ['^accept', out.bundle_id]);
    expect(again.code, again.stderr).toBe(0);
  });

  it('a bundle for an agent this shard does not have is refused', () => {
    const lean = shard('lean', 'acme', exchange);
    rmSync(join(lean, '.agence/codex/agents/ralph.md'));
    expect(agence(sb, src, ['^save', 'for ralph', '--new']).code).toBe(0);
    const out = json<{ bundle_id: string; bundle: { signer: { fingerprint: string } } }>(agence(sb, src, ['^handoff', 'ralph', '--json']));
    expect(json<{ handoffs: { bundle_id: string }[] }>(agence(sb, lean, ['^inbox', '--json'])).handoffs.map((h) => h.bundle_id)).not.toContain(out.bundle_id);
    expect(agence(sb, lean, ['^trust', out.bundle.signer.fingerprint]).code).toBe(0);
    refused(lean, ['^accept', out.bundle_id], 2, /"ralph" is not an agent of this shard: use one of: .*sonya/);
  });

  it('a path-traversal or otherwise malformed bundle id is refused before it names a ref or a file', () => {
    for (const bad of ['../../../etc/passwd', '11111111-222222222222/../../heads/main', 'refs/heads/main', 'HEAD']) {
      refused(dst, ['^accept', bad], 2, /is not a bundle id/);
    }
    expect(existsSync(join(dst, '.agence/nexus/handoffs/accepted/../../../etc'))).toBe(false);
  });
});

describe('redaction and labels', () => {
  it('redacts secrets before signing and says how many; lessons travel by label, HERMETIC never', () => {
    const lessons = join(src, '.agence/synthetic/lessons');
    mkdirSync(lessons, { recursive: true });
    writeFileSync(join(lessons, 'cache.md'), '---\nid: lesson-cache-busting\nlabel: internal\n---\nBust the CDN cache after a deploy.\n');
    writeFileSync(join(lessons, 'keys.md'), '---\nid: lesson-prod-keys\nlabel: secret\n---\nThe prod keys live in vault path x.\n');
    writeFileSync(join(lessons, 'unrelated.md'), '---\nid: lesson-unrelated\nlabel: public\n---\nNot referenced.\n');
    mkdirSync(join(src, '.agence/hermetic/lessons'), { recursive: true });
    writeFileSync(join(src, '.agence/hermetic/lessons/private.md'), '---\nid: lesson-private\nlabel: public\n---\nMy own notes.\n');
    const note = 'see lesson-cache-busting, lesson-prod-keys and lesson-private; token ghp_abcdefghijklmnopqrstuvwxyz0123456789AB and DB_PASSWORD=hunter2hunter2';
    expect(agence(sb, src, ['^save', note, '--new', '--task', 'Deploy with key AKIAIOSFODNN7EXAMPLE']).code).toBe(0);
    const id = json<{ sessions: { id: string; status: string }[] }>(agence(sb, src, ['^sessions', '--status', 'saved', '--json'])).sessions[0]?.id as string;
    const file = join(sb.dir, 'redacted.json');
    const run = agence(sb, src, ['^export', id, '--out', file]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('redacted 3 secrets before signing (');
    for (const kind of ['github-token x1', 'env-assignment x1', 'aws-access-key x1']) expect(run.stdout).toContain(kind);
    expect(run.stdout).toContain('left out lesson lesson-prod-keys: labelled secret: never leaves this machine');
    const text = readFileSync(file, 'utf8');
    for (const secret of ['ghp_abcdefghij', 'hunter2hunter2', 'AKIAIOSFODNN7EXAMPLE', 'vault path', 'My own notes', 'Not referenced']) expect(text).not.toContain(secret);
    const bundle = JSON.parse(text) as { lessons: { id: string }[]; omitted: { id: string }[]; redactions: { count: number } };
    expect(bundle.lessons.map((l) => l.id)).toEqual(['lesson-cache-busting']);
    expect(bundle.omitted.map((o) => o.id)).toEqual(['lesson-prod-keys']);
    expect(bundle.redactions.count).toBe(3);
    expect(text).toContain('[REDACTED:github-token]');
    // the redacted bundle still verifies and imports
    expect(agence(sb, dst, ['^import', file]).code).toBe(0);

    // an agent cleared for public only does not get the internal lesson either
    const persona = join(src, '.agence/codex/agents/ralph.md');
    writeFileSync(persona, readFileSync(persona, 'utf8').replace(/^clearance: internal$/m, 'clearance: public'));
    expect(agence(sb, src, ['^save', 'see lesson-cache-busting', '--new']).code).toBe(0);
    const handed = agence(sb, src, ['^handoff', 'ralph', '--to', 'dst', '--json']);
    expect(handed.code, handed.stderr).toBe(0);
    const sent = json<{ bundle: { lessons: unknown[]; omitted: { id: string; reason: string }[] } }>(handed).bundle;
    expect(sent.lessons).toEqual([]);
    expect(sent.omitted).toEqual([{ id: 'lesson-cache-busting', reason: 'labelled internal, above the public clearance of the receiving agent' }]);

    // a persona whose front matter does not parse is corrupt data, never read as the default clearance
    writeFileSync(persona, readFileSync(persona, 'utf8').replace(/^clearance: public$/m, 'clearance: public\nclearance: secret'));
    expect(agence(sb, src, ['^save', 'see lesson-cache-busting again', '--new']).code).toBe(0);
    refused(src, ['^handoff', 'ralph', '--to', 'dst'], 3, /codex\/agents\/ralph.md: the front matter is not valid YAML/);
  });
});

describe('the handoff log', () => {
  it('has every export, push, accept and refusal', () => {
    const lines = (dir: string) => readFileSync(join(dir, '.agence/nexus/logs/handoffs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; decision: string });
    const dstActions = lines(dst).map((l) => l.action);
    expect(dstActions.filter((a) => a === 'refuse').length).toBeGreaterThanOrEqual(23);
    expect(dstActions).toContain('import');
    expect(dstActions).toContain('trust');
    expect(lines(src).map((l) => l.action)).toEqual(expect.arrayContaining(['export', 'push', 'refuse']));
  });
});
