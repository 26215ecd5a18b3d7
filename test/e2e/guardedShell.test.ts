import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agence, CLI, repo, sandbox } from './helpers.js';

const sb = sandbox();
const dir = repo(sb, 'shell');
expect(agence(sb, dir, ['^init']).code).toBe(0);

const shell = (input: string, args: string[] = []) => spawnSync(process.execPath, [CLI, '!bash', ...args], { cwd: dir, env: sb.env, input, encoding: 'utf8' });

describe('!bash, the guarded shell', () => {
  it('runs T0/T1 lines, refuses T2 without a terminal and T3/T4 always, and ledgers every line', () => {
    mkdirSync(join(dir, 'build'));
    const run = shell(['echo hello from the shell', 'rm -rf build', 'git push origin main', 'cd build', 'pwd', 'ls -la | head -1', 'exit', 'echo never'].join('\n'));
    expect(run.stdout).toContain('hello from the shell');
    expect(run.stdout).toContain(`${dir}/build\n`);
    expect(run.stdout).not.toContain('never');
    expect(run.stderr).toContain('refused (T3): [rm-recursive] recursive delete');
    expect(run.stderr).toContain('refused (T2): [git-push]');
    expect(existsSync(join(dir, 'build'))).toBe(true);
    const ledger = readFileSync(join(dir, '.agence/nexus/ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    // a line that runs is on the ledger before it runs (allowed), and again with its exit (ran)
    expect(ledger.filter((e) => e.action.startsWith('shell.')).map((e) => [e.action, e.subject, e.tier, e.decision, e.data.exit])).toEqual([
      ['shell.line', 'echo hello from the shell', 'T0', 'allowed', undefined],
      ['shell.exit', 'echo hello from the shell', 'T0', 'ran', 0],
      ['shell.line', 'rm -rf build', 'T3', 'refused', 2],
      ['shell.line', 'git push origin main', 'T2', 'refused', 2],
      ['shell.line', 'pwd', 'T0', 'allowed', undefined],
      ['shell.exit', 'pwd', 'T0', 'ran', 0],
      ['shell.line', 'ls -la | head -1', 'T0', 'allowed', undefined],
      ['shell.exit', 'ls -la | head -1', 'T0', 'ran', 0],
    ]);
  });

  it('with --json, one document on stdout and the lines\' output on stderr', () => {
    const run = shell('echo out\ncurl https://example.com\n', ['--json']);
    expect(JSON.parse(run.stdout)).toEqual([
      { line: 'echo out', tier: 'T0', outcome: 'ran', exit: 0 },
      { line: 'curl https://example.com', tier: 'T2', outcome: 'refused', exit: 2 },
    ]);
    expect(run.stderr).toContain('out\n');
    expect(run.status).toBe(2);
  });

  it('takes no arguments', () => {
    expect(agence(sb, dir, ['!bash', '-c', 'ls']).code).toBe(1);
  });
});
