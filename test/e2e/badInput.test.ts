import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agence, git, json, repo, sandbox } from './helpers.js';

/**
 * Every bad input of the foundation: one-line error naming the file and the fix, exit 3 for
 * corrupt data (1 for a bad request), and nothing already on disk modified or lost.
 */
const sb = sandbox();
expect(agence(sb, sb.dir, ['^master', 'init', 'master']).code).toBe(0);

function shardWithMaster(name: string): string {
  const dir = repo(sb, name);
  expect(agence(sb, dir, ['^init', '--master', '../master']).code).toBe(0);
  expect(agence(sb, dir, ['^pull']).code).toBe(0);
  return dir;
}

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines, stderr).toHaveLength(1);
  return lines[0] as string;
}

describe('bad input', () => {
  it('a corrupt agence.json: exit 3, file named with its fix, file untouched', () => {
    const dir = shardWithMaster('corrupt-manifest');
    const file = join(dir, '.agence/agence.json');
    writeFileSync(file, '{ "schema": 1, "shard": ');
    for (const args of [['^status'], ['^codex'], ['^init'], ['^pull'], ['^doctor']]) {
      const run = agence(sb, dir, args);
      expect(run.code, args.join(' ')).toBe(3);
      if (args[0] !== '^doctor') expect(oneLine(run.stderr)).toMatch(/^agence: \.agence\/agence\.json is not valid JSON \(.+\): restore it with `git checkout -- \.agence\/agence\.json`/);
      expect(readFileSync(file, 'utf8')).toBe('{ "schema": 1, "shard": ');
    }
    writeFileSync(file, JSON.stringify({ schema: 1, shard: { id: 'nothex', name: 'x', org: 'y' } }));
    expect(oneLine(agence(sb, dir, ['^status']).stderr)).toContain('.agence/agence.json is malformed (shard.id:');
  });

  it('the validated manifest kept in nexus/cache/ is used only for the exact text it came from', () => {
    const dir = shardWithMaster('cached-manifest');
    const file = join(dir, '.agence/agence.json');
    expect(agence(sb, dir, ['^status']).code).toBe(0);
    const cache = JSON.parse(readFileSync(join(dir, '.agence/nexus/cache/manifest.json'), 'utf8'));
    expect(cache.text).toBe(readFileSync(file, 'utf8'));
    // A valid edit is read as edited; an invalid one is refused although a validated copy exists.
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...manifest, shard: { ...manifest.shard, name: 'renamed' } }, null, 2));
    expect(json<{ shard: { name: string } }>(agence(sb, dir, ['^status', '--json'])).shard.name).toBe('renamed');
    writeFileSync(file, JSON.stringify({ ...manifest, shard: { ...manifest.shard, name: 'Not A Name' } }));
    const run = agence(sb, dir, ['^status']);
    expect(run.code).toBe(3);
    expect(oneLine(run.stderr)).toContain('.agence/agence.json is malformed (shard.name:');
    // A cache that does not parse is only a cache: the manifest is validated and the cache rewritten.
    writeFileSync(file, JSON.stringify(manifest, null, 2));
    writeFileSync(join(dir, '.agence/nexus/cache/manifest.json'), '{ broken');
    expect(agence(sb, dir, ['^status']).code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, '.agence/nexus/cache/manifest.json'), 'utf8')).manifest.shard).toEqual(manifest.shard);
  });

  it('a corrupt agence.lock: exit 3, lock untouched, base untouched', () => {
    const dir = shardWithMaster('corrupt-lock');
    const file = join(dir, '.agence/agence.lock');
    writeFileSync(file, 'not json at all');
    const marker = readFileSync(join(dir, '.agence/base/.agence-base.json'), 'utf8');
    for (const args of [['^status'], ['^pull'], ['^codex', 'LAWS.md']]) {
      const run = agence(sb, dir, args);
      expect(run.code, args.join(' ')).toBe(3);
      expect(oneLine(run.stderr)).toContain('.agence/agence.lock is not valid JSON');
    }
    expect(readFileSync(file, 'utf8')).toBe('not json at all');
    expect(readFileSync(join(dir, '.agence/base/.agence-base.json'), 'utf8')).toBe(marker);
  });

  it('a master URL that does not exist: exit 1, nothing pinned', () => {
    const dir = repo(sb, 'no-such-master');
    expect(agence(sb, dir, ['^init', '--master', '../nowhere']).code).toBe(0);
    const run = agence(sb, dir, ['^pull']);
    expect(run.code).toBe(1);
    expect(oneLine(run.stderr)).toMatch(/^agence: cannot fetch master \.\.\/nowhere: .*: check master\.url and master\.ref in \.agence\/agence\.json/);
    expect(existsSync(join(dir, '.agence/agence.lock'))).toBe(false);
    expect(existsSync(join(dir, '.agence/base'))).toBe(false);
  });

  it('a master URL that would be an option or runs commands is refused at init', () => {
    const dir = repo(sb, 'evil-url');
    for (const url of ['--upload-pack=touch /tmp/x', 'ext::sh -c touch% /tmp/pwned']) {
      const run = agence(sb, dir, ['^init', `--master=${url}`]);
      expect(run.code).toBe(1);
      expect(oneLine(run.stderr)).toContain('cannot be used');
    }
    expect(existsSync(join(dir, '.agence'))).toBe(false);
  });

  it('a committed manifest whose master URL would inject an option: exit 3, git never runs it', () => {
    const dir = shardWithMaster('hostile-manifest');
    const file = join(dir, '.agence/agence.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    manifest.master.url = '--upload-pack=touch pwned';
    writeFileSync(file, JSON.stringify(manifest));
    rmSync(join(dir, '.agence/base'), { recursive: true });
    const run = agence(sb, dir, ['^status']);
    expect(run.code).toBe(3);
    expect(oneLine(run.stderr)).toContain('.agence/agence.json is malformed (master.url: not a git URL agence will fetch');
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });

  it('a master without the expected layers: exit 1, nothing pinned', () => {
    const plain = repo(sb, 'not-a-master');
    const dir = repo(sb, 'wrong-master');
    expect(agence(sb, dir, ['^init', '--master', '../not-a-master']).code).toBe(0);
    const run = agence(sb, dir, ['^pull']);
    expect(run.code).toBe(1);
    expect(oneLine(run.stderr)).toContain('has no codex/ layer, so it is not an agence master: point master.url');
    expect(existsSync(join(dir, '.agence/agence.lock'))).toBe(false);
    expect(plain).toBeTruthy();
  });

  it('a lock pointing at an unknown commit: exit 3 naming the lock, nothing lost', () => {
    const dir = shardWithMaster('unknown-commit');
    const file = join(dir, '.agence/agence.lock');
    const lock = JSON.parse(readFileSync(file, 'utf8'));
    lock.master.commit = 'deadbeef'.repeat(5);
    writeFileSync(file, JSON.stringify(lock));
    const before = readFileSync(file, 'utf8');
    const run = agence(sb, dir, ['^codex', 'LAWS.md']);
    expect(run.code).toBe(3);
    expect(oneLine(run.stderr)).toContain('.agence/agence.lock pins master commit deadbeefdead');
    const status = agence(sb, dir, ['^status']);
    expect(status.code).toBe(3);
    expect(status.stdout).toContain('locked  deadbeefdead');
    const locked = agence(sb, dir, ['^pull', '--locked']);
    expect(locked.code).toBe(3);
    expect(oneLine(locked.stderr)).toContain("run `agence ^pull` to pin the master's current commit");
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(existsSync(join(dir, '.agence/base/codex/LAWS.md'))).toBe(true);
    // the fix works
    expect(agence(sb, dir, ['^pull']).code).toBe(0);
    expect(agence(sb, dir, ['^codex', 'LAWS.md']).code).toBe(0);
  });

  it('a non-UTF-8 file in codex/: exit 3 naming it; doctor reports it', () => {
    const dir = repo(sb, 'latin1');
    expect(agence(sb, dir, ['^init']).code).toBe(0);
    const file = join(dir, '.agence/codex/RULES.md');
    const bytes = Buffer.from([0x2d, 0x20, 0x5b, 0x72, 0x5d, 0x20, 0xe9, 0x74, 0xe9, 0x0a]);
    writeFileSync(file, bytes);
    const run = agence(sb, dir, ['^codex', 'RULES.md']);
    expect(run.code).toBe(3);
    expect(oneLine(run.stderr)).toContain('.agence/codex/RULES.md is not valid UTF-8: re-save it as UTF-8');
    const doctor = agence(sb, dir, ['^doctor']);
    expect(doctor.code).toBe(3);
    expect(doctor.stdout).toContain('RULES.md is not valid UTF-8');
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it('a malformed AIPOLICY.yaml: exit 3 with the line', () => {
    const dir = repo(sb, 'bad-policy');
    expect(agence(sb, dir, ['^init']).code).toBe(0);
    writeFileSync(join(dir, '.agence/codex/AIPOLICY.yaml'), 'version: 1\nrules:\n  - id: x\n    tier: [T0\n');
    const run = agence(sb, dir, ['^codex', 'AIPOLICY.yaml']);
    expect(run.code).toBe(3);
    expect(oneLine(run.stderr)).toMatch(/AIPOLICY\.yaml line \d+ is not valid YAML/);
  });

  it('a shard registry that is not JSON: exit 3 naming it, registry untouched, nothing created', () => {
    const registry = join(sb.env.XDG_CONFIG_HOME as string, 'agence', 'shards.json');
    mkdirSync(join(sb.env.XDG_CONFIG_HOME as string, 'agence'), { recursive: true });
    const saved = existsSync(registry) ? readFileSync(registry, 'utf8') : null;
    writeFileSync(registry, '{ this is not json');
    const dir = repo(sb, 'registry-victim');
    const run = agence(sb, dir, ['^init']);
    expect(run.code).toBe(3);
    expect(oneLine(run.stderr)).toContain(`${registry} is not valid JSON`);
    expect(existsSync(join(dir, '.agence'))).toBe(false);
    expect(agence(sb, dir, ['^shards']).code).toBe(3);
    expect(readFileSync(registry, 'utf8')).toBe('{ this is not json');
    if (saved !== null) writeFileSync(registry, saved);
    git(sb, dir, ['status']);
  });
});
