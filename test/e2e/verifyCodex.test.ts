import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { agence, git, json, repo, sandbox, type Sandbox } from './helpers.js';

/** `^verify codex` against real SSH-signed commits (keys made with ssh-keygen, checked by git). */
const sb = sandbox();

beforeAll(() => {
  const found = spawnSync('ssh-keygen', ['-?'], { encoding: 'utf8' });
  if (found.error) throw new Error('ssh-keygen is not installed: these tests need it (Debian/Ubuntu: apt-get install openssh-client)');
});

function keygen(sandbox: Sandbox, name: string): { file: string; pub: string } {
  const file = join(sandbox.dir, `${name}_ed25519`);
  const made = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`ssh-keygen failed: ${made.stderr}`);
  return { file, pub: readFileSync(`${file}.pub`, 'utf8').trim() };
}

/** Commit everything in `dir`, SSH-signed with `key` when given. */
function commit(dir: string, message: string, key: { file: string } | null): string {
  git(sb, dir, ['add', '-A']);
  const sign = key ? ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${key.file}`, 'commit', '-S'] : ['commit', '--no-gpg-sign'];
  git(sb, dir, [...sign, '-qm', message]);
  return git(sb, dir, ['rev-parse', 'HEAD']);
}

function setAdminKeys(dir: string, keys: string[], file = '.agence/codex/trust.yaml'): void {
  const trust = join(dir, file);
  const text = readFileSync(trust, 'utf8').replace(/^( +)keys: \[[^\]]*\]/m, `$1keys: ${JSON.stringify(keys)}`);
  writeFileSync(trust, text);
}

describe('^verify codex', () => {
  const admin = keygen(sb, 'admin');
  const mallory = keygen(sb, 'mallory');

  it('passes when every CODEX commit since the anchor is signed by an admin key, and names each offending commit otherwise', () => {
    const dir = repo(sb, 'signed');
    expect(agence(sb, dir, ['^init']).code).toBe(0);
    const anchor = commit(dir, 'agence: init shard', null);
    expect(readFileSync(join(dir, '.agence/codex/trust.yaml'), 'utf8')).toContain('test@example.com');

    // The first admin key, signed with itself (the parent's trust.yaml listed no key).
    setAdminKeys(dir, [`${admin.pub}`]);
    const first = commit(dir, 'codex: admin key', admin);
    appendFileSync(join(dir, '.agence/codex/RULES.md'), '\n- [rule-signed] a rule an admin signed\n');
    const good = commit(dir, 'codex: signed rule', admin);
    writeFileSync(join(dir, 'app.txt'), 'not codex\n');
    commit(dir, 'app change, unsigned', null);

    const clean = agence(sb, dir, ['^verify', 'codex', '--json']);
    expect(clean.code).toBe(0);
    const verdict = json<{ ok: boolean; anchor: { commit: string; source: string }; commits: { commit: string; ok: boolean; signer: string; bootstrap: boolean }[] }>(clean);
    expect(verdict.anchor).toEqual({ commit: anchor, source: 'init' });
    expect(verdict.commits.map((c) => [c.commit, c.ok, c.signer, c.bootstrap])).toEqual([
      [first, true, 'test@example.com', true],
      [good, true, 'test@example.com', false],
    ]);

    appendFileSync(join(dir, '.agence/codex/RULES.md'), '\n- [rule-unsigned] slipped in\n');
    const unsigned = commit(dir, 'codex: unsigned rule', null);
    appendFileSync(join(dir, '.agence/codex/LAWS.md'), '\n- [law-mallory] mallory was here\n');
    const foreign = commit(dir, 'codex: signed by a stranger', mallory);
    // Adding one's own key does not help: a commit is judged by its parent's admins.
    setAdminKeys(dir, [admin.pub, mallory.pub]);
    const selfAuthorised = commit(dir, 'codex: mallory adds her key', mallory);

    const run = agence(sb, dir, ['^verify', 'codex']);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(new RegExp(`FAIL ${unsigned.slice(0, 12)} codex: unsigned rule .*not signed`));
    expect(run.stdout).toMatch(new RegExp(`FAIL ${foreign.slice(0, 12)} codex: signed by a stranger .*trust.yaml does not list`));
    expect(run.stdout).toMatch(new RegExp(`FAIL ${selfAuthorised.slice(0, 12)} codex: mallory adds her key`));
    expect(run.stdout).toMatch(new RegExp(`ok   ${good.slice(0, 12)}`));
    expect(run.stdout).toMatch(/3 CODEX commit\(s\) not signed by an admin key/);
    const data = json<{ offending: { commit: string }[] }>(agence(sb, dir, ['^verify', 'codex', '--json']));
    expect(data.offending.map((c) => c.commit)).toEqual([unsigned, foreign, selfAuthorised]);

    // Once mallory's key is in trust.yaml (by that bad commit), her next commit is judged by it:
    // the chain is only as good as the commit that changed trust.yaml, which is reported above.
    appendFileSync(join(dir, '.agence/codex/RULES.md'), '\n- [rule-later] later\n');
    commit(dir, 'codex: later, signed by admin', admin);
    expect(agence(sb, dir, ['^verify', 'codex']).code).toBe(3);
  });

  it('uses the anchor committed in agence.json; the commit that sets it must be signed like a CODEX commit', () => {
    const dir = repo(sb, 'anchored');
    expect(agence(sb, dir, ['^init']).code).toBe(0);
    commit(dir, 'agence: init shard', null);
    appendFileSync(join(dir, '.agence/codex/RULES.md'), '\n- [rule-old] before the anchor\n');
    const old = commit(dir, 'codex: before the anchor, unsigned', null);
    expect(agence(sb, dir, ['^verify', 'codex']).code).toBe(3);
    const manifestFile = join(dir, '.agence/agence.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    // an admin anchors past the old history, in a signed commit that also names the first admin key
    setAdminKeys(dir, [admin.pub]);
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, anchor: old }, null, 2));
    const anchoring = commit(dir, 'agence: anchor', admin);
    const run = json<{ ok: boolean; anchor: { commit: string; source: string }; commits: { commit: string; ok: boolean }[] }>(agence(sb, dir, ['^verify', 'codex', '--json']));
    expect(run).toMatchObject({ ok: true, anchor: { commit: old, source: 'manifest' } });
    expect(run.commits.map((c) => [c.commit, c.ok])).toEqual([[anchoring, true]]);

    // an edit in the work tree is not what is verified: HEAD is
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, anchor: 'f'.repeat(40) }, null, 2));
    expect(agence(sb, dir, ['^verify', 'codex']).code).toBe(0);
    // moving the anchor past an unsigned CODEX change, unsigned, does not hide it: the move is offending
    appendFileSync(join(dir, '.agence/codex/LAWS.md'), '\n- [law-slipped] slipped in\n');
    const slipped = commit(dir, 'codex: unsigned change', null);
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, anchor: slipped }, null, 2));
    const moved = commit(dir, 'agence: move the anchor, unsigned', null);
    const hidden = agence(sb, dir, ['^verify', 'codex', '--json']);
    expect(hidden.code).toBe(3);
    expect(json<{ offending: { commit: string }[] }>(hidden).offending.map((c) => c.commit)).toEqual([moved]);

    writeFileSync(manifestFile, JSON.stringify({ ...manifest, anchor: 'f'.repeat(40) }, null, 2));
    commit(dir, 'agence: a bad anchor', admin);
    const bad = agence(sb, dir, ['^verify', 'codex']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/anchor "f{40}" is not a commit in the history of HEAD/);
  });

  it("takes the master's admins from the locked master commit, not from base/ on disk", () => {
    expect(agence(sb, sb.dir, ['^master', 'init', 'org-master']).code).toBe(0);
    const master = join(sb.dir, 'org-master');
    const masterTrust = join(master, 'codex/trust.yaml');
    writeFileSync(masterTrust, readFileSync(masterTrust, 'utf8').replace('admins: []', `admins:\n  - { name: "Test User", email: "test@example.com", keys: [${JSON.stringify(admin.pub)}] }`));
    git(sb, master, ['commit', '-qam', 'master: admin key']);
    const dir = repo(sb, 'under-master');
    expect(agence(sb, dir, ['^init', '--master', '../org-master']).code).toBe(0);
    expect(agence(sb, dir, ['^pull']).code).toBe(0);
    commit(dir, 'agence: init shard', null);
    appendFileSync(join(dir, '.agence/codex/RULES.md'), '- [rule-admin] signed by the master admin\n');
    const signed = commit(dir, 'codex: signed by the master admin', admin);
    expect(json<{ ok: boolean; commits: { commit: string; ok: boolean }[] }>(agence(sb, dir, ['^verify', 'codex', '--json'])).commits).toEqual([expect.objectContaining({ commit: signed, ok: true })]);
    // mallory lists her key in base/ on disk (ignored by git, not the master's): it does not count
    setAdminKeys(dir, [admin.pub, mallory.pub], '.agence/base/codex/trust.yaml');
    appendFileSync(join(dir, '.agence/codex/RULES.md'), '- [rule-mallory] mallory\n');
    const foreign = commit(dir, 'codex: signed by mallory', mallory);
    const run = agence(sb, dir, ['^verify', 'codex', '--json']);
    expect(run.code).toBe(3);
    expect(json<{ offending: { commit: string }[] }>(run).offending.map((c) => c.commit)).toEqual([foreign]);
  });

  it('says so when the shard is not committed yet, and fails clearly without ssh-keygen', () => {
    const dir = repo(sb, 'uncommitted');
    expect(agence(sb, dir, ['^init']).code).toBe(0);
    const run = agence(sb, dir, ['^verify', 'codex']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/No anchor yet/);
    const noSsh = agence(sb, dir, ['^verify', 'codex'], { PATH: join(sb.dir, 'empty-path') + ':' + '/nonexistent' });
    expect(noSsh.code).toBe(1);
    expect(noSsh.stderr).toMatch(/ssh-keygen is not on PATH.*openssh-client/);
  });
});
