import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agence, CLI, json, sandbox } from './helpers.js';

const sb = sandbox();
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describe('front door', () => {
  it('prints the version, also as JSON', () => {
    expect(agence(sb, sb.dir, ['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    expect(json(agence(sb, sb.dir, ['--version', '--json']))).toEqual({ version: pkg.version });
  });

  it('prints help for agence and for one command, in words and as data', () => {
    const help = agence(sb, sb.dir, ['--help']);
    expect(help.code).toBe(0);
    for (const word of ['^init', '^status', '^doctor', '^pull', '^codex', '^shards', '^master init', 'shared', 'private', 'auto', 'run', 'system', 'ask']) {
      expect(help.stdout).toContain(word);
    }
    const one = agence(sb, sb.dir, ['help', '^init']);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('Usage: agence ^init [--name N] [--org O] [--master URL]');
    expect(one.stdout).toContain('or: agence shared init');
    expect(agence(sb, sb.dir, ['^init', '--help']).stdout).toBe(one.stdout);
    const data = json<{ commands: { command: string; usage: string }[] }>(agence(sb, sb.dir, ['--help', '--json']));
    expect(data.commands.find((c) => c.command === '^init')?.usage).toBe('agence ^init [--name N] [--org O] [--master URL]');
    // every command of the table is built: none is listed as still to come
    expect(help.stdout).not.toContain('not available yet');
    expect(data.commands.map((c) => c.command)).toEqual(expect.arrayContaining(['^mcp', '^regen', '^task ready', '^tangent create', '^sequent run', '^buffers']));
  });

  it('suggests the nearest command for an unknown one (exit 1)', () => {
    const run = agence(sb, sb.dir, ['^stauts']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('agence: unknown command ^stauts: did you mean ^status? (`agence help` lists all)\n');
    expect(agence(sb, sb.dir, ['shared', 'doctr']).stderr).toContain('did you mean ^doctor?');
  });

  it('puts one JSON document on stdout with --json, errors included', () => {
    const run = agence(sb, sb.dir, ['^frobnicate', '--json']);
    expect(run.code).toBe(1);
    expect(json(run)).toMatchObject({ ok: false, error: { code: 'usage' } });
  });

  it('uses colour only on a TTY and never with NO_COLOR', () => {
    const plain = agence(sb, sb.dir, ['--help']);
    expect(plain.stdout).not.toContain('\u001b[');
    const tty = (extra: string) =>
      spawnSync('script', ['-qec', `${extra} ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} --help`, '/dev/null'], {
        env: { ...sb.env, TERM: 'xterm' },
        encoding: 'utf8',
      }).stdout;
    expect(tty('')).toContain('\u001b[1m');
    expect(tty('NO_COLOR=1')).not.toContain('\u001b[');
  });
});

describe('completion', () => {
  it('completes commands in a real bash from the generated script', () => {
    const script = agence(sb, sb.dir, ['completion', 'bash']).stdout;
    const complete = (words: string[]) => {
      const program = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _agence; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return spawnSync('bash', ['--norc', '-c', program], { encoding: 'utf8' }).stdout.trim().split('\n');
    };
    expect(complete(['agence', '^st'])).toEqual(['^status']);
    expect(complete(['agence', 'sha'])).toEqual(['shared']);
    expect(complete(['agence', 'shared', 'doc'])).toEqual(['doctor', 'doc', 'document']);
    expect(complete(['agence', '^master', ''])).toEqual(['init']);
    expect(complete(['agence', '^pull', '--c'])).toEqual(['--check']);
    expect(complete(['agence', 'completion', ''])).toEqual(expect.arrayContaining(['bash', 'zsh', 'fish']));
    expect(complete(['agence', 'completion', 'f'])).toEqual(['fish']);
  });

  it('generates zsh and fish scripts from the same table, and refuses other shells', () => {
    expect(agence(sb, sb.dir, ['completion', 'zsh']).stdout).toContain('bashcompinit');
    const fish = agence(sb, sb.dir, ['completion', 'fish']).stdout;
    expect(fish).toContain("complete -c agence -n __fish_use_subcommand -a '^init'");
    const bad = agence(sb, sb.dir, ['completion', 'tcsh']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('use one of: bash, zsh, fish');
  });
});

describe('compile cache', () => {
  it('is written on first use, read after, and a damaged one is replaced, never fatal', () => {
    const cacheHome = `${sb.dir}/cache-home`;
    const env = { XDG_CACHE_HOME: cacheHome };
    const first = agence(sb, sb.dir, ['--help'], env);
    expect(first.code).toBe(0);
    const dir = `${cacheHome}/agence/v8`;
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    const second = agence(sb, sb.dir, ['--help'], env);
    expect(second.stdout).toBe(first.stdout);

    writeFileSync(`${dir}/${files[0]}`, 'not a V8 code cache');
    const third = agence(sb, sb.dir, ['--help'], env);
    expect(third).toMatchObject({ code: 0, stdout: first.stdout, stderr: '' });
    expect(readFileSync(`${dir}/${files[0]}`).length).toBeGreaterThan(1000);
    expect(readdirSync(dir)).toEqual(files);
    // each command keeps its own cache of the router (V8 caches what the run compiled), and its
    // own bundle has its cache too
    agence(sb, sb.dir, ['^shards'], env);
    expect(readdirSync(dir).map((f) => f.replace(/^.*-/, '')).sort()).toEqual(['bundle.cache', 'other.cache', 'shards.cache']);
    expect(readdirSync(dir).find((f) => f.endsWith('-bundle.cache'))).toMatch(/^cmd-shards\.cjs-/);
  });
});
