import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agence, git, json, repo, sandbox } from './helpers.js';

const sb = sandbox();
const PERSONAS = ['claudia', 'chad', 'aiko', 'sonya', 'ralph', 'olena', 'peers', 'pilot'];

describe('^init', () => {
  it('refuses outside a git repository', () => {
    const outside = join(sb.dir, 'plain');
    mkdirSync(outside);
    const run = agence(sb, outside, ['^init']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('is not inside a git repository: run `git init` first');
    expect(existsSync(join(outside, '.agence'))).toBe(false);
  });

  it('creates the layout with the default content set and registers the shard', () => {
    const web = repo(sb, 'Web App');
    git(sb, web, ['remote', 'add', 'origin', 'git@github.com:Acme/web-app.git']);
    const run = agence(sb, web, ['^init', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const out = json<{ shard: { name: string; org: string; id: string }; created: string[] }>(run);
    expect(out.shard).toMatchObject({ name: 'web-app', org: 'acme' });

    const a = join(web, '.agence');
    for (const file of ['agence.json', '.gitignore', 'codex/PRINCIPLES.md', 'codex/LAWS.md', 'codex/RULES.md', 'codex/AIPOLICY.yaml', 'codex/commands.json', 'codex/formtags.yaml', 'codex/trust.yaml']) {
      expect(existsSync(join(a, file)), file).toBe(true);
    }
    for (const name of PERSONAS) {
      const persona = readFileSync(join(a, 'codex/agents', `${name}.md`), 'utf8');
      for (const key of ['name:', 'model:', 'provider:', 'capabilities:', 'context_window:', 'handoff_rules:', 'constraints:', 'clearance:']) expect(persona, `${name} ${key}`).toContain(key);
    }
    for (const dir of ['synthetic/lessons', 'synthetic/docs', 'synthetic/plans', 'synthetic/faults', 'organic/tasks', 'organic/workflows', 'organic/sequents', 'globalcache', 'nexus/sessions', 'nexus/logs', 'hermetic/keys']) {
      expect(statSync(join(a, dir)).isDirectory(), dir).toBe(true);
    }
    expect(readFileSync(join(a, 'codex/trust.yaml'), 'utf8')).toContain('test@example.com');

    // git really ignores the local state, and sees the versioned layers
    git(sb, web, ['add', '.agence']);
    const staged = git(sb, web, ['diff', '--cached', '--name-only']).split('\n');
    expect(staged).toContain('.agence/agence.json');
    expect(staged).toContain('.agence/synthetic/lessons/.gitkeep');
    expect(staged.some((p) => /\.agence\/(nexus|hermetic|base)\//.test(p))).toBe(false);

    const registry = JSON.parse(readFileSync(join(sb.env.XDG_CONFIG_HOME as string, 'agence', 'shards.json'), 'utf8'));
    expect(registry.shards).toEqual([expect.objectContaining({ id: out.shard.id, name: 'web-app', org: 'acme', path: web, master: null })]);
  });

  it('is idempotent: a second run changes nothing and says so', () => {
    const api = repo(sb, 'api');
    expect(agence(sb, api, ['^init', '--name', 'api', '--org', 'acme']).code).toBe(0);
    // Caches in nexus/cache/ (the validated manifest, ...) may appear: they are not shard state.
    const snapshot = () => git(sb, api, ['status', '--porcelain', '--untracked-files=all', '--ignored']).split('\n').filter((l) => !l.includes('.agence/nexus/cache/')).join('\n');
    const before = snapshot();
    const manifest = readFileSync(join(api, '.agence/agence.json'), 'utf8');
    const again = agence(sb, api, ['^init']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already initialised');
    expect(again.stdout).toContain('nothing changed');
    expect(snapshot()).toBe(before);
    expect(readFileSync(join(api, '.agence/agence.json'), 'utf8')).toBe(manifest);
    expect(json(agence(sb, api, ['^init', '--json']))).toMatchObject({ changed: false, created: [] });

    // a missing default comes back, and only it
    rmSync(join(api, '.agence/codex/RULES.md'));
    const repair = json<{ created: string[] }>(agence(sb, api, ['^init', '--json']));
    expect(repair.created).toEqual(['codex/RULES.md']);

    // a conflicting flag is refused, nothing rewritten
    const conflict = agence(sb, api, ['^init', '--name', 'other']);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('--name (it is "api")');
    expect(readFileSync(join(api, '.agence/agence.json'), 'utf8')).toBe(manifest);
  });

  it('proves with git that local state is ignored: a negation rule stops ^init and fails ^doctor', () => {
    const leaky = repo(sb, 'leaky');
    mkdirSync(join(leaky, '.agence'));
    writeFileSync(join(leaky, '.agence/.gitignore'), '/nexus/\n/hermetic/\n/base/\n*.agence-tmp\n!/nexus/\n');
    const run = agence(sb, leaky, ['^init']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('git does not ignore .agence/nexus/');
    expect(existsSync(join(leaky, '.agence/nexus'))).toBe(false);
    expect(existsSync(join(leaky, '.agence/agence.json'))).toBe(false);
  });

  it('rejects a bad --name without writing anything', () => {
    const bad = repo(sb, 'bad-name');
    const run = agence(sb, bad, ['^init', '--name', '../etc']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--name "../etc" is not a valid name');
    expect(existsSync(join(bad, '.agence'))).toBe(false);
  });
});

describe('^status, ^doctor and ^shards', () => {
  it('shows name, org, master, lock and counts per layer', () => {
    const svc = repo(sb, 'svc');
    agence(sb, svc, ['^init', '--org', 'acme']);
    const status = json<{ shard: { name: string; org: string }; master: null; lock: null; layers: Record<string, { local: number; base: number }> }>(
      agence(sb, svc, ['^status', '--json']),
    );
    expect(status).toMatchObject({ shard: { name: 'svc', org: 'acme' }, master: null, lock: null });
    expect(status.layers.codex?.local).toBeGreaterThanOrEqual(15);
    expect(status.layers.codex?.base).toBe(0);
    const text = agence(sb, svc, ['^status']).stdout;
    expect(text).toMatch(/shard\s+svc/);
    expect(text).toMatch(/master\s+none/);
    expect(text).toMatch(/codex\s+\d+ local\s+0 base/);
  });

  it('doctor is clean on a fresh shard and names the fix for each finding', () => {
    const ops = repo(sb, 'ops');
    agence(sb, ops, ['^init']);
    const clean = agence(sb, ops, ['^doctor']);
    expect(clean.code, clean.stdout).toBe(0);
    expect(clean.stdout).toContain('No problems found.');

    // a shard folder that disappeared shows up in the registry check
    const gone = repo(sb, 'gone');
    agence(sb, gone, ['^init']);
    rmSync(gone, { recursive: true, force: true });
    const report = json<{ findings: { check: string; severity: string; fix?: string }[] }>(agence(sb, ops, ['^doctor', '--json']));
    expect(report.findings).toContainEqual(expect.objectContaining({ check: 'registry', severity: 'warn', fix: 'run `agence ^shards --prune`' }));

    // breaking the ignore rules is a failure with its fix
    rmSync(join(ops, '.agence/.gitignore'));
    const broken = agence(sb, ops, ['^doctor']);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('fix: run `agence ^init` to restore it');
  });

  it('lists registered shards and prunes missing ones', () => {
    const listed = json<{ shards: { name: string; missing: boolean }[] }>(agence(sb, sb.dir, ['^shards', '--json']));
    expect(listed.shards.find((s) => s.name === 'gone')?.missing).toBe(true);
    const pruned = json<{ pruned: { name: string }[]; shards: { name: string }[] }>(agence(sb, sb.dir, ['^shards', '--prune', '--json']));
    expect(pruned.pruned.map((s) => s.name)).toEqual(['gone']);
    expect(pruned.shards.map((s) => s.name)).not.toContain('gone');
  });
});
