import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agence, git, gitDaemon, json, repo, sandbox } from './helpers.js';

const sb = sandbox();
const master = join(sb.dir, 'master');
const short = (c: string) => c.slice(0, 12);

function commitAll(dir: string, message: string): string {
  git(sb, dir, ['add', '-A']);
  git(sb, dir, ['commit', '-qm', message]);
  return git(sb, dir, ['rev-parse', 'HEAD']);
}

describe('master repositories and layering', () => {
  let web = '';
  let masterCommit = '';

  it('^master init creates a real git repository with one commit', () => {
    const run = agence(sb, sb.dir, ['^master', 'init', 'master', '--json']);
    expect(run.code, run.stderr).toBe(0);
    masterCommit = json<{ commit: string }>(run).commit;
    expect(git(sb, master, ['rev-list', '--count', 'HEAD'])).toBe('1');
    expect(git(sb, master, ['rev-parse', 'HEAD'])).toBe(masterCommit);
    for (const dir of ['codex', 'synthetic', 'organic', 'globalcache', 'objectcode']) expect(existsSync(join(master, dir)), dir).toBe(true);
    expect(existsSync(join(master, 'codex/agents/claudia.md'))).toBe(true);
    const again = agence(sb, sb.dir, ['^master', 'init', 'master']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists and is not empty');
  });

  it('^init --master records it; ^pull fetches, pins and materialises base/', () => {
    web = repo(sb, 'web');
    const init = agence(sb, web, ['^init', '--master', '../master']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain('next: agence ^pull');
    const manifest = JSON.parse(readFileSync(join(web, '.agence/agence.json'), 'utf8'));
    expect(manifest.master).toEqual({ url: '../master', ref: 'HEAD', layers: ['codex', 'synthetic', 'organic', 'globalcache', 'objectcode'] });
    // a shard with a master starts with an empty local codex: the master provides it
    expect(existsSync(join(web, '.agence/codex/LAWS.md'))).toBe(false);

    const pulled = agence(sb, web, ['^pull']);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toContain(`at ${short(masterCommit)}`);
    expect(JSON.parse(readFileSync(join(web, '.agence/agence.lock'), 'utf8'))).toEqual({
      schema: 1,
      master: { url: '../master', ref: 'HEAD', commit: masterCommit },
    });
    expect(git(sb, web, ['rev-parse', 'refs/agence/master/HEAD'])).toBe(masterCommit);
    expect(readFileSync(join(web, '.agence/base/codex/LAWS.md'), 'utf8')).toBe(readFileSync(join(master, 'codex/LAWS.md'), 'utf8'));

    const status = json<{ lock: { commit: string }; base: { state: string }; layers: { codex: { base: number } } }>(agence(sb, web, ['^status', '--json']));
    expect(status.lock.commit).toBe(masterCommit);
    expect(status.base.state).toBe('current');
    expect(status.layers.codex.base).toBeGreaterThanOrEqual(15);
    expect(agence(sb, web, ['^status']).stdout).toContain(`locked  ${short(masterCommit)}`);
  });

  it('local files override or extend the base per the rules, and --explain says which layer', () => {
    const codex = join(web, '.agence/codex');
    mkdirSync(join(codex, 'agents'), { recursive: true });
    writeFileSync(join(codex, 'agents/sonya.md'), '---\nname: sonya\nmodel: opus\n---\nLocal Sonya.\n');
    writeFileSync(join(codex, 'RULES.md'), '# Web rules\n\n- [rule-web-storybook] Every component gets a story.\n');
    writeFileSync(join(codex, 'LAWS.md'), '- [law-web-a11y] Ship nothing that fails the accessibility audit.\n');

    expect(agence(sb, web, ['^codex', 'agents/sonya.md']).stdout).toBe('---\nname: sonya\nmodel: opus\n---\nLocal Sonya.\n');
    const rules = agence(sb, web, ['^codex', 'RULES.md']).stdout;
    const baseRules = readFileSync(join(master, 'codex/RULES.md'), 'utf8');
    const firstBaseRule = /- \[(rule-[a-z0-9-]+)\]/.exec(baseRules)?.[1] as string;
    expect(rules).toContain(`[${firstBaseRule}]`);
    expect(rules.indexOf('[rule-web-storybook]')).toBeGreaterThan(rules.indexOf(`[${firstBaseRule}]`));

    const explain = agence(sb, web, ['^codex', '--explain', 'RULES.md']);
    expect(explain.code).toBe(0);
    expect(explain.stdout).toContain(`[base] - [${firstBaseRule}]`);
    expect(explain.stdout).toContain('[local] - [rule-web-storybook]');
    const laws = json<{ parts: { origin: string; key?: string }[] }>(agence(sb, web, ['^codex', '--explain', 'LAWS.md', '--json']));
    expect(laws.parts.filter((p) => p.key).at(-1)).toEqual(expect.objectContaining({ origin: 'local', key: 'law-web-a11y' }));

    const list = agence(sb, web, ['^codex']).stdout;
    expect(list).toMatch(/RULES\.md\s+base \+ local \(items\)/);
    expect(list).toMatch(/agents\/claudia\.md\s+base/);
    expect(agence(sb, web, ['^doctor']).code).toBe(0);
  });

  it('a shard can never weaken a base law: ^doctor reports it and readers ignore it', () => {
    const baseLaws = readFileSync(join(master, 'codex/LAWS.md'), 'utf8');
    const lawId = /- \[(law-[a-z0-9-]+)\]/.exec(baseLaws)?.[1] as string;
    const lawsFile = join(web, '.agence/codex/LAWS.md');
    const before = readFileSync(lawsFile, 'utf8');
    appendFileSync(lawsFile, `- [${lawId}] This law no longer applies here.\n`);
    const doctor = agence(sb, web, ['^doctor']);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain(`changes base law [${lawId}]`);
    const effective = agence(sb, web, ['^codex', 'LAWS.md']).stdout;
    expect(effective).not.toContain('no longer applies');
    expect(effective).toContain(`[${lawId}]`);
    writeFileSync(lawsFile, before);
  });

  it('teammates who clone the shard get base/ from the lock, fetched once when objects are missing', () => {
    commitAll(web, 'agence: shard with master');
    const bare = join(sb.dir, 'web.git');
    // --no-local: a local clone would hard-link every object, the master's included
    git(sb, sb.dir, ['clone', '-q', '--no-local', '--bare', web, bare]);
    const mate = join(sb.dir, 'mate-web');
    git(sb, sb.dir, ['clone', '-q', '--no-local', bare, mate]);
    expect(existsSync(join(mate, '.agence/base'))).toBe(false);

    const status = agence(sb, mate, ['^status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toContain(`materialised .agence/base/ from master commit ${short(masterCommit)}`);
    expect(status.stderr).toContain('fetched from the master');
    expect(json<{ base: { state: string } }>(status).base.state).toBe('current');
    expect(readFileSync(join(mate, '.agence/base/codex/LAWS.md'), 'utf8')).toBe(readFileSync(join(web, '.agence/base/codex/LAWS.md'), 'utf8'));
  });

  it('a linked worktree materialises base/ from local objects, with no network, and shares NEXUS', () => {
    const tree = join(sb.dir, 'web-tangent');
    git(sb, web, ['worktree', 'add', '-q', tree, '-b', 'agence/tangent/x']);
    renameSync(master, `${master}.away`); // the master is unreachable now
    try {
      const run = agence(sb, tree, ['^codex', 'RULES.md']);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain('materialised .agence/base/');
      expect(run.stderr).not.toContain('fetched');
      expect(run.stdout).toContain('[rule-web-storybook]');
    } finally {
      renameSync(`${master}.away`, master);
    }
    // A session saved in the tangent lands in the main worktree's NEXUS, and the main sees it.
    const saved = agence(sb, tree, ['^save', 'from the tangent', '--new']);
    expect(saved.code, saved.stderr).toBe(0);
    const id = saved.stdout.slice(8, 16);
    expect(existsSync(join(tree, '.agence/nexus'))).toBe(false);
    expect(readFileSync(join(web, '.agence/nexus/sessions/session-saved.jsonl'), 'utf8')).toContain(`"session_id":"${id}"`);
    expect(agence(sb, web, ['^session', 'show', id]).stdout).toContain('from the tangent');
  });

  it('^pull --check exits non-zero once the master moved past the lock; ^pull moves the lock', () => {
    expect(agence(sb, web, ['^pull', '--check']).code).toBe(0);
    appendFileSync(join(master, 'codex/LAWS.md'), '- [law-new-from-master] A new org-wide law.\n');
    const moved = commitAll(master, 'new law');
    const check = agence(sb, web, ['^pull', '--check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(`locked ${short(masterCommit)}, master ${short(moved)}`);
    expect(JSON.parse(readFileSync(join(web, '.agence/agence.lock'), 'utf8')).master.commit).toBe(masterCommit);

    const pulled = agence(sb, web, ['^pull']);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toContain(`(was ${short(masterCommit)})`);
    expect(agence(sb, web, ['^codex', 'LAWS.md']).stdout).toContain('[law-new-from-master]');
    expect(agence(sb, web, ['^pull', '--check']).code).toBe(0);
  });
});

describe('master URL forms', () => {
  it('fetches from a file:// URL and an absolute path alike', () => {
    for (const [name, url] of [['file-url', `file://${master}`], ['abs-path', master]] as const) {
      const shard = repo(sb, name);
      expect(agence(sb, shard, ['^init', '--master', url]).code).toBe(0);
      const pulled = agence(sb, shard, ['^pull', '--json']);
      expect(pulled.code, pulled.stderr).toBe(0);
      expect(json<{ url: string }>(pulled).url).toBe(url);
      expect(existsSync(join(shard, '.agence/base/codex/LAWS.md'))).toBe(true);
    }
  });
});

describe('a master served over git daemon on 127.0.0.1', () => {
  it('fetches, pins and materialises over git://', async () => {
    const served = join(sb.dir, 'served');
    mkdirSync(served);
    expect(agence(sb, served, ['^master', 'init', 'org-master']).code).toBe(0);
    const url = await gitDaemon(sb, served, 'org-master');
    const shard = repo(sb, 'daemon-shard');
    expect(agence(sb, shard, ['^init', '--master', url]).code).toBe(0);
    const pulled = agence(sb, shard, ['^pull', '--json']);
    expect(pulled.code, pulled.stderr).toBe(0);
    const result = json<{ latest: string; locked: string; base: { files: number } }>(pulled);
    expect(result.locked).toBe(git(sb, join(served, 'org-master'), ['rev-parse', 'HEAD']));
    expect(result.base.files).toBeGreaterThan(15);
    expect(existsSync(join(shard, '.agence/base/codex/AIPOLICY.yaml'))).toBe(true);
  });
});
