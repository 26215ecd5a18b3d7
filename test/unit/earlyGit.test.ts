import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEarlyGit, WORK_TREE_STATUS_ARGS } from '../../src/git/early.js';
import { parseStatusV2, workTreeState } from '../../src/git/git.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'agence-early-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { PATH: process.env.PATH, HOME: dir, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: join(dir, 'gitconfig') };
writeFileSync(join(dir, 'gitconfig'), '[user]\n\temail = early@example.com\n\tname = Early\n');
const run = (args: string[]) => spawnSync('git', args, { cwd: join(dir, 'repo'), env, encoding: 'utf8' });

describe('git started early by the front door', () => {
  it('gives the same work-tree state as running git the ordinary way, and leaves no temp file', async () => {
    spawnSync('git', ['init', '-q', join(dir, 'repo')], { env });
    writeFileSync(join(dir, 'repo', 'a.txt'), 'a\n');
    run(['add', 'a.txt']);
    run(['commit', '-qm', 'one']);
    writeFileSync(join(dir, 'repo', 'a.txt'), 'changed\n');
    writeFileSync(join(dir, 'repo', 'new file.txt'), 'new\n');
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith('.agence-git-'));
    const early = await startEarlyGit(WORK_TREE_STATUS_ARGS, join(dir, 'repo'), env);
    expect(early).not.toBeNull();
    const ordinary = await workTreeState(join(dir, 'repo'));
    expect(parseStatusV2(early as string)).toEqual(ordinary);
    expect(ordinary.dirty.sort()).toEqual(['a.txt', 'new file.txt']);
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('.agence-git-'))).toEqual(before);
  });

  it('answers null when git fails, so the caller runs git itself and reports its error', async () => {
    expect(await startEarlyGit(WORK_TREE_STATUS_ARGS, dir, { ...env, GIT_CEILING_DIRECTORIES: dir })).toBeNull();
    expect(await startEarlyGit(['config', 'user.email'], join(dir, 'repo'), env)).toBe('early@example.com\n');
    expect(await startEarlyGit(['status'], join(dir, 'no-such-folder'), env)).toBeNull();
  });
});
