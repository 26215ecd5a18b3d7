import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { agence, CLI, git, json, repo, type Run, sandbox } from './helpers.js';

const sb = sandbox();

function shard(name: string): string {
  const dir = repo(sb, name);
  const init = agence(sb, dir, ['^init']);
  expect(init.code, init.stderr).toBe(0);
  return dir;
}

function ok(run: Run): Run {
  expect(run.code, run.stderr).toBe(0);
  return run;
}

function add(dir: string, ...args: string[]): string {
  return json<{ task: { id: string } }>(ok(agence(sb, dir, ['^task', 'add', ...args, '--json']))).task.id;
}

const taskFile = (dir: string, id: string) => join(dir, '.agence/organic/tasks', `${id}.json`);
const readTask = (dir: string, id: string) => JSON.parse(readFileSync(taskFile(dir, id), 'utf8'));
const readyIds = (dir: string, ...args: string[]) => json<{ ready: { id: string }[] }>(ok(agence(sb, dir, ['^task', 'ready', '--json', ...args]))).ready.map((r) => r.id);

describe('^task in one shard', () => {
  let api: string;
  beforeAll(() => {
    api = shard('api');
  });

  it('adds, shows, lists, assigns, sets and finishes tasks; files are one JSON per task', () => {
    const a = add(api, 'write the parser', '--id', 'TEST-001', '--priority', 'high');
    expect(a).toBe('TEST-001');
    const b = add(api, 'use the parser', '--dep', 'TEST-001', '--stars', '2');
    expect(b).toMatch(/^T-[0-9a-z]+$/);
    expect(readTask(api, b)).toMatchObject({ id: b, repo: 'api', title: 'use the parser', state: 'todo', priority: 'normal', stars: 2, heat: 0, agent: null, deps: ['TEST-001'] });

    const shown = ok(agence(sb, api, ['^task', 'show', b]));
    expect(shown.stdout).toContain(`api:${b}  todo`);
    expect(shown.stdout).toContain('after     TEST-001');

    ok(agence(sb, api, ['^task', 'assign', b, 'claudia']));
    expect(readTask(api, b).agent).toBe('claudia');
    ok(agence(sb, api, ['^task', 'set', b, '--heat', '5', '--title', 'use the new parser']));
    expect(readTask(api, b)).toMatchObject({ heat: 5, title: 'use the new parser' });

    const listed = json<{ tasks: { id: string }[] }>(ok(agence(sb, api, ['^task', 'list', '--json'])));
    expect(listed.tasks.map((t) => t.id).sort()).toEqual([a, b].sort());
    expect(json<{ tasks: unknown[] }>(ok(agence(sb, api, ['^task', 'list', '--agent', 'claudia', '--json']))).tasks).toHaveLength(1);

    // b waits for TEST-001: only TEST-001 is ready, and b cannot be done yet.
    expect(readyIds(api)).toEqual([a]);
    const early = agence(sb, api, ['^task', 'done', b]);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain(`task ${b} waits for TEST-001 (todo)`);

    ok(agence(sb, api, ['^task', 'done', a]));
    expect(readTask(api, a).state).toBe('done');
    expect(readyIds(api)).toEqual([b]);
    ok(agence(sb, api, ['^task', 'set', b, '--state', 'doing']));
    expect(readyIds(api)).toEqual([]);
    ok(agence(sb, api, ['^task', 'done', b]));
  });

  it('ranks ready tasks by priority, stars, heat and age, and limits the list', () => {
    const low = add(api, 'low one', '--priority', 'low');
    const urgent = add(api, 'urgent one', '--priority', 'urgent');
    const starred = add(api, 'starred one', '--stars', '6'); // normal 10 + 12 > high 20
    const high = add(api, 'high one', '--priority', 'high');
    expect(readyIds(api)).toEqual([urgent, starred, high, low]);
    const limited = json<{ ready: { id: string; score: number }[]; more: boolean }>(ok(agence(sb, api, ['^task', 'ready', '--limit', '2', '--json'])));
    expect(limited.ready.map((r) => r.id)).toEqual([urgent, starred]);
    expect(limited.more).toBe(true);
    expect(limited.ready[0]?.score).toBeGreaterThanOrEqual(30);
    for (const id of [low, urgent, starred, high]) ok(agence(sb, api, ['^task', 'set', id, '--state', 'cancelled']));
  });

  it('refuses a dependency that closes a cycle, naming the cycle', () => {
    const x = add(api, 'x');
    const y = add(api, 'y', '--dep', x);
    const z = add(api, 'z', '--dep', y);
    const run = agence(sb, api, ['^task', 'dep', x, z]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${x} cannot wait for ${z}: that would close the cycle ${x} -> ${z} -> ${y} -> ${x}`);
    expect(readTask(api, x).deps).toEqual([]);
    const self = agence(sb, api, ['^task', 'dep', x, x]);
    expect(self.code).toBe(1);
    expect(self.stderr).toContain('cycle');
    ok(agence(sb, api, ['^task', 'dep', z, y, '--remove']));
    expect(readTask(api, z).deps).toEqual([]);
  });

  it('rebuilds a damaged or deleted cache from the files (the cache holds nothing else)', () => {
    const expected = readyIds(api, '--limit', '1000');
    const cache = join(api, '.agence/nexus/tasks');
    for (const file of readdirSync(cache).filter((f) => f.endsWith('.json') || f.endsWith('.jsonl'))) writeFileSync(join(cache, file), '{"v": 2, "dir": "broken');
    expect(readyIds(api, '--limit', '1000')).toEqual(expected);
    rmSync(cache, { recursive: true });
    expect(readyIds(api, '--limit', '1000')).toEqual(expected);
  });

  it('serialises concurrent changes of one task: six parallel ^task dep all land', async () => {
    const target = add(api, 'waits for six');
    const deps = Array.from({ length: 6 }, (_, i) => add(api, `dep ${i}`));
    const runs = await Promise.all(
      deps.map(
        (d) =>
          new Promise<number>((resolve) => {
            const child = spawn(process.execPath, [CLI, '^task', 'dep', target, d], { cwd: api, env: sb.env, stdio: 'ignore' });
            child.on('exit', (code) => resolve(code ?? -1));
          }),
      ),
    );
    expect(runs).toEqual(deps.map(() => 0));
    expect(readTask(api, target).deps).toEqual([...deps].sort());
    for (const id of [target, ...deps]) ok(agence(sb, api, ['^task', 'set', id, '--state', 'cancelled']));
  });

  it('refuses illegal state changes like sessions do', () => {
    const t = add(api, 'finished');
    ok(agence(sb, api, ['^task', 'done', t]));
    const run = agence(sb, api, ['^task', 'set', t, '--state', 'doing']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`task ${t} is done and cannot become doing: from done it can become: todo`);
    ok(agence(sb, api, ['^task', 'set', t, '--state', 'todo']));
  });

  it('instantiates a workflow with deps between its steps', () => {
    mkdirSync(join(api, '.agence/organic/workflows'), { recursive: true });
    writeFileSync(
      join(api, '.agence/organic/workflows/release.json'),
      JSON.stringify({ name: 'release', steps: [{ key: 'build', title: 'build' }, { key: 'test', title: 'test', after: ['build'] }, { key: 'ship', title: 'ship', after: ['test'], priority: 'urgent' }] }),
    );
    const out = json<{ tasks: { id: string; title: string; deps: string[]; priority: string }[] }>(ok(agence(sb, api, ['^task', 'add', 'v2', '--workflow', 'release', '--json'])));
    const [build, test, ship] = out.tasks;
    expect(out.tasks.map((t) => t.title)).toEqual(['v2: build', 'v2: test', 'v2: ship']);
    expect(test?.deps).toEqual([build?.id]);
    expect(ship).toMatchObject({ deps: [test?.id], priority: 'urgent' });
    expect(readyIds(api, '--limit', '100')).toContain(build?.id);
    expect(readyIds(api, '--limit', '100')).not.toContain(ship?.id);
  });
});

describe('bad input', () => {
  let bad: string;
  beforeAll(() => {
    bad = shard('bad');
  });

  it('a task file with garbage: show names the file (exit 3), list and ready report it and go on', () => {
    const good = add(bad, 'good one');
    writeFileSync(taskFile(bad, 'T-garbage'), '{"id": "T-garbage", oops');
    const show = agence(sb, bad, ['^task', 'show', 'T-garbage']);
    expect(show.code).toBe(3);
    expect(show.stderr).toContain('.agence/organic/tasks/T-garbage.json is not valid JSON');
    const list = ok(agence(sb, bad, ['^task', 'list']));
    expect(list.stdout).toContain(good);
    expect(list.stderr).toContain('T-garbage.json (not valid JSON');
    const ready = ok(agence(sb, bad, ['^task', 'ready']));
    expect(ready.stdout).toContain(good);
    expect(ready.stderr).toContain('T-garbage.json is not valid JSON');
  });

  it('a task file with an unknown state is corrupt data, named', () => {
    const id = add(bad, 'will be broken');
    writeFileSync(taskFile(bad, id), JSON.stringify({ ...readTask(bad, id), state: 'wip' }));
    const run = agence(sb, bad, ['^task', 'set', id, '--stars', '1']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(new RegExp(`${id}\\.json is not a task \\(state: `));
    const state = agence(sb, bad, ['^task', 'list', '--state', 'wip']);
    expect(state.code).toBe(1);
    expect(state.stderr).toContain('"wip" is not a task state');
  });

  it('deps to unknown tasks or shards are refused with the name', () => {
    const id = add(bad, 'waits');
    const unknownTask = agence(sb, bad, ['^task', 'dep', id, 'T-nothere']);
    expect(unknownTask.code).toBe(1);
    expect(unknownTask.stderr).toContain('unknown task T-nothere: there is no such task in shard bad');
    const unknownShard = agence(sb, bad, ['^task', 'add', 'x', '--dep', 'nowhere:T-1']);
    expect(unknownShard.code).toBe(1);
    expect(unknownShard.stderr).toContain('unknown shard "nowhere"');
  });

  it('bad ids are refused before they touch a path', () => {
    const before = readdirSync(join(bad, '.agence/organic/tasks')).sort();
    for (const args of [['show', '../../agence'], ['add', 'x', '--id', '../X-1'], ['set', 'T-1/../../x', '--heat', '1'], ['dep', 'T-1', '../T-2'], ['add', 'x', '--id', 'lower-1']]) {
      const run = agence(sb, bad, ['^task', ...args]);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr).toMatch(/is not a (task id|--id|task)/);
    }
    expect(readdirSync(join(bad, '.agence/organic/tasks')).sort()).toEqual(before);
  });

  it('bad values and a broken workflow are refused', () => {
    const id = add(bad, 'values');
    for (const [args, message] of [
      [['set', id, '--stars', '1.5'], '--stars must be a whole number'],
      [['set', id, '--priority', 'asap'], '--priority "asap" is not a priority'],
      [['assign', id, 'bad agent!'], 'AGENT "bad agent!" is not an agent name'],
      [['add', '   '], 'TITLE must be 1 to 500 characters'],
      [['add', 'x', '--id', id], `task ${id} already exists`],
      [['add', '--workflow', 'missing'], 'no workflow "missing"'],
    ] as [string[], string][]) {
      const run = agence(sb, bad, ['^task', ...args]);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr).toContain(message);
    }
    mkdirSync(join(bad, '.agence/organic/workflows'), { recursive: true });
    writeFileSync(join(bad, '.agence/organic/workflows/loop.json'), JSON.stringify({ name: 'loop', steps: [{ key: 'a', title: 'a', after: ['b'] }, { key: 'b', title: 'b' }] }));
    writeFileSync(join(bad, '.agence/organic/workflows/long.json'), JSON.stringify({ name: 'long', steps: [{ key: 'a', title: 'x'.repeat(400) }] }));
    const before = readdirSync(join(bad, '.agence/organic/tasks')).length;
    const long = agence(sb, bad, ['^task', 'add', 'y'.repeat(200), '--workflow', 'long']);
    expect(long.code).toBe(1);
    expect(long.stderr).toMatch(/would not be valid: title: .*nothing was written/);
    expect(readdirSync(join(bad, '.agence/organic/tasks'))).toHaveLength(before);
    const loop = agence(sb, bad, ['^task', 'add', '--workflow', 'loop']);
    expect(loop.code).toBe(3);
    expect(loop.stderr).toContain('step "a" comes after "b", which is not an earlier step');
  });

  it('a cycle brought by a hand edit (or a merge) is reported by ready, and its tasks never become ready', () => {
    const a = add(bad, 'cycle a');
    const b = add(bad, 'cycle b', '--dep', a);
    writeFileSync(taskFile(bad, a), JSON.stringify({ ...readTask(bad, a), deps: [b] }));
    const ready = ok(agence(sb, bad, ['^task', 'ready', '--limit', '100', '--json']));
    const data = json<{ ready: { id: string }[]; cycles: string[][] }>(ready);
    expect(data.cycles.some((c) => c.includes(a) && c.includes(b))).toBe(true);
    expect(data.ready.map((r) => r.id)).not.toContain(a);
    expect(ready.stderr).toContain('cycle: ');
  });

  it('a task waiting for a cancelled task is named by ready, with the fix', () => {
    const gone = add(bad, 'dropped');
    const waits = add(bad, 'waits for dropped', '--dep', gone);
    ok(agence(sb, bad, ['^task', 'set', gone, '--state', 'cancelled']));
    const ready = ok(agence(sb, bad, ['^task', 'ready', '--limit', '100']));
    expect(ready.stdout).not.toContain(waits);
    expect(ready.stderr).toContain(`${waits} waits for ${gone}, which was cancelled (drop it: \`agence ^task dep ${waits} ${gone} --remove\`)`);
  });
});

describe('across shards', () => {
  let front: string;
  let back: string;
  beforeAll(() => {
    front = shard('front');
    back = shard('back');
  });

  it('a dep on another shard\'s task by qualified name holds a task back until that task is done', () => {
    const api = add(back, 'the endpoint', '--id', 'API-001');
    const ui = add(front, 'the screen', '--dep', 'back:API-001');
    expect(readTask(front, ui).deps).toEqual(['back:API-001']);
    expect(readyIds(front)).not.toContain(ui);
    ok(agence(sb, back, ['^task', 'done', api]));
    expect(readyIds(front)).toContain(ui);
    expect(ok(agence(sb, front, ['^task', 'show', 'back:API-001'])).stdout).toContain('back:API-001  done');
    const missing = agence(sb, front, ['^task', 'dep', ui, 'back:API-404']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('unknown task back:API-404: there is no such task in shard back');
  });

  it('refuses a cycle across shards', () => {
    const b = add(back, 'back waits');
    const f = add(front, 'front waits', '--dep', `back:${b}`);
    const run = agence(sb, back, ['^task', 'dep', b, `front:${f}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${b} cannot wait for front:${f}: that would close the cycle ${b} -> front:${f} -> ${b}`);
  });
});

describe('the merge driver', () => {
  let origin: string;
  let one: string;
  let two: string;
  let id: string;

  beforeAll(() => {
    origin = join(sb.dir, 'tasks-origin.git');
    git(sb, sb.dir, ['init', '-q', '--bare', origin]);
    one = shard('clone-one');
    git(sb, one, ['remote', 'add', 'origin', origin]);
    id = add(one, 'shared task', '--dep', add(one, 'first step'));
    git(sb, one, ['add', '.']);
    git(sb, one, ['commit', '-qm', 'tasks']);
    git(sb, one, ['push', '-q', 'origin', 'HEAD:main']);
    two = join(sb.dir, 'clone-two');
    git(sb, sb.dir, ['clone', '-q', origin, two]);
  });

  it('is registered by ^init in a fresh clone (git config is not cloned) and is hidden from completion', () => {
    expect(spawnSync('git', ['config', '--get', 'merge.agence-task.driver'], { cwd: two, env: sb.env }).status).toBe(1);
    const init = ok(agence(sb, two, ['^init', '--json']));
    expect(json<{ merge_driver: string[] }>(init).merge_driver).toEqual(['git config']);
    expect(git(sb, two, ['config', '--get', 'merge.agence-task.driver'])).toMatch(/ shared merge-driver %O %A %B %P$/);
    expect(git(sb, two, ['check-attr', 'merge', '--', `.agence/organic/tasks/${id}.json`])).toContain('merge: agence-task');
    expect(json<{ merge_driver: string[] }>(ok(agence(sb, two, ['^init', '--json']))).merge_driver).toEqual([]);
    expect(ok(agence(sb, two, ['completion', 'bash'])).stdout).not.toContain('merge-driver');
  });

  it('merges a real concurrent edit of one task from two clones without conflict markers', () => {
    const extra = add(one, 'extra dep');
    ok(agence(sb, one, ['^task', 'set', id, '--state', 'doing', '--priority', 'high', '--stars', '1']));
    ok(agence(sb, one, ['^task', 'dep', id, extra]));
    git(sb, one, ['add', '.']);
    git(sb, one, ['commit', '-qm', 'one: doing, high, extra dep']);
    git(sb, one, ['push', '-q', 'origin', 'HEAD:main']);

    ok(agence(sb, two, ['^task', 'set', id, '--state', 'blocked', '--priority', 'low', '--stars', '3', '--heat', '2', '--title', 'shared task, renamed']));
    ok(agence(sb, two, ['^task', 'assign', id, 'chad']));
    git(sb, two, ['add', '.']);
    git(sb, two, ['commit', '-qm', 'two: blocked, stars, title']);
    const pull = spawnSync('git', ['pull', '--no-rebase', '--no-edit', '-q', 'origin', 'main'], { cwd: two, env: sb.env, encoding: 'utf8' });
    expect(pull.status, pull.stderr).toBe(0);

    const text = readFileSync(taskFile(two, id), 'utf8');
    expect(text).not.toMatch(/<<<<<<<|>>>>>>>|=======/);
    const merged = JSON.parse(text);
    expect(merged).toMatchObject({
      state: 'blocked', // doing < blocked
      priority: 'high', // the higher
      stars: 3,
      heat: 2,
      title: 'shared task, renamed', // only two changed it
      agent: 'chad',
    });
    expect(merged.deps).toHaveLength(2);
    expect(merged.deps).toContain(extra);
    expect(git(sb, two, ['status', '--porcelain'])).toBe('');
    // The cache sees the merge: list shows the merged task.
    const listed = json<{ tasks: { id: string; state: string }[] }>(ok(agence(sb, two, ['^task', 'list', '--json'])));
    expect(listed.tasks.find((t) => t.id === id)?.state).toBe('blocked');
  });

  it('leaves a normal conflict, and writes nothing, when a side is not a task', () => {
    git(sb, two, ['push', '-q', 'origin', 'HEAD:main']);
    git(sb, one, ['pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main']);
    writeFileSync(taskFile(one, id), 'not json at all\n');
    git(sb, one, ['commit', '-qam', 'one: garbage']);
    ok(agence(sb, two, ['^task', 'set', id, '--heat', '9']));
    git(sb, two, ['commit', '-qam', 'two: heat']);
    git(sb, two, ['push', '-q', 'origin', 'HEAD:main']);
    const pull = spawnSync('git', ['pull', '--no-rebase', '--no-edit', 'origin', 'main'], { cwd: one, env: sb.env, encoding: 'utf8' });
    expect(pull.status).not.toBe(0);
    expect(pull.stderr + pull.stdout).toContain('ours is not valid JSON');
    expect(readFileSync(taskFile(one, id), 'utf8')).toBe('not json at all\n'); // ours, untouched
    expect(git(sb, one, ['status', '--porcelain'])).toContain(`UU .agence/organic/tasks/${id}.json`);
    git(sb, one, ['merge', '--abort']);
  });

  it('^doctor says when a clone has no driver yet, and --repair registers it', () => {
    const four = join(sb.dir, 'clone-four');
    git(sb, sb.dir, ['clone', '-q', origin, four]);
    const before = json<{ findings: { check: string; severity: string; message: string; fix?: string }[] }>(agence(sb, four, ['^doctor', '--json']));
    expect(before.findings.find((f) => f.check === 'tasks')).toMatchObject({ severity: 'warn', fix: 'run `agence ^doctor --repair` (or `agence ^init`)' });
    expect(before.findings.find((f) => f.check === 'tasks')?.message).toMatch(/not set up in this clone \(git config merge\.agence-task\.driver\)/);
    expect(agence(sb, four, ['^doctor', '--repair', '--json']).stdout).toContain('registered the agence-task merge driver (git config)');
    expect(git(sb, four, ['config', '--get', 'merge.agence-task.driver'])).toMatch(/ shared merge-driver %O %A %B %P$/);
    const after = json<{ findings: { check: string; severity: string }[] }>(agence(sb, four, ['^doctor', '--json']));
    expect(after.findings.find((f) => f.check === 'tasks')).toMatchObject({ severity: 'ok' });
  });

  it('a clone that never ran ^init gets the driver from its first task write', () => {
    const three = join(sb.dir, 'clone-three');
    git(sb, sb.dir, ['clone', '-q', origin, three]);
    expect(existsSync(join(three, '.agence/agence.json'))).toBe(true);
    const set = ok(agence(sb, three, ['^task', 'set', id, '--stars', '4']));
    expect(set.stderr).toContain('registered the task merge driver (git config');
    expect(git(sb, three, ['config', '--get', 'merge.agence-task.driver'])).toContain('merge-driver');
  });
});
