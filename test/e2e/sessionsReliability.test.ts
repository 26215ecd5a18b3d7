import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionSchema } from '../../src/core/session.js';
import { agence, CLI, json, repo, sandbox } from './helpers.js';

/** Reliability of the session store under concurrent writers and writers killed at random. */
const sb = sandbox();

function start(cwd: string, args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout })),
  );
  return { child, done };
}

/** Every revision line in the tier files, each checked against the schema. */
function storedIds(dir: string): string[] {
  const ids: string[] = [];
  for (const tier of ['active', 'saved', 'completed']) {
    let text = '';
    try {
      text = readFileSync(join(dir, '.agence/nexus/sessions', `session-${tier}.jsonl`), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (line === '') continue;
      ids.push(SessionSchema.parse(JSON.parse(line)).session_id);
    }
  }
  return ids;
}

describe('session store reliability', () => {
  it('8 processes each saving 200 new sessions at once: exactly 1,600 sessions, all readable, index consistent', async () => {
    const dir = repo(sb, 'busy');
    expect(agence(sb, dir, ['^init']).code).toBe(0);
    const worker = async (w: number) => {
      const ids: string[] = [];
      for (let i = 0; i < 200; i++) {
        const run = await start(dir, ['^save', `worker ${w} save ${i}`, '--new']).done;
        expect(run.code, run.stdout).toBe(0);
        ids.push(run.stdout.slice(8, 16));
      }
      return ids;
    };
    const reported = (await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)))).flat();
    expect(new Set(reported).size).toBe(1600);
    const stored = storedIds(dir);
    expect(stored).toHaveLength(1600);
    expect(new Set(stored)).toEqual(new Set(reported));
    const listed = json<{ sessions: { id: string }[] }>(agence(sb, dir, ['^sessions', '--limit', '100000', '--json'])).sessions;
    expect(new Set(listed.map((s) => s.id))).toEqual(new Set(reported));
    expect(json(agence(sb, dir, ['^reindex', '--json']))).toMatchObject({ sessions: 1600 });
    for (const id of reported.filter((_, i) => i % 97 === 0)) expect(agence(sb, dir, ['^session', 'show', id]).code).toBe(0);
  }, 300_000);

  it('SIGKILL at random points: every save that exited 0 survives, the store opens, ^doctor is clean after repair', async () => {
    const dir = repo(sb, 'killed');
    expect(agence(sb, dir, ['^init']).code).toBe(0);
    const confirmed: string[] = [];
    let killed = 0;
    for (let trial = 0; trial < 60; trial++) {
      // A second writer runs alongside, so kills also land while the lock is contended.
      const victim = start(dir, ['^save', `trial ${trial}`, '--new']);
      const bystander = start(dir, ['^save', `bystander ${trial}`, '--new']);
      const delay = 5 + Math.floor(Math.random() * 60);
      const timer = setTimeout(() => victim.child.kill('SIGKILL'), delay);
      const [v, b] = await Promise.all([victim.done, bystander.done]);
      clearTimeout(timer);
      if (v.signal === 'SIGKILL') killed++;
      for (const run of [v, b]) if (run.code === 0) confirmed.push(run.stdout.slice(8, 16));
      expect(b.code, b.stdout).toBe(0);
    }
    expect(killed).toBeGreaterThan(10);
    const listed = agence(sb, dir, ['^sessions', '--limit', '100000', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const ids = new Set(json<{ sessions: { id: string }[] }>(listed).sessions.map((s) => s.id));
    for (const id of confirmed) expect(ids.has(id), id).toBe(true);
    expect(agence(sb, dir, ['^doctor', '--repair']).code).toBe(0);
    const doctor = agence(sb, dir, ['^doctor']);
    expect(doctor.code, doctor.stdout).toBe(0);
    const after = new Set(json<{ sessions: { id: string }[] }>(agence(sb, dir, ['^sessions', '--limit', '100000', '--json'])).sessions.map((s) => s.id));
    for (const id of confirmed) expect(after.has(id), id).toBe(true);
  }, 300_000);
});
