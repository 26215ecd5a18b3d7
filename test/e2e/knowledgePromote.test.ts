import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agence, git, gitDaemon, json, repo, sandbox } from './helpers.js';

const sb = sandbox();

describe('^promote to the master served over git daemon on 127.0.0.1', () => {
  it('pushes a branch agence/promote/<shard>/<id> to the master; once merged and pulled, base/ wins and the local copy is superseded', async () => {
    const served = join(sb.dir, 'served');
    mkdirSync(served);
    expect(agence(sb, served, ['^master', 'init', 'org-master']).code).toBe(0);
    const master = join(served, 'org-master');
    const url = await gitDaemon(sb, served, 'org-master', { push: true });
    const shard = repo(sb, 'promoting');
    expect(agence(sb, shard, ['^init', '--master', url]).code).toBe(0);
    expect(agence(sb, shard, ['^pull']).code).toBe(0);
    const branchesBefore = git(sb, shard, ['branch', '--list']);
    const learned = agence(sb, shard, ['^learn', 'Blue-green deploys need the database migration to be backward compatible', '--json']);
    expect(learned.code, learned.stderr).toBe(0);
    const id = json<{ item: { id: string } }>(learned).item.id;

    const run = agence(sb, shard, ['^promote', id, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = json<{ branch: string; commit: string; path: string }>(run);
    expect(result.branch).toBe(`agence/promote/promoting/${id}`);
    expect(git(sb, served, ['ls-remote', url, `refs/heads/${result.branch}`])).toContain(result.commit);
    expect(git(sb, master, ['show', `${result.branch}:synthetic/lessons/${id}.md`])).toContain('backward compatible');
    // the user's own repository and branches are untouched; the proposal is recorded
    expect(git(sb, shard, ['branch', '--list'])).toBe(branchesBefore);
    const local = readFileSync(join(shard, `.agence/synthetic/lessons/${id}.md`), 'utf8');
    expect(local).toContain(`branch: agence/promote/promoting/${id}`);
    expect(agence(sb, shard, ['^promote', 'no-such-item']).code).toBe(1);

    // a reviewer merges it upstream; the shard pulls
    git(sb, master, ['merge', '--quiet', '--no-edit', result.branch]);
    const pulled = agence(sb, shard, ['^pull']);
    expect(pulled.code, pulled.stderr).toBe(0);
    const after = agence(sb, shard, ['^recall', 'blue-green', '--json']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr).toContain('is marked superseded');
    const hits = json<{ hits: { id: string; layer: string; path: string }[] }>(after).hits;
    expect(hits.map((h) => [h.id, h.layer, h.path])).toEqual([[id, 'base/synthetic', `.agence/base/synthetic/lessons/${id}.md`]]);
    expect(readFileSync(join(shard, `.agence/synthetic/lessons/${id}.md`), 'utf8')).toContain(`superseded_by: ${id}`);
  });
});
