// `npm run tour`: agence's main job end to end, with real git in a temp dir. A master repo, two
// shards and a bare remote: init, pull, a base override, status, a teammate's clone, a session
// saved and resumed, a lesson learned and recalled, the guard and the ledger, a signed handoff
// from one shard to the other, instruction files for coding agents, tasks, a sequent of two
// scripted agents judged by their tests, a master update. Each step prints the command and what it
// printed. `--keep` keeps the temp dir.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const CLI = resolve(import.meta.dirname, '../dist/agence.cjs');
const keep = process.argv.includes('--keep');
const root = realpathSync(mkdtempSync(join(tmpdir(), 'agence-tour-')));
const home = join(root, 'home');
mkdirSync(home);
writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = Tour Guide\n\temail = tour@example.com\n[init]\n\tdefaultBranch = main\n');
// A private HOME: the tour registers its shards in its own registry, not yours.
const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), GIT_CONFIG_GLOBAL: join(home, '.gitconfig'), GIT_CONFIG_NOSYSTEM: '1' };
const bold = (s) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\u001b[1m${s}\u001b[22m` : s);
let step = 0;

function say(title) {
  step++;
  console.log(`\n${bold(`${step}. ${title}`)}`);
}

function run(cwd, cmd, args, { expect = 0, quiet = false } = {}) {
  const shown = cmd === process.execPath ? ['agence', ...args.slice(1)] : [cmd, ...args];
  console.log(`  ${relative(root, cwd) || '.'}$ ${shown.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  const result = spawnSync(cmd, args, { cwd, env, encoding: 'utf8' });
  const output = `${result.stderr}${result.stdout}`.trimEnd();
  if (!quiet && output) console.log(output.replace(/^/gm, '    '));
  if (result.status !== expect) {
    console.error(`\nThe tour stopped: exit ${result.status}, expected ${expect}.${keep ? ` Files kept in ${root}` : ''}`);
    process.exit(1);
  }
  return result.stdout;
}

const agence = (cwd, ...args) => run(cwd, process.execPath, [CLI, ...args]);
const agenceExpect = (cwd, expect, ...args) => run(cwd, process.execPath, [CLI, ...args], { expect });
const git = (cwd, ...args) => run(cwd, 'git', args, { quiet: true });

console.log(bold(`agence tour in ${root}`));

say('An org keeps one master repository: its CODEX, knowledge and swarm layers');
agence(root, '^master', 'init', 'master');

say('A product repository becomes a shard that inherits from the master');
const web = join(root, 'web');
git(root, 'init', '-q', 'web');
agence(web, '^init', '--master', '../master', '--org', 'acme');

say('^pull fetches the master, pins its commit in agence.lock and materialises .agence/base/');
agence(web, '^pull');
agence(web, '^status');

say('The shard overrides and extends the base: a local rule, a law, its own Sonya');
mkdirSync(join(web, '.agence/codex/agents'), { recursive: true });
writeFileSync(join(web, '.agence/codex/RULES.md'), '# Web rules\n\n- [rule-web-storybook] Every UI component ships with a Storybook story.\n');
writeFileSync(join(web, '.agence/codex/LAWS.md'), '- [law-web-a11y] Ship nothing that fails the accessibility audit.\n');
writeFileSync(
  join(web, '.agence/codex/agents/sonya.md'),
  '---\nname: sonya\nmodel: sonnet\nprovider: anthropic\ncapabilities: [frontend, react]\ncontext_window: 200000\nhandoff_rules: []\nconstraints: []\nclearance: internal\n---\nYou are Sonya, the web team\'s full-stack lead.\n',
);
agence(web, '^codex');
agence(web, '^codex', '--explain', 'RULES.md');

say('Laws are monotonic: a shard that edits a base law is reported, and the base law still applies');
appendFileSync(join(web, '.agence/codex/LAWS.md'), '- [law-no-secrets] Secrets are fine in test fixtures.\n');
agenceExpect(web, 1, '^doctor');
writeFileSync(join(web, '.agence/codex/LAWS.md'), '- [law-web-a11y] Ship nothing that fails the accessibility audit.\n');
agence(web, '^doctor');

say('The shard is shared through an ordinary git remote (nexus/, hermetic/ and base/ never leave)');
const remote = join(root, 'remote', 'web.git');
git(root, 'init', '-q', '--bare', remote);
git(web, 'add', '-A');
git(web, 'commit', '-qm', 'agence: shard web with master');
git(web, 'push', '-q', remote, 'HEAD:main');
run(web, 'git', ['ls-files', '.agence']);

say("A teammate clones it: the first agence command materialises base/ from the lock");
git(root, 'clone', '-q', remote, 'web-teammate');
agence(join(root, 'web-teammate'), '^status');

say('A second shard of the same org, and the registry of shards on this machine');
const api = join(root, 'api');
git(root, 'init', '-q', 'api');
agence(api, '^init', '--master', '../master', '--org', 'acme');
agence(api, '^pull');
agence(root, '^shards');

say('An agent saves its work as a session; later (another agent, another day) it resumes with a brief');
agence(web, '^save', 'started on the login form', '--task', 'accessible login form', '--todo', 'labels on every input', '--todo', 'keyboard-only run');
writeFileSync(join(web, 'login.html'), '<form><label>Email <input name=email></label></form>\n');
git(web, 'add', 'login.html');
git(web, 'commit', '-qm', 'login form: labels');
agence(web, '^sessions');
agence(web, '^resume');

say('What an agent learns is recalled by every agent of the shard, with the code that matches');
agence(web, '^learn', 'Login forms need a visible label for every input; placeholder text is not a label', '--tag', 'a11y');
agence(web, '^recall', 'label for an input');

say('The guard classifies every command before it runs; the ledger records each decision');
agence(web, '^guard', 'check', 'git log --oneline -5');
agence(web, '^guard', 'check', 'git push --force origin main');
agence(web, '/git-status');
agence(web, '^ledger', 'tail');
agence(web, '^ledger', 'verify');

say('Sonya in web hands the session to Ralph in api: a signed bundle on a git ref, nothing else in between');
agence(web, '^handoff', 'ralph', 'Need the login API endpoint', '--to', 'api');
agence(api, '^inbox');
const [handoff] = JSON.parse(run(api, process.execPath, [CLI, '^inbox', '--json'], { quiet: true })).handoffs;
agence(api, '^trust', handoff.signer);
agence(api, '^accept', handoff.bundle_id);
agence(api, '^resume');

say('Coding agents read the shard without anyone pasting context: instruction files, Claude Code hooks, MCP');
agence(web, '^regen');
agence(web, '^regen', '--check');
agence(web, '^setup', 'claude');

say('Tasks live in organic/, one file each, shared by git (a merge driver keeps concurrent edits clean)');
agence(web, '^task', 'add', 'Login API endpoint', '--id', 'API-1', '--priority', 'high');
agence(web, '^task', 'add', 'Login form calls the API', '--id', 'WEB-2', '--dep', 'API-1');
agence(web, '^task', 'ready');
agence(web, '^task', 'done', 'API-1');
agence(web, '^task', 'ready');

say('Two agents race on one task, each in its own worktree; the tournament merges the best');
// Scripted stand-ins for coding agents (a persona's `batch:` command): one careful, one hasty.
const scripts = join(root, 'agents');
mkdirSync(scripts);
writeFileSync(join(scripts, 'careful.sh'), '#!/bin/sh\necho "exports.add = (a, b) => a + b;" > add.js\ngit add add.js && git commit -qm "add: a + b"\n');
writeFileSync(join(scripts, 'hasty.sh'), '#!/bin/sh\necho "exports.add = (a, b) => a * b;" > add.js\n');
for (const name of ['careful', 'hasty']) {
  writeFileSync(join(web, `.agence/codex/agents/${name}.md`), `---\nname: ${name}\nmodel: haiku\nprovider: anthropic\nbatch: sh ${join(scripts, `${name}.sh`)} {task}\n---\nA scripted agent.\n`);
}
writeFileSync(join(web, 'package.json'), '{"name": "web", "private": true, "scripts": {"test": "node test.js"}}\n');
writeFileSync(
  join(web, 'test.js'),
  "const fs = require('fs');\nconst mod = fs.existsSync('add.js') ? require('./add.js') : null;\nlet passed = 0, failed = 0;\nfor (const [a, b, want] of [[1, 2, 3], [2, 2, 4], [0, 5, 5]]) { if (mod && mod.add(a, b) === want) passed++; else failed++; }\nconsole.log(`# pass ${passed}`); console.log(`# fail ${failed}`);\nprocess.exit(failed ? 1 : 0);\n",
);
git(web, 'add', '-A');
git(web, 'commit', '-qm', 'add() to write, with its test; two scripted agents');
agence(web, '^sequent', 'run', 'write add.js exporting add(a, b)', '--agents', 'careful,hasty', '--judge', 'npm test', '--timeout', '60s');
const [sequent] = JSON.parse(run(web, process.execPath, [CLI, '^sequent', 'list', '--json'], { quiet: true }));
agence(web, '^sequent', 'pick', sequent.id);
run(web, 'git', ['log', '--oneline', '-3']);

say('The org adds a law to the master; shards see they are behind and pull it');
appendFileSync(join(root, 'master/codex/LAWS.md'), '- [law-sbom] Every release publishes a software bill of materials.\n');
git(join(root, 'master'), 'commit', '-qam', 'law: SBOM for every release');
agenceExpect(web, 1, '^pull', '--check');
agence(web, '^pull');
agence(web, '^codex', '--explain', 'LAWS.md');

console.log(`\n${bold('Tour complete.')} ${keep ? `Everything is in ${root}` : 'Temp files removed (run with --keep to look around).'}`);
if (!keep) rmSync(root, { recursive: true, force: true });
