import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readGitConfigValue, valueIn } from '../../src/git/configFile.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'agence-gitconfig-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What git itself reads from one file: the reference every answer is checked against. */
function gitSays(text: string): string | null {
  const file = join(dir, 'one.config');
  writeFileSync(file, text);
  const result = spawnSync('git', ['config', '-f', file, '--get', 'user.email'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.replace(/\n$/, '') : null;
}

const FILES = [
  '[user]\n\temail = ada@example.com\n',
  '[user]\n\tname = Ada\n',
  '[User]\n\tEMAIL = upper@example.com\n',
  '[user]\n\temail = first@example.com\n[core]\n\teditor = vi\n[user]\n\temail = last@example.com\n',
  '[user]\n\temail = "  spaced  " # comment\n',
  '[user]\n\temail = a@b.c ; trailing comment\n',
  '[user]\n\temail = "quoted \\"inner\\" \\\\ back"\n',
  '[user "work"]\n\temail = sub@example.com\n',
  '# comment\n; another\n[user]\n\n\temail=tight@example.com\n',
  '[user]\n\temail = split\\\n-line@example.com\n',
  '[user]\r\n\temail = crlf@example.com\r\n',
];

describe('git config read from the files', () => {
  it.each(FILES)('agrees with git on %j', (text) => {
    const ours = valueIn(text, 'user', 'email');
    expect(ours).not.toBeUndefined();
    expect(ours).toBe(gitSays(text));
  });

  it('defers to git for what it does not model', () => {
    expect(valueIn('[include]\n\tpath = other\n[user]\n\temail = x@y.z\n', 'user', 'email')).toBeUndefined();
    expect(valueIn('[includeIf "gitdir:~/work/"]\n\tpath = work\n', 'user', 'email')).toBeUndefined();
    expect(valueIn('[user] email = inline@example.com\n', 'user', 'email')).toBeUndefined();
    expect(valueIn('[user]\n\temail = "unterminated\n', 'user', 'email')).toBeUndefined();
    expect(valueIn('[user]\n\temail\n', 'user', 'email')).toBeUndefined();
    expect(valueIn('[extensions]\n\tworktreeConfig = true\n', 'user', 'email')).toBeUndefined();
  });

  it('follows git order across files, and defers when the environment carries configuration', () => {
    const repo = join(dir, 'repo');
    mkdirSync(join(repo, '.git'), { recursive: true });
    writeFileSync(join(dir, 'global'), '[user]\n\temail = global@example.com\n');
    const env = { HOME: dir, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: join(dir, 'global') };
    expect(readGitConfigValue(repo, 'user.email', env)).toBe('global@example.com');
    writeFileSync(join(repo, '.git', 'config'), '[user]\n\temail = local@example.com\n');
    expect(readGitConfigValue(repo, 'user.email', env)).toBe('local@example.com');
    expect(readGitConfigValue(repo, 'user.email', { ...env, GIT_CONFIG_COUNT: '1' })).toBeUndefined();
    expect(readGitConfigValue(join(dir, 'not-a-repo'), 'user.email', env)).toBeUndefined();
  });
});
