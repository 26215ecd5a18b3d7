import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agence, CLI, git, json, repo, type Sandbox, sandbox } from './helpers.js';

const sb = sandbox();
type S = { session_id: string; rev: number; status: string; agent: string; notes: { text: string }[]; runstate: { todo_list: { title: string }[] }; metadata: { tags: string[]; task_description: string } };

function shard(name: string, box: Sandbox = sb): string {
  const dir = repo(box, name);
  expect(agence(box, dir, ['^init']).code).toBe(0);
  return dir;
}

function saved(run: { code: number; stdout: string; stderr: string }): S {
  expect(run.code, run.stderr).toBe(0);
  return json<{ session: S }>(run).session;
}

describe('^save, ^resume, ^sessions, ^session show, ^done', () => {
  const dir = shard('work');

  it('saves a session, then a second save updates it (new rev) unless --new', () => {
    const first = agence(sb, dir, ['^save', 'started on the build', '--task', 'fix CI', '--todo', 'read logs', '--todo', 'patch', '--tag', 'ci']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^Session [0-9a-f]{8} saved\n$/);
    const id = first.stdout.slice(8, 16);
    const second = saved(agence(sb, dir, ['^save', 'found it', '--todo', 'add a test', '--json']));
    expect(second).toMatchObject({ session_id: id, rev: 2, status: 'SAVED' });
    expect(second.notes.map((n) => n.text)).toEqual(['started on the build', 'found it']);
    expect(second.runstate.todo_list.map((t) => t.title)).toEqual(['read logs', 'patch', 'add a test']);
    const other = saved(agence(sb, dir, ['^save', 'side quest', '--new', '--agent', 'ralph', '--json']));
    expect(other.session_id).not.toBe(id);
    expect(other.agent).toBe('ralph');
    expect(Number.parseInt(other.session_id, 16)).toBeGreaterThan(Number.parseInt(id, 16));

    const listed = json<{ sessions: { id: string }[] }>(agence(sb, dir, ['^sessions', '--json']));
    expect(listed.sessions.map((s) => s.id)).toEqual([other.session_id, id]);
    expect(json<S>(agence(sb, dir, ['^session', 'show', `work:${id}`, '--json'])).session_id).toBe(id);
    const elsewhere = agence(sb, dir, ['^session', 'show', `api:${id}`]);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain(`session api:${id} belongs to shard api, not to this one (work)`);
    const shown = json<S>(agence(sb, dir, ['^session', 'show', id, '--json']));
    expect(shown).toMatchObject({ session_id: id, rev: 2, metadata: { tags: ['ci'], task_description: 'fix CI' } });
    expect(agence(sb, dir, ['^session', 'show', id]).stdout).toContain('todo      [ ] add a test');
  });

  it('resumes the most recent saved session with a brief, git drift and shell code', () => {
    const [older] = json<{ sessions: { id: string }[] }>(agence(sb, dir, ['^sessions', '--agent', 'sonya', '--json'])).sessions;
    writeFileSync(join(dir, 'fix.txt'), 'the fix\n');
    git(sb, dir, ['add', 'fix.txt']);
    git(sb, dir, ['commit', '-qm', 'the fix']);
    const brief = json<{ name: string; todo: { step: number; total: number }; drift: { headMoved: { files: string[] } } }>(agence(sb, dir, ['^resume', older?.id as string, '--json']));
    expect(brief.name).toBe(`work:${older?.id}`);
    expect(brief.todo).toMatchObject({ step: 1, total: 3 });
    expect(brief.drift.headMoved.files).toEqual(['fix.txt']);
    const text = agence(sb, dir, ['^resume', older?.id as string]).stdout;
    expect(text).toContain('todo:  step 1/3: read logs');
    expect(text).toContain('drift: HEAD moved');

    const shell = agence(sb, join(sb.dir), ['^resume', older?.id as string, '--shell']);
    expect(shell.code).toBe(1); // outside the shard
    const sub = join(dir, 'sub dir');
    spawnSync('mkdir', ['-p', sub]);
    const code = agence(sb, sub, ['^resume', older?.id as string, '--shell']).stdout;
    const evaluated = spawnSync('bash', ['-c', `eval "$1"; pwd; echo "$AGENCE_SESSION $AGENCE_AGENT"`, 'x', code], { cwd: sub, encoding: 'utf8' }).stdout;
    expect(evaluated).toBe(`${dir}\n${older?.id} sonya\n`);
  });

  it('follows the lifecycle, and refuses illegal transitions with the allowed ones', () => {
    const { sessions } = json<{ sessions: { id: string; status: string }[] }>(agence(sb, dir, ['^sessions', '--status', 'active', '--json']));
    const id = sessions[0]?.id as string;
    expect(agence(sb, dir, ['^done', id]).stdout).toBe(`Session ${id} completed\n`);
    const again = agence(sb, dir, ['^resume', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`session ${id} is COMPLETED and cannot be resumed: from COMPLETED it can be: reopened (^session reopen), archived (^session archive)`);
    expect(agence(sb, dir, ['^session', 'reopen', id]).code).toBe(0);
    const indexMd = readFileSync(join(dir, '.agence/nexus/sessions/INDEX.md'), 'utf8');
    expect(indexMd).toMatch(new RegExp(`\\| ${id} \\| SAVED \\| sonya \\|`));
    expect(json<S>(agence(sb, dir, ['^session', 'show', id, '--json'])).status).toBe('SAVED');
    expect(json<{ sessions: unknown[] }>(agence(sb, dir, ['^sessions', '--status', 'completed', '--json'])).sessions).toEqual([]);
  });

  it('filters by agent, tag, status and dates', () => {
    const count = (args: string[]) => json<{ sessions: unknown[] }>(agence(sb, dir, ['^sessions', ...args, '--json'])).sessions.length;
    expect(count(['--agent', 'ralph'])).toBe(1);
    expect(count(['--tag', 'ci'])).toBe(1);
    expect(count(['--since', '1d'])).toBe(2);
    expect(count(['--until', '2000-01-01'])).toBe(0);
    expect(count(['--limit', '1'])).toBe(1);
    expect(agence(sb, dir, ['^sessions', '--since', 'yesterday']).stderr).toContain('--since "yesterday" is not a date');
    expect(agence(sb, dir, ['^sessions', '--status', 'sleeping']).code).toBe(1);
  });

  it('rebuilds a missing index and says so', () => {
    rmSync(join(dir, '.agence/nexus/index.db'));
    const run = agence(sb, dir, ['^sessions']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('there was no session index yet; built it');
    expect(run.stdout.trim().split('\n')).toHaveLength(2);
    expect(json(agence(sb, dir, ['^reindex', '--json']))).toMatchObject({ sessions: 2 });
  });
});

describe('a fresh clone of a shard (no nexus/ yet)', () => {
  it('lists, saves and resumes sessions', () => {
    const origin = shard('origin');
    git(sb, origin, ['add', '-A']);
    git(sb, origin, ['commit', '-qm', 'agence']);
    const clone = join(sb.dir, 'clone');
    git(sb, sb.dir, ['clone', '-q', origin, clone]);
    expect(existsSync(join(clone, '.agence/nexus'))).toBe(false);
    const listed = agence(sb, clone, ['^sessions']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toBe('No sessions match.\n');
    expect(agence(sb, clone, ['^save', 'first in the clone']).code).toBe(0);
    expect(agence(sb, clone, ['^resume']).stdout).toContain('first in the clone');
  });
});

describe('session bad input', () => {
  const dir = shard('bad');

  it('captures recent shell history, leaving out lines that look like secrets', () => {
    const histfile = join(sb.dir, 'history');
    writeFileSync(histfile, ['npm test', 'export API_KEY=abc123', ': 1700000000:0;git status', 'curl -H "Authorization: Bearer x" host', 'ls -la'].join('\n'));
    const session = saved(agence(sb, dir, ['^save', 'with history', '--new', '--json'], { HISTFILE: histfile }));
    expect(json<{ shell_history: string[] }>(agence(sb, dir, ['^session', 'show', session.session_id, '--json'])).shell_history).toEqual(['npm test', 'git status', 'ls -la']);
    // a long history: only its tail is read, and the last lines are the ones kept
    writeFileSync(histfile, `${Array.from({ length: 20_000 }, (_, i) => `echo line ${i}`).join('\n')}\n`);
    const long = saved(agence(sb, dir, ['^save', 'with a long history', '--new', '--json'], { HISTFILE: histfile }));
    const kept = json<{ shell_history: string[] }>(agence(sb, dir, ['^session', 'show', long.session_id, '--json'])).shell_history;
    expect(kept).toHaveLength(20);
    expect(kept.at(-1)).toBe('echo line 19999');
    expect(kept[0]).toBe('echo line 19980');
    expect(agence(sb, dir, ['^done', session.session_id]).code).toBe(0);
  });

  it('unknown and malformed ids: exit 1, nothing touched', () => {
    const unknown = agence(sb, dir, ['^session', 'show', 'deadbeef']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no session deadbeef in this shard');
    for (const bad of ['../x', '../../etc/passwd', 'DEADBEEF', '1234']) {
      const run = agence(sb, dir, ['^session', 'show', bad]);
      expect(run.code, bad).toBe(1);
      expect(run.stderr).toContain('is not a session id');
    }
    expect(agence(sb, dir, ['^save', 'x'], { AGENCE_SESSION: '../x' }).stderr).toContain('is not a AGENCE_SESSION value');
  });

  it('a 10 MB note is refused; a todo with newlines, quotes and backslashes round-trips', () => {
    const tier = join(dir, '.agence/nexus/sessions/session-saved.jsonl');
    const before = existsSync(tier) ? readFileSync(tier) : null;
    const big = spawnSync(process.execPath, [CLI, '^save', '-'], { cwd: dir, env: sb.env, input: 'x'.repeat(10 * 1024 * 1024), encoding: 'utf8' });
    expect(big.status).toBe(1);
    expect(big.stderr).toContain('the note is 10240 KB; notes are at most 64 KB');
    expect(agence(sb, dir, ['^save', 'y'.repeat(100 * 1024)]).stderr).toContain('notes are at most 64 KB');
    expect(existsSync(tier) ? readFileSync(tier) : null).toEqual(before);
    const title = 'line one\nline "two"\\three\ttab \u00e9 \u{1F600}';
    const session = saved(agence(sb, dir, ['^save', 'odd', '--todo', title, '--json']));
    expect(json<S>(agence(sb, dir, ['^session', 'show', session.session_id, '--json'])).runstate.todo_list[0]?.title).toBe(title);
  });

  it('a corrupt line in the middle: the others stay readable, ^doctor reports it, --repair quarantines it', () => {
    const a = saved(agence(sb, dir, ['^save', 'a', '--new', '--json']));
    const file = join(dir, '.agence/nexus/sessions/session-saved.jsonl');
    appendFileSync(file, '{"session_id": "00000001", "broken\n');
    appendFileSync(file, Buffer.from([0xc3, 0x28, 0x0a]));
    const b = saved(agence(sb, dir, ['^save', 'b', '--new', '--json']));
    const before = readFileSync(file);
    expect(agence(sb, dir, ['^reindex']).code).toBe(0);
    expect(json<S>(agence(sb, dir, ['^session', 'show', a.session_id, '--json'])).notes[0]?.text).toBe('a');
    expect(json<S>(agence(sb, dir, ['^session', 'show', b.session_id, '--json'])).notes[0]?.text).toBe('b');
    const doctor = agence(sb, dir, ['^doctor']);
    expect(doctor.code).toBe(3);
    expect(doctor.stdout).toMatch(/session-saved\.jsonl line \d+: not a session record/);
    expect(readFileSync(file).equals(before)).toBe(true);

    const repaired = agence(sb, dir, ['^doctor', '--repair']);
    expect(repaired.code, repaired.stdout).toBe(0);
    expect(repaired.stderr).toContain('moved damaged session lines aside into nexus/sessions/session-saved.jsonl.quarantine-');
    const quarantine = readdirSync(join(dir, '.agence/nexus/sessions')).find((f) => f.includes('quarantine')) as string;
    expect(readFileSync(join(dir, '.agence/nexus/sessions', quarantine), 'latin1')).toContain('"broken');
    for (const s of [a, b]) expect(agence(sb, dir, ['^session', 'show', s.session_id]).code).toBe(0);
  });
});

describe('^session archive', () => {
  const dir = shard('cold');
  const archiveDir = join(dir, '.agence/nexus/sessions/archive');

  it('moves completed sessions into a monthly tar.gz; they stay readable and searchable', () => {
    const a = saved(agence(sb, dir, ['^save', 'a', '--new', '--json']));
    const b = saved(agence(sb, dir, ['^save', 'b', '--new', '--json']));
    const c = saved(agence(sb, dir, ['^save', 'c', '--new', '--json']));
    for (const s of [a, b]) expect(agence(sb, dir, ['^done', s.session_id]).code).toBe(0);
    expect(agence(sb, dir, ['^session', 'archive']).stdout).toContain('No completed or transferred session is old enough');
    const run = agence(sb, dir, ['^session', 'archive', '--older-than', '0m', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const month = new Date().toISOString().slice(0, 7);
    expect(json(run)).toMatchObject({ archived: [a.session_id, b.session_id], months: [month] });
    expect(readdirSync(archiveDir)).toEqual([`${month}.tar.gz`]);
    expect(readFileSync(join(dir, '.agence/nexus/sessions/session-completed.jsonl'), 'utf8')).toBe('');

    const ids = (args: string[]) => json<{ sessions: { id: string }[] }>(agence(sb, dir, ['^sessions', ...args, '--json'])).sessions.map((s) => s.id);
    expect(ids([])).toEqual([c.session_id]);
    expect(ids(['--archived'])).toEqual(expect.arrayContaining([a.session_id, b.session_id, c.session_id]));
    expect(ids(['--status', 'archived'])).toHaveLength(2);
    expect(json<S>(agence(sb, dir, ['^session', 'show', a.session_id, '--json']))).toMatchObject({ status: 'ARCHIVED', notes: [{ text: 'a' }] });
    expect(agence(sb, dir, ['^resume', a.session_id]).stderr).toContain('is ARCHIVED and cannot be resumed: ARCHIVED is final');
    // the index can be rebuilt from the files, archives included
    rmSync(join(dir, '.agence/nexus/index.db'));
    expect(json(agence(sb, dir, ['^reindex', '--json']))).toMatchObject({ sessions: 3 });
  });

  it('a truncated archive: exit 3 naming it, never overwritten, the other sessions unaffected', () => {
    const month = new Date().toISOString().slice(0, 7);
    const file = join(archiveDir, `${month}.tar.gz`);
    const whole = readFileSync(file);
    writeFileSync(file, whole.subarray(0, whole.length - 30));
    const damaged = readFileSync(file);
    const [archived] = json<{ sessions: { id: string }[] }>(agence(sb, dir, ['^sessions', '--status', 'archived', '--json'])).sessions;
    const show = agence(sb, dir, ['^session', 'show', archived?.id as string]);
    expect(show.code).toBe(3);
    expect(show.stderr).toContain(`${month}.tar.gz is damaged`);
    expect(agence(sb, dir, ['^doctor']).code).toBe(3);
    const d = saved(agence(sb, dir, ['^save', 'd', '--new', '--json']));
    expect(agence(sb, dir, ['^done', d.session_id]).code).toBe(0);
    const again = agence(sb, dir, ['^session', 'archive', '--older-than', '0m']);
    expect(again.code).toBe(3);
    expect(readFileSync(file).equals(damaged)).toBe(true);
    expect(json<S>(agence(sb, dir, ['^session', 'show', d.session_id, '--json'])).status).toBe('COMPLETED');
  });
});

describe('an install whose SQLite addon was never built', () => {
  it('names the missing addon and the fix, exit 1, and the session store is untouched', () => {
    const dir = shard('no-addon');
    saved(agence(sb, dir, ['^save', 'before', '--json']));
    const store = join(dir, '.agence/nexus/sessions/session-saved.jsonl');
    const before = readFileSync(store);
    // A copy of dist/ with no node_modules anywhere above it, as after an install whose build failed.
    const install = join(sb.dir, 'no-addon-install');
    cpSync(dirname(CLI), join(install, 'dist'), { recursive: true });
    const run = spawnSync(process.execPath, [join(install, 'dist/agence.cjs'), '^sessions'], { cwd: dir, env: sb.env, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr).toContain('the SQLite module (better-sqlite3) is not built: no node_modules/better-sqlite3/build/Release/better_sqlite3.node above');
    expect(run.stderr).toContain('reinstall agence with `npm ci`');
    expect(readFileSync(store).equals(before)).toBe(true);
  });
});
