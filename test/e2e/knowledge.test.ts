import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agence, CLI, git, json, type Run, repo, sandbox } from './helpers.js';

const sb = sandbox();

interface Hit {
  id: string;
  title: string;
  layer: string;
  shard: string;
  path: string;
  line: number;
  snippet: string;
  stale: string[] | null;
}
interface Recall {
  matched: string;
  hits: Hit[];
}

const ok = (run: Run): Run => {
  expect(run.code, `${run.stderr}\n${run.stdout}`).toBe(0);
  return run;
};
/** Run agence in a shard, then check that git sees no hermetic or nexus path: after every command. */
function cmd(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const run = agence(sb, dir, args, env);
  hermeticInvisible(dir);
  return run;
}
const learned = (run: Run): string => json<{ item: { id: string } }>(ok(run)).item.id;
const recall = (dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Recall => json<Recall>(ok(cmd(dir, ['^recall', '--json', ...args], env)));

/** No hermetic path is ever seen by git: neither tracked, nor untracked, nor staged. */
function hermeticInvisible(dir: string): void {
  const status = git(sb, dir, ['status', '--porcelain', '--untracked-files=all', '--ignored=no']);
  expect(status).not.toMatch(/hermetic|nexus/);
  expect(git(sb, dir, ['ls-files'])).not.toMatch(/hermetic|nexus/);
}

function shard(name: string): string {
  const dir = repo(sb, name);
  ok(cmd(dir, ['^init']));
  git(sb, dir, ['add', '-A']);
  git(sb, dir, ['commit', '-qm', 'agence init']);
  return dir;
}

describe('knowledge items', () => {
  const dir = shard('items');

  it('^learn writes a lesson with provenance, a suggested formtag and a similar-items hint', () => {
    ok(cmd(dir, ['^save', 'working on TLS', '--task', 'tls renewals']));
    const run = ok(cmd(dir, ['^learn', 'TLS certificates expire silently: renew them with certbot and alert on expiry', '--tag', 'tls', '--json']));
    const first = json<{ item: Record<string, unknown>; path: string; suggested: { code: string } }>(run);
    expect(first.item.id).toMatch(/^l-[0-9a-z]+-[0-9a-z]{5}$/);
    expect(first.suggested.code).toBe('420.3');
    expect(first.item).toMatchObject({ type: 'lesson', formtag: '420.3', tags: ['tls'], label: 'internal', author: 'test@example.com' });
    expect(first.item.session).toMatch(/^[0-9a-f]{8}$/);
    expect(first.item.commit).toBe(git(sb, dir, ['rev-parse', 'HEAD']));
    const text = readFileSync(join(dir, first.path), 'utf8');
    expect(text).toMatch(/^---\nid: l-/);
    expect(text).toContain('renew them with certbot');

    const second = ok(cmd(dir, ['^learn', 'Renew TLS certificates with certbot before expiry and alert', '--formtag', '420.3']));
    expect(second.stdout).toContain('similar items already known');
    expect(second.stdout).toContain(String(first.item.id));
    hermeticInvisible(dir);
  });

  it('^recall ranks with BM25, shows path:line, a highlighted snippet and the formtag; filters work', () => {
    const dnsId = learned(cmd(dir, ['^learn', 'Retry DNS lookups: the resolver drops packets under load', '--title', 'DNS retries', '--json']));
    const result = recall(dir, ['certbot', 'expiry']);
    expect(result.matched).toBe('all');
    expect(result.hits.length).toBe(2);
    expect(result.hits[0]?.snippet).toMatch(/\u0002/);
    expect(result.hits[0]?.path).toMatch(/^\.agence\/synthetic\/lessons\/l-.*\.md$/);
    const line = result.hits[0]?.line as number;
    expect(readFileSync(join(dir, result.hits[0]?.path as string), 'utf8').split('\n')[line - 1]?.toLowerCase()).toMatch(/certbot|expiry/);
    const text = ok(cmd(dir, ['^recall', 'certbot']));
    expect(text.stdout).toContain('**certbot**');
    expect(text.stdout).toContain('formtag 420.3');
    expect(recall(dir, ['dns', '--formtag', '420']).hits.map((h) => h.id)).toEqual([dnsId]);
    expect(recall(dir, ['dns', '--formtag', '420.3']).hits).toEqual([]);
    expect(recall(dir, ['certbot', '--tag', 'tls']).hits.length).toBe(1);
    expect(recall(dir, ['certbot', '--type', 'fault']).hits).toEqual([]);
    expect(recall(dir, ['laws', '--layer', 'codex']).hits.length).toBeGreaterThan(0);
  });

  it('each hit carries the snippet of its own item', () => {
    const a = learned(cmd(dir, ['^learn', 'Snippet owl: nocturnal birds hunt at dusk', '--json']));
    const b = learned(cmd(dir, ['^learn', 'Snippet heron: wading birds fish at dawn', '--json']));
    const hits = recall(dir, ['birds', 'snippet']).hits;
    const snippetOf = (id: string) => hits.find((h) => h.id === id)?.snippet ?? '';
    expect(snippetOf(a)).toContain('owl');
    expect(snippetOf(a)).not.toContain('heron');
    expect(snippetOf(b)).toContain('heron');
    expect(snippetOf(b)).not.toContain('owl');
  });

  it('FTS syntax in a query is never interpreted', () => {
    for (const query of ['"certbot', 'cert*', 'NEAR(certbot expiry)', '-certbot', 'certbot OR', 'certbot:^', 'AND', '*', '" -']) {
      const run = cmd(dir, ['^recall', '--json', '--', query]);
      expect(run.code, `${query}: ${run.stderr}`).toBeLessThanOrEqual(1);
      if (run.code === 1) expect(run.stderr).toContain('has no words');
      else expect(run.stderr).not.toMatch(/syntax|fts5/i);
    }
    expect(recall(dir, ['"certbot"']).hits.length).toBe(2);
    expect(recall(dir, ['--', '-certbot']).hits.length).toBe(2);
    expect(recall(dir, ['NEAR(certbot', 'expiry)']).hits.length).toBe(2);
    expect(cmd(dir, ['^recall', '--', '* - "']).code).toBe(1);
  });

  it('an unknown formtag is refused with the fix; nothing is written', () => {
    const before = readdirSync(join(dir, '.agence/synthetic/lessons')).length;
    const run = cmd(dir, ['^learn', 'anything', '--formtag', '999.9']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--formtag "999.9" is not in the taxonomy');
    expect(readdirSync(join(dir, '.agence/synthetic/lessons')).length).toBe(before);
    expect(cmd(dir, ['^recall', 'x', '--formtag', '4x']).code).toBe(1);
  });

  it('^show, ^supersede (hidden unless --all), ^edit through $EDITOR, ^forget', () => {
    const oldId = learned(cmd(dir, ['^learn', 'Pin the base image digest in Dockerfiles', '--json']));
    const newId = learned(cmd(dir, ['^learn', 'Pin base image digests and let renovate bump them', '--json']));
    expect(ok(cmd(dir, ['^show', oldId])).stdout).toContain('Pin the base image digest');
    ok(cmd(dir, ['^supersede', oldId, newId]));
    expect(recall(dir, ['digest']).hits.map((h) => h.id)).toEqual([newId]);
    expect(recall(dir, ['digest', '--all']).hits.map((h) => h.id).sort()).toEqual([newId, oldId].sort());
    expect(ok(cmd(dir, ['^show', oldId])).stdout).toContain(`superseded by: ${newId}`);

    const edited = ok(cmd(dir, ['^edit', newId, '--json'], { EDITOR: 'sed -i s/renovate/dependabot/' }));
    expect(json(edited)).toMatchObject({ changed: true });
    expect(recall(dir, ['dependabot']).hits.map((h) => h.id)).toEqual([newId]);
    // an edit that breaks the front matter is reported naming the file, and the file is kept
    const broken = cmd(dir, ['^edit', newId], { EDITOR: 'sed -i s/^type:.*/type:_[oops/' });
    expect(broken.code).toBe(3);
    expect(broken.stderr).toMatch(/front matter of \.agence\/synthetic\/lessons\/.*\.md is not YAML/);
    expect(readFileSync(join(dir, `.agence/synthetic/lessons/${newId}.md`), 'utf8')).toContain('[oops');
    spawnSync('sed', ['-i', 's/^type:.*/type: lesson/', join(dir, `.agence/synthetic/lessons/${newId}.md`)]);

    ok(cmd(dir, ['^forget', oldId]));
    expect(existsSync(join(dir, `.agence/synthetic/lessons/${oldId}.md`))).toBe(false);
    expect(cmd(dir, ['^show', oldId]).code).toBe(1);
    expect(recall(dir, ['digest', '--all']).hits.map((h) => h.id)).toEqual([newId]);
    // nothing of it is left in the index file: not its words, not its path
    const db = readFileSync(join(dir, '.agence/nexus/index.db'));
    expect(db.includes(Buffer.from('Dockerfiles'))).toBe(false);
    expect(db.includes(Buffer.from(`lessons/${oldId}.md`))).toBe(false);
  });

  it('^fault (local, or --share), ~note, ~learn and ~recall; hermetic never reaches git; ^share', () => {
    const local = json<{ path: string; item: { id: string } }>(ok(cmd(dir, ['^fault', 'The deploy script deleted the staging bucket', '--json'])));
    expect(local.path).toMatch(/^\.agence\/nexus\/faults\//);
    const shared = json<{ path: string }>(ok(cmd(dir, ['^fault', 'Flaky integration test on the payments queue', '--share', '--json'])));
    expect(shared.path).toMatch(/^\.agence\/synthetic\/faults\//);
    expect(recall(dir, ['staging', 'bucket']).hits.map((h) => h.layer)).toEqual(['nexus']);

    const noteId = learned(cmd(dir, ['~note', 'my private hunch about the zookeeper quorum', '--json']));
    const privateId = learned(cmd(dir, ['~learn', 'zookeeper quorum needs an odd number of nodes', '--json']));
    hermeticInvisible(dir);
    expect(recall(dir, ['zookeeper']).hits).toEqual([]);
    expect(json<Recall>(ok(cmd(dir, ['~recall', 'zookeeper', '--json']))).hits.map((h) => h.id).sort()).toEqual([noteId, privateId].sort());
    expect(recall(dir, ['zookeeper', '--private']).hits.length).toBe(2);

    const moved = json<{ to: string }>(ok(cmd(dir, ['^share', privateId, '--json'])));
    expect(moved.to).toBe(`.agence/synthetic/lessons/${privateId}.md`);
    expect(recall(dir, ['zookeeper']).hits.map((h) => h.id)).toEqual([privateId]);
    expect(cmd(dir, ['^share', local.item.id]).stderr).toContain('is not private');
    hermeticInvisible(dir);
  });

  it('labels: an agent never sees items above its persona clearance; ^share refuses above internal', () => {
    mkdirSync(join(sb.env.XDG_CONFIG_HOME as string, 'agence'), { recursive: true });
    const settings = join(sb.env.XDG_CONFIG_HOME as string, 'agence', 'knowledge.json');
    // a person is cleared for internal unless they say otherwise
    expect(cmd(dir, ['~learn', 'the vault unseal procedure', '--label', 'secret']).code).toBe(2);
    writeFileSync(settings, '{"clearance": "secret"}\n');
    const secretId = learned(cmd(dir, ['~learn', 'the vault unseal procedure lives in the safe', '--label', 'secret', '--json']));
    const publicId = learned(cmd(dir, ['^learn', 'vault tokens expire after eight hours', '--label', 'public', '--json']));
    expect(recall(dir, ['vault', '--private']).hits.length).toBe(2);
    expect(cmd(dir, ['^share', secretId]).code).toBe(2);
    expect(cmd(dir, ['^share', secretId]).stderr).toContain('nothing above internal leaves this machine');
    // aiko's persona says clearance: internal
    const asAgent = { AGENCE_AGENT: 'aiko' };
    expect(recall(dir, ['vault', '--private'], asAgent).hits.map((h) => h.id)).toEqual([publicId]);
    const refused = cmd(dir, ['^show', secretId], asAgent);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('above the clearance');
    // an item relabelled in place (the index has not seen it yet) is judged by its file
    const relabelled = json<{ item: { id: string }; path: string }>(ok(cmd(dir, ['~learn', 'the vault audit log is rotated weekly', '--json'])));
    const relabelledFile = join(dir, relabelled.path);
    writeFileSync(relabelledFile, readFileSync(relabelledFile, 'utf8').replace(/^label: internal$/m, 'label: secret'));
    const shared = cmd(dir, ['^share', relabelled.item.id]);
    expect(shared.code, shared.stderr).toBe(2);
    expect(existsSync(relabelledFile)).toBe(true);
    // nor what the secret item links to
    expect(cmd(dir, ['^related', secretId], asAgent).code).toBe(2);
    expect(cmd(dir, ['^learn', 'the vault unseal procedure', '--label', 'secret']).stderr).toContain('never leave this machine');
    expect(cmd(dir, ['^recall', 'vault'], { AGENCE_AGENT: '../LAWS' }).stderr).toContain('is not an agent name');
    rmSync(settings);
  });

  it('^doc add copies a file into synthetic/docs with front matter', () => {
    writeFileSync(join(sb.dir, 'runbook.md'), '# Rotating the signing key\n\nSteps to rotate the signing key of the release pipeline.\n');
    const doc = json<{ path: string; item: { id: string; title: string; type: string } }>(ok(cmd(dir, ['^doc', 'add', join(sb.dir, 'runbook.md'), '--json'])));
    expect(doc.path).toMatch(/^\.agence\/synthetic\/docs\/d-/);
    expect(doc.item).toMatchObject({ type: 'doc', title: 'Rotating the signing key' });
    expect(recall(dir, ['signing', 'key']).hits.map((h) => h.id)).toContain(doc.item.id);
    // its own front matter is kept, and must make a valid item: else nothing is written
    writeFileSync(join(sb.dir, 'tagged.md'), '---\ntitle: Tagged runbook\ntags: [ops]\n---\nBody of the tagged runbook.\n');
    expect(json<{ item: { title: string; tags: string[] } }>(ok(cmd(dir, ['^doc', 'add', join(sb.dir, 'tagged.md'), '--json']))).item).toMatchObject({ title: 'Tagged runbook', tags: ['ops'] });
    const before = readdirSync(join(dir, '.agence/synthetic/docs')).length;
    writeFileSync(join(sb.dir, 'badtags.md'), '---\ntitle: Bad\ntags: 42\n---\nBody.\n');
    const bad = cmd(dir, ['^doc', 'add', join(sb.dir, 'badtags.md')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('nothing was written');
    expect(readdirSync(join(dir, '.agence/synthetic/docs')).length).toBe(before);
  });

  it('"possibly stale" when a file the item references changed since its commit', () => {
    writeFileSync(join(dir, 'retry.ts'), 'export const retries = 3;\n');
    git(sb, dir, ['add', '-A']);
    git(sb, dir, ['commit', '-qm', 'retry']);
    const id = learned(cmd(dir, ['^learn', 'The backoff jitter in retry.ts avoids thundering herds', '--file', 'retry.ts:1', '--json']));
    expect(recall(dir, ['jitter']).hits[0]?.stale).toEqual([]);
    writeFileSync(join(dir, 'retry.ts'), 'export const retries = 5;\n');
    expect(recall(dir, ['jitter']).hits[0]).toMatchObject({ id, stale: ['retry.ts'] });
    expect(ok(cmd(dir, ['^recall', 'jitter'])).stdout).toContain('possibly stale: retry.ts');
    expect(cmd(dir, ['^learn', 'x', '--file', 'nope.ts']).stderr).toContain('nope.ts does not exist');
  });

  it('^reindex walks the files even when no folder changed (an edit in place), and re-reads only what changed', () => {
    const id = learned(cmd(dir, ['^learn', 'Keep the canary at five percent', '--json']));
    const file = join(dir, `.agence/synthetic/lessons/${id}.md`);
    writeFileSync(file, readFileSync(file, 'utf8').replace('five percent', 'ten percent, rising to fifty'));
    const reindex = json<{ knowledge: { indexed: number; walked: boolean } }>(ok(cmd(dir, ['^reindex', '--json'])));
    expect(reindex.knowledge).toMatchObject({ walked: true, indexed: 1 });
    expect(recall(dir, ['fifty']).hits.map((h) => h.id)).toEqual([id]);
    expect(json<{ knowledge: { indexed: number } }>(ok(cmd(dir, ['^reindex', '--json']))).knowledge.indexed).toBe(0);
  });

  it('^show takes in an edit in place of the item it shows, which no folder mtime reveals', async () => {
    const id = learned(cmd(dir, ['^learn', 'Pin the base image by digest', '--json']));
    const file = join(dir, `.agence/synthetic/lessons/${id}.md`);
    // Past the racy second, so the next command stores the folder stamps and later ones trust them.
    await new Promise((r) => setTimeout(r, 1100));
    expect(json<{ knowledge: { walked: boolean } }>(ok(cmd(dir, ['^reindex', '--json']))).knowledge.walked).toBe(true);
    const folder = statSync(join(dir, '.agence/synthetic/lessons')).mtimeMs;
    writeFileSync(file, readFileSync(file, 'utf8').replace(/by digest\n$/, 'by digest, never by tag\n'));
    expect(statSync(join(dir, '.agence/synthetic/lessons')).mtimeMs).toBe(folder);
    const shown = json<{ body: string }>(ok(cmd(dir, ['^show', id, '--json'])));
    expect(shown.body).toContain('never by tag');
    // The walk it made took the edit into the index for recall too.
    expect(recall(dir, ['never', 'tag']).hits.map((h) => h.id)).toContain(id);
  });
});

describe('bad input in the knowledge layers', () => {
  const dir = shard('bad');

  it('bad files are reported naming the file; recall keeps working on the rest; nothing is deleted', () => {
    const goodId = learned(cmd(dir, ['^learn', 'Healthy lesson about kafka consumer lag', '--json']));
    const docs = join(dir, '.agence/synthetic/docs');
    mkdirSync(docs, { recursive: true });
    const bad: Record<string, string | Buffer> = {
      'not-yaml.md': '---\nid: [unclosed\n---\nkafka body\n',
      'list.md': '---\n- kafka\n---\nkafka body\n',
      'bare.md': 'kafka with no front matter\n',
      'binary.md': Buffer.from([0x2d, 0x2d, 0x2d, 0x0a, 0x00, 0x01, 0x02, 0xff]),
    };
    for (const [name, content] of Object.entries(bad)) writeFileSync(join(docs, name), content);
    const huge = join(docs, 'huge.md');
    writeFileSync(huge, '');
    truncateSync(huge, 50 * 1024 * 1024);
    const run = ok(cmd(dir, ['^recall', 'kafka', '--json']));
    expect(json<Recall>(run).hits.map((h) => h.id)).toEqual([goodId]);
    expect(run.stderr).toContain('not-yaml.md is not YAML');
    expect(run.stderr).toContain('list.md is not a mapping');
    expect(run.stderr).toContain('bare.md has no front matter');
    expect(run.stderr).toContain('binary.md is a binary file');
    expect(run.stderr).toContain('huge.md is 50.0 MB, above the 1 MB limit');
    for (const name of [...Object.keys(bad), 'huge.md']) expect(existsSync(join(docs, name)), name).toBe(true);
    expect(statSync(huge).size).toBe(50 * 1024 * 1024);
    // reported once when found, and listed by ^reindex
    expect(cmd(dir, ['^recall', 'kafka']).stderr).toBe('');
    const reindex = ok(cmd(dir, ['^reindex', '--full']));
    expect(reindex.stdout).toContain('not indexed: .agence/synthetic/docs/huge.md');
  });

  it('a duplicate id after a merge: both kept, reported, ^show and ^forget say which files', () => {
    const id = learned(cmd(dir, ['^learn', 'Use idempotency keys for payment retries', '--json']));
    const original = readFileSync(join(dir, `.agence/synthetic/lessons/${id}.md`), 'utf8');
    writeFileSync(join(dir, '.agence/synthetic/lessons/copy-from-other-clone.md'), original.replace(/Use idempotency keys/g, 'Other clone uses idempotency keys'));
    const run = ok(cmd(dir, ['^recall', 'idempotency', '--json']));
    expect(run.stderr).toContain(`id ${id} is used by 2 files`);
    expect(json<Recall>(run).hits.length).toBe(2);
    expect(ok(cmd(dir, ['^show', id])).stdout).toContain('the same id is also used by');
    const forget = cmd(dir, ['^forget', id]);
    expect(forget.code).toBe(1);
    expect(forget.stderr).toContain('copy-from-other-clone.md');
    expect(existsSync(join(dir, `.agence/synthetic/lessons/${id}.md`))).toBe(true);
  });

  it('^reindex --full draws a progress bar on a terminal, and nothing on a pipe', () => {
    const many = shard('many');
    const docs = join(many, '.agence/synthetic/docs');
    for (let d = 0; d < 60; d++) {
      mkdirSync(join(docs, `g${d}`), { recursive: true });
      for (let i = 0; i < 100; i++) {
        const id = `m${d}-${i}`;
        writeFileSync(join(docs, `g${d}`, `${id}.md`), `---\nid: ${id}\ntype: doc\ntitle: Doc ${id}\ncreated: 2026-01-01T00:00:00Z\nupdated: 2026-01-01T00:00:00Z\n---\nText of ${id}.\n`);
      }
    }
    const tty = spawnSync('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} ^reindex --full`, '/dev/null'], { cwd: many, env: sb.env, encoding: 'utf8' });
    expect(tty.status, tty.stderr).toBe(0);
    expect(tty.stdout).toMatch(/\[#*\.*\] [\d,]+\/6,0\d\d files indexed/);
    expect(tty.stdout).toContain('Knowledge: 60');
    const piped = ok(cmd(many, ['^reindex', '--full']));
    expect(piped.stderr).not.toContain('files indexed');
  });

  it('a damaged index.db is rebuilt with a notice', () => {
    writeFileSync(join(dir, '.agence/nexus/index.db'), 'this is not a database, it is garbage'.repeat(200));
    rmSync(join(dir, '.agence/nexus/index.db-wal'), { force: true });
    rmSync(join(dir, '.agence/nexus/index.db-shm'), { force: true });
    const run = ok(cmd(dir, ['^recall', 'kafka', '--json']));
    expect(run.stderr).toMatch(/could not be opened .*rebuilt/);
    expect(json<Recall>(run).hits.length).toBe(1);
  });
});

describe('knowledge travels with git', () => {
  it('learn in shard A, push, pull in a clone: recall finds it; hermetic never travels', () => {
    const bare = join(sb.dir, 'shared.git');
    git(sb, sb.dir, ['init', '-q', '--bare', bare]);
    const a = shard('travel-a');
    const id = learned(cmd(a, ['^learn', 'Postgres advisory locks serialise the migration runner', '--json']));
    learned(cmd(a, ['~learn', 'private: the migration runner password hint', '--json']));
    hermeticInvisible(a);
    git(sb, a, ['add', '-A']);
    git(sb, a, ['commit', '-qm', 'lesson']);
    git(sb, a, ['push', '-q', bare, 'HEAD:main']);
    const clone = join(sb.dir, 'travel-clone');
    git(sb, sb.dir, ['clone', '-q', bare, clone]);
    expect(recall(clone, ['advisory', 'locks']).hits.map((h) => h.id)).toEqual([id]);
    expect(json<Recall>(ok(cmd(clone, ['~recall', 'password', '--layer', 'hermetic', '--json']))).hits).toEqual([]);

    // two clones learning at once: ids do not collide after the merge
    const other = learned(cmd(clone, ['^learn', 'Vacuum after bulk deletes', '--json']));
    const mine = learned(cmd(a, ['^learn', 'Analyze after bulk loads', '--json']));
    expect(other).not.toBe(mine);
    git(sb, clone, ['add', '-A']);
    git(sb, clone, ['commit', '-qm', 'clone lesson']);
    git(sb, clone, ['push', '-q', 'origin', 'HEAD:main']);
    git(sb, a, ['add', '-A']);
    git(sb, a, ['commit', '-qm', 'a lesson']);
    git(sb, a, ['pull', '-q', '--no-rebase', bare, 'main']);
    expect(recall(a, ['bulk']).hits.map((h) => h.id).sort()).toEqual([mine, other].sort());
    // the clone is not registered, yet recall across the org from it includes it; both clones
    // share one shard id and still count as two shards
    expect(recall(clone, ['advisory', 'locks', '--shards', 'org']).hits.map((h) => [h.id, h.shard])).toEqual([
      [id, 'travel-a'],
      [id, 'travel-a'],
    ]);
    hermeticInvisible(a);
  });

  it('a base lesson from the master is found, and a local file of the same path overrides it', () => {
    ok(agence(sb, sb.dir, ['^master', 'init', 'kmaster']));
    const master = join(sb.dir, 'kmaster');
    mkdirSync(join(master, 'synthetic/lessons'), { recursive: true });
    const lesson = (title: string) =>
      `---\nid: org-terraform-state\ntype: lesson\ntitle: ${title}\nformtag: "430"\nlabel: internal\ncreated: 2026-01-01T00:00:00Z\nupdated: 2026-01-01T00:00:00Z\n---\n${title}: keep terraform state in a locked remote backend.\n`;
    writeFileSync(join(master, 'synthetic/lessons/terraform-state.md'), lesson('Remote terraform state'));
    git(sb, master, ['add', '-A']);
    git(sb, master, ['commit', '-qm', 'org lesson']);
    const dir = repo(sb, 'with-master');
    ok(cmd(dir, ['^init', '--master', '../kmaster']));
    ok(cmd(dir, ['^pull']));
    const base = recall(dir, ['terraform', 'state', '--layer', 'synthetic']);
    expect(base.hits.map((h) => [h.id, h.layer, h.path])).toEqual([['org-terraform-state', 'base/synthetic', '.agence/base/synthetic/lessons/terraform-state.md']]);
    expect(recall(dir, ['terraform', '--layer', 'base', '--type', 'lesson']).hits.length).toBe(1);
    mkdirSync(join(dir, '.agence/synthetic/lessons'), { recursive: true });
    writeFileSync(join(dir, '.agence/synthetic/lessons/terraform-state.md'), lesson('Shard terraform state'));
    const local = recall(dir, ['terraform', 'state', '--layer', 'synthetic']);
    expect(local.hits.map((h) => [h.id, h.layer, h.title])).toEqual([['org-terraform-state', 'synthetic', 'Shard terraform state']]);
    hermeticInvisible(dir);

    // two shards of one master: across the org, the master's lesson is listed once
    const twins = ['twin-1', 'twin-2'].map((name) => {
      const twin = repo(sb, name);
      ok(cmd(twin, ['^init', '--master', '../kmaster', '--org', 'twins']));
      ok(cmd(twin, ['^pull']));
      return twin;
    });
    const org = recall(twins[0] as string, ['terraform', 'state', '--shards', 'org']);
    expect(org.hits.filter((h) => h.id === 'org-terraform-state')).toHaveLength(1);
    expect(org.hits.filter((h) => h.id === 'codex.agents-claudia')).toHaveLength(1); // the master's codex too
  });
});

describe('formtags, links and context packs', () => {
  const dir = shard('graph');

  it('^formtags [PREFIX] prints the tree with counts; prefixes select subtrees; unknown codes are reported', () => {
    learned(cmd(dir, ['^learn', 'Renew TLS certificates early', '--formtag', '420.3', '--json']));
    learned(cmd(dir, ['^learn', 'DNS TTLs lie', '--formtag', '420.1', '--json']));
    learned(cmd(dir, ['^learn', 'Pin helm chart versions', '--formtag', '410.2', '--json']));
    learned(cmd(dir, ['^learn', 'Postgres vacuum', '--formtag', '310', '--json']));
    type Tree = { classes: { code: string; items: number; total: number }[]; unknown: { code: string; items: number }[] };
    const all = json<Tree>(ok(cmd(dir, ['^formtags', '--json'])));
    const byCode = Object.fromEntries(all.classes.map((c) => [c.code, c]));
    expect(byCode['400']).toMatchObject({ items: 0, total: 3 });
    expect(byCode['420']).toMatchObject({ items: 0, total: 2 });
    expect(byCode['420.3']).toMatchObject({ items: 1, total: 1 });
    expect(byCode['300']).toMatchObject({ total: 1 });
    const four = json<Tree>(ok(cmd(dir, ['^formtags', '4', '--json']))).classes.map((c) => c.code);
    expect(four.every((c) => c.startsWith('4'))).toBe(true);
    expect(four).toContain('400');
    expect(json<Tree>(ok(cmd(dir, ['^formtags', '42', '--json']))).classes.map((c) => c.code)).toEqual(['420', '420.1', '420.2', '420.3']);
    expect(json<Tree>(ok(cmd(dir, ['^formtags', '420.3', '--json']))).classes.map((c) => c.code)).toEqual(['420.3']);
    expect(ok(cmd(dir, ['^formtags', '42'])).stdout).toMatch(/420\s+Networking\s+\(2, 0 here\)/);
    // an item written by hand with a code the taxonomy lacks
    const lesson = `---\nid: handmade\ntype: lesson\ntitle: Odd class\nformtag: "999.9"\ncreated: 2026-01-01T00:00:00Z\nupdated: 2026-01-01T00:00:00Z\n---\nbody\n`;
    writeFileSync(join(dir, '.agence/synthetic/lessons/handmade.md'), lesson);
    expect(json<Tree>(ok(cmd(dir, ['^formtags', '--json']))).unknown).toEqual([{ code: '999.9', items: 1 }]);
    expect(cmd(dir, ['^formtags', 'x4']).code).toBe(1);
  });

  it('^related walks [[id]] links and related: two hops out, both directions', () => {
    const a = learned(cmd(dir, ['^learn', 'Root lesson', '--json']));
    const b = learned(cmd(dir, ['^learn', `Builds on [[${a}]]`, '--json']));
    const c = learned(cmd(dir, ['^learn', `Builds on [[${b}]] and [[missing-item]]`, '--json']));
    learned(cmd(dir, ['^learn', `Three hops away from the root: [[${c}]]`, '--json']));
    type Rel = { neighbours: { id: string; hop: number; via: string | null; title: string | null }[] };
    const rel = json<Rel>(ok(cmd(dir, ['^related', a, '--json'])));
    expect(rel.neighbours.map((n) => [n.id, n.hop, n.via])).toEqual([
      [b, 1, null],
      [c, 2, b],
    ]);
    const fromC = json<Rel>(ok(cmd(dir, ['^related', c, '--json'])));
    expect(fromC.neighbours.find((n) => n.id === 'missing-item')).toMatchObject({ hop: 1, title: null });
    expect(fromC.neighbours.find((n) => n.id === a)).toMatchObject({ hop: 2, via: b });
  });

  it('^reload assembles laws, principles, rules, persona, session brief and lessons within the budget', () => {
    ok(cmd(dir, ['^save', 'pack test', '--task', 'renew TLS certificates', '--todo', 'renew the staging cert']));
    type Pack = { agent: string; tokens: number; budget: number; sections: { kind: string; title: string; tokens: number }[]; dropped: { kind: string }[] };
    const big = json<Pack>(ok(cmd(dir, ['^reload', '--agent', 'sonya', '--json', '--budget', '100000'])));
    expect(big.sections.map((s) => s.kind).slice(0, 5)).toEqual(['laws', 'principles', 'rules', 'persona', 'session']);
    expect(big.sections.find((s) => s.kind === 'lesson')?.title).toBe('Renew TLS certificates early');
    expect(big.dropped).toEqual([]);
    const lawsTokens = big.sections[0]?.tokens as number;
    const small = json<Pack>(ok(cmd(dir, ['^reload', '--agent', 'sonya', '--json', '--budget', String(lawsTokens + 50)])));
    expect(small.tokens).toBeLessThanOrEqual(small.budget);
    expect(small.sections[0]?.kind).toBe('laws');
    expect(small.dropped[0]?.kind).toBe('lesson');
    expect(small.dropped.map((d) => d.kind)).toContain('persona');
    const text = ok(cmd(dir, ['^reload', '--task', 'helm chart']));
    expect(text.stdout).toContain('Pin helm chart versions');
    expect(text.stdout).toMatch(/context pack for sonya: ~\d+ of 8000 tokens/);
    expect(cmd(dir, ['^reload', '--agent', 'nobody']).stderr).toContain('no persona nobody');
    const over = cmd(dir, ['^reload', '--budget', '100']);
    expect(over.code).toBe(0);
    expect(over.stderr).toContain('never dropped');
  });
});

describe('recall across the shards of an org (mnemonic)', () => {
  it('merges every registered shard of the org, names the shard, never shows hermetic or another org; vanished shards are skipped', () => {
    const orgShard = (name: string, org: string) => {
      const dir = repo(sb, name);
      ok(cmd(dir, ['^init', '--org', org]));
      return dir;
    };
    const a = orgShard('org-a', 'acme');
    const b = orgShard('org-b', 'acme');
    const c = orgShard('org-c', 'elsewhere');
    const gone = orgShard('org-gone', 'acme');
    const idA = learned(cmd(a, ['^learn', 'Zebra crossings need a pelican signal', '--json']));
    const idB = learned(cmd(b, ['^learn', 'Zebra stripes confuse the camera calibration', '--json']));
    learned(cmd(b, ['~learn', 'Zebra private hunch never shared', '--json']));
    learned(cmd(c, ['^learn', 'Zebra lesson of another org', '--json']));
    learned(cmd(gone, ['^learn', 'Zebra lesson of a shard that will vanish', '--json']));
    ok(cmd(a, ['^recall', 'zebra', '--shards', 'org']));
    rmSync(gone, { recursive: true, force: true });

    type Org = Recall & { org: string; shards: string[]; vanished: { name: string }[]; refreshed: string[] };
    const run = ok(cmd(a, ['^recall', 'zebra', '--shards', 'org', '--json']));
    const result = json<Org>(run);
    expect(result.org).toBe('acme');
    expect(result.shards.sort()).toEqual(['org-a', 'org-b']);
    expect(result.vanished.map((v) => v.name)).toEqual(['org-gone']);
    expect(run.stderr).toContain('shard org-gone is registered at');
    expect(result.hits.map((h) => [h.id, h.shard]).sort()).toEqual(
      [
        [idA, 'org-a'],
        [idB, 'org-b'],
      ].sort(),
    );
    expect(ok(cmd(a, ['^recall', 'zebra', '--shards', 'org'])).stdout).toContain('shard org-b');
    expect(cmd(a, ['~recall', 'zebra', '--shards', 'org']).code).toBe(2);

    // the global index is a per-org cache: no hermetic text, no other org, refreshed only on change
    const cache = join(sb.env.HOME as string, '.cache/agence/mnemonic');
    expect(readdirSync(cache)).toContain('acme.db');
    expect(readdirSync(cache)).not.toContain('elsewhere.db');
    const bytes = readFileSync(join(cache, 'acme.db'));
    expect(bytes.includes(Buffer.from('private hunch'))).toBe(false);
    expect(bytes.includes(Buffer.from('another org'))).toBe(false);
    expect(json<Org>(ok(cmd(a, ['^recall', 'zebra', '--shards', 'org', '--json']))).refreshed).toEqual([]);
    const idB2 = learned(cmd(b, ['^learn', 'Zebra fish tanks need heaters', '--json']));
    const again = json<Org>(ok(cmd(a, ['^recall', 'zebra', '--shards', 'org', '--json'])));
    expect(again.refreshed).toEqual(['org-b']);
    expect(again.hits.map((h) => h.id)).toContain(idB2);
    rmSync(join(cache, 'acme.db'));
    expect(json<Org>(ok(cmd(a, ['^recall', 'zebra', '--shards', 'org', '--json']))).hits.length).toBe(3);

    // ^forget in b reaches the org cache at once: the text is gone from the file, not just hidden
    ok(cmd(b, ['^forget', idB2]));
    const file = () => Buffer.concat(['', '-wal'].filter((x) => existsSync(join(cache, `acme.db${x}`))).map((x) => readFileSync(join(cache, `acme.db${x}`))));
    expect(file().includes(Buffer.from('fish tanks'))).toBe(false);
    expect(json<Org>(ok(cmd(a, ['^recall', 'zebra', '--shards', 'org', '--json']))).hits.map((h) => h.id)).not.toContain(idB2);
    // b's index deleted and rebuilt: its change count starts again, yet the copy is refreshed
    rmSync(join(b, '.agence/nexus/index.db'));
    const idB3 = learned(cmd(b, ['^learn', 'Zebra mussels clog the intake', '--json']));
    const rebuilt = json<Org>(ok(cmd(a, ['^recall', 'zebra', '--shards', 'org', '--json'])));
    expect(rebuilt.refreshed).toEqual(['org-b']);
    expect(rebuilt.hits.map((h) => h.id)).toContain(idB3);
    hermeticInvisible(b);
  });
});
