import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agence, CLI, git, json, repo, sandbox } from './helpers.js';
import { killServer, pathWithoutTmux, until } from './tmuxHelpers.js';

/**
 * `!<agent>`: scripted agents (shell scripts as a persona's launch:, or named like a tool on a
 * private PATH) started from the built CLI, directly and in tmux under a private tmux server.
 */

const sb = sandbox();
const dir = repo(sb, 'launch');
expect(agence(sb, dir, ['^init']).code).toBe(0);

const script = (path: string, body: string) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
};
const persona = (name: string, launch: string | null) =>
  writeFileSync(join(dir, `.agence/codex/agents/${name}.md`), `---\nname: ${name}\nmodel: haiku\nprovider: anthropic\n${launch === null ? '' : `launch: ${launch}\n`}---\nYou are ${name}, a scripted test agent.\n`);

// Prints what it was given: its env, its arguments, the context pack's persona part; exits 7.
script(join(dir, 'agents/report.sh'), ['echo "agent=$AGENCE_AGENT session=$AGENCE_SESSION shard=$AGENCE_SHARD task=$AGENCE_TASK"', 'for a in "$@"; do echo "arg=$a"; done', 'echo "pwd=$(pwd)"', 'grep -c "a scripted test agent" "$AGENCE_CONTEXT_FILE"', 'exit 7'].join('\n'));
persona('scripted', './agents/report.sh --flag "two words"');
persona('quiet', null);
persona('piped', './agents/report.sh | tee log');

// A private bin with tools named like the real ones: they print their argv, one per line.
const bin = join(sb.dir, 'bin');
script(join(bin, 'claude'), 'for a in "$@"; do printf "arg=%s\\n" "$a"; done\necho "agent=$AGENCE_AGENT"');
const withBin = { PATH: `${bin}${delimiter}${sb.env.PATH}` };

const ledger = () => readFileSync(join(dir, '.agence/nexus/ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('!<agent> in this terminal', () => {
  let session = '';

  it('runs a persona\'s launch: command with the shard wired in, passing its exit status through', () => {
    const run = agence(sb, dir, ['!scripted', '--no-tmux', '--task', 'fix the bug', '--', 'extra', '--verbose']);
    expect(run.code).toBe(7);
    const m = /agent=scripted session=([0-9a-f]{8}) shard=launch task=fix the bug/.exec(run.stdout);
    expect(m, run.stdout + run.stderr).not.toBeNull();
    session = m?.[1] as string;
    expect(run.stdout).toContain('arg=--flag\narg=two words\narg=extra\narg=--verbose\n');
    expect(run.stdout).toContain(`pwd=${dir}\n`);
    expect(run.stdout).toMatch(/\n1\n/); // the context pack holds the persona
    expect(run.stderr).toContain(`@scripted in session ${session} (new)`);
    expect(run.stderr).toContain('via the file named by AGENCE_CONTEXT_FILE');
    // The session was created for it, with the agent and the task.
    const shown = json<{ agent: string; metadata: { task_description: string } }>(agence(sb, dir, ['^session', 'show', session, '--json']));
    expect(shown.agent).toBe('scripted');
    expect(shown.metadata.task_description).toBe('fix the bug');
    expect(ledger().filter((e) => e.action === 'agent.launch').map((e) => [e.subject, e.decision, e.data.session])).toEqual([['scripted', 'started', session]]);
  });

  it('a second launch works in the same session', () => {
    const run = agence(sb, dir, ['system', 'scripted', '--no-tmux']);
    expect(run.stdout).toContain(`session=${session}`);
    expect(run.stderr).not.toContain('(new)');
  });

  it('claude gets the guard hook settings, the pack as --append-system-prompt and the task as its first message', () => {
    const run = agence(sb, dir, ['@scripted', '!claude', '--no-tmux', '--task', 'add tests', '--', '--model', 'opus'], withBin);
    expect(run.code, run.stderr).toBe(0);
    const args = run.stdout.split('\n').filter((l) => l.startsWith('arg=')).map((l) => l.slice(4));
    expect(args[0]).toBe('--settings');
    const settings = JSON.parse(readFileSync(args[1] as string, 'utf8'));
    const hook = settings.hooks.PreToolUse[0];
    expect(hook.matcher).toBe('Bash');
    expect(hook.hooks[0].command).toContain(`${CLI} shared guard hook claude`);
    expect(args[2]).toBe('--append-system-prompt');
    expect(args.slice(-3)).toEqual(['--model', 'opus', 'add tests']);
    expect(run.stdout).toContain('a scripted test agent'); // the pack, in the system prompt
    expect(run.stdout).toContain('agent=scripted\n');
    expect(run.stderr).toContain('(claude)');
    expect(run.stderr).toContain('guard hook on');
  });

  it('--json gives the launch record after the agent', () => {
    const run = agence(sb, dir, ['!scripted', '--no-tmux', '--json']);
    const record = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));
    expect(record).toMatchObject({ agent: 'scripted', tool: null, session, tmux: null, exit: 7 });
    expect(run.code).toBe(7);
  });

  it('in a linked worktree: the agent works there, its session and context are in the main worktree\'s NEXUS', () => {
    const linked = join(sb.dir, 'launch-linked');
    git(sb, dir, ['add', '-A']);
    git(sb, dir, ['commit', '-qm', 'the shard and its scripted agents']);
    git(sb, dir, ['worktree', 'add', '-q', '-b', 'feature', linked]);
    const run = agence(sb, linked, ['!scripted', '--no-tmux', '--json']);
    expect(run.code, run.stderr).toBe(7);
    expect(run.stdout).toContain(`pwd=${linked}\n`);
    const record = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));
    expect(record.session).toBe(session);
    expect(record.contextFile.startsWith(join(dir, '.agence/nexus/launch/'))).toBe(true);
  });

  it('without a terminal, the default is no tmux (even when tmux is there)', () => {
    const run = agence(sb, dir, ['!scripted']);
    expect(run.code).toBe(7);
    expect(run.stderr).not.toContain('tmux');
  });
});

describe('bad input', () => {
  it('an unknown agent: the nearest name and the list', () => {
    const run = agence(sb, dir, ['!scriptd']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no agent "scriptd"');
    expect(run.stderr).toContain('did you mean !scripted?');
  });

  it('a missing tool: one line with the install hint, nothing started', () => {
    const before = ledger().length;
    const run = agence(sb, dir, ['!codex', '--no-tmux']);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('agence: codex is not installed (not found on PATH): install it: npm install -g @openai/codex');
    expect(ledger().length).toBe(before);
  });

  it('a persona without launch:, a launch line with shell syntax, a launch script that is not there', () => {
    expect(agence(sb, dir, ['!quiet']).stderr).toContain('@quiet has no launch: line');
    const piped = agence(sb, dir, ['!piped']);
    expect(piped.code).toBe(1);
    expect(piped.stderr).toContain('has shell syntax (|)');
    persona('gone', './agents/missing.sh');
    const gone = agence(sb, dir, ['!gone']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('./agents/missing.sh is not installed (not found at ./agents/missing.sh): install ./agents/missing.sh, or fix the launch: line of');
  });

  it('--tmux without tmux on PATH: a clear message, exit 1; --tmux with --no-tmux: a usage error', () => {
    const run = agence(sb, dir, ['!scripted', '--tmux'], { PATH: pathWithoutTmux(sb) });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('tmux is not installed (not on PATH)');
    expect(run.stderr).toContain('--no-tmux');
    expect(agence(sb, dir, ['!scripted', '--tmux', '--no-tmux']).stderr).toContain('--tmux and --no-tmux contradict each other');
  });

  it('on a terminal without tmux, the default falls back to this terminal and says so', () => {
    const command = [process.execPath, CLI, '!scripted'].map((w) => `'${w}'`).join(' ');
    const run = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: dir, env: { ...sb.env, PATH: pathWithoutTmux(sb), TERM: 'dumb', NO_COLOR: '1' }, encoding: 'utf8' });
    expect(run.stdout).toContain('tmux is not on PATH: the agent runs in this terminal');
    expect(run.stdout).toContain('agent=scripted');
  });

  it('a bad buffers.max_mb in agence.json is named with its fix, before anything starts', () => {
    const manifestFile = join(dir, '.agence/agence.json');
    const manifest = readFileSync(manifestFile, 'utf8');
    writeFileSync(manifestFile, JSON.stringify({ ...JSON.parse(manifest), buffers: { max_mb: 'big' } }));
    try {
      const run = agence(sb, dir, ['!scripted', '--tmux']);
      expect(run.code).toBe(3);
      expect(run.stderr).toContain('buffers.max_mb in .agence/agence.json is "big"');
      expect(run.stdout).toBe('');
    } finally {
      writeFileSync(manifestFile, manifest);
    }
  });

  it('a context pack holding a secret item is refused (exit 2): these agents send it to their provider', () => {
    const learned = agence(sb, dir, ['^learn', 'Deploy key rotation goes through the vault at rotation time', '--json']);
    const file = join(dir, json<{ path: string }>(learned).path);
    // Marked secret by hand (agence itself keeps secret items out of synthetic/).
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^label: internal$/m, 'label: secret'));
    writeFileSync(join(dir, '.agence/codex/agents/cleared.md'), '---\nname: cleared\nmodel: haiku\nprovider: anthropic\nclearance: secret\nlaunch: ./agents/report.sh\n---\nYou are cleared.\n');
    const run = agence(sb, dir, ['!cleared', '--no-tmux', '--task', 'deploy key rotation vault']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('the context pack for @cleared holds items labelled secret or above');
    expect(run.stdout).toBe('');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^label: secret$/m, 'label: internal'));
  });

  it('!bash takes no launcher options; ! alone names what it needs', () => {
    expect(agence(sb, dir, ['!bash', '--tmux']).stderr).toContain('!bash takes no options');
    expect(agence(sb, dir, ['system']).stderr).toContain('! needs the name of an agent or bash');
  });
});

describe('tmux 1+1 and buffers', () => {
  // A detached tmux server on a private socket, as if agence were run from one of its panes.
  const socket = `agence-test-${process.pid}`;
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8', env: sb.env });
  expect(tmux('new-session', '-d', '-s', 'work', '-x', '160', '-y', '40').status).toBe(0);
  const socketPath = tmux('display-message', '-p', '#{socket_path}').stdout.trim();
  const humanPane = tmux('display-message', '-p', '#{pane_id}').stdout.trim();
  const inTmux = { TMUX: `${socketPath},1,0`, TMUX_PANE: humanPane };
  afterAll(() => killServer(tmux));
  const panes = () =>
    tmux('list-panes', '-a', '-F', '#{pane_id} #{window_name} #{pane_dead} #{pane_dead_status} #{pane_current_path}')
      .stdout.trim()
      .split('\n')
      .map((l) => l.split(' '));

  it('runs the agent in a new window beside a human pane and records its pane in the session buffer', async () => {
    const run = agence(sb, dir, ['!scripted', '--tmux', '--task', 'in tmux'], inTmux);
    expect(run.code, run.stderr).toBe(0);
    const session = /in session ([0-9a-f]{8})/.exec(run.stderr)?.[1] as string;
    expect(run.stderr).toMatch(/running in tmux window work:\d+ \(agent pane %\d+, your pane %\d+\)/);
    const buffer = join(dir, `.agence/nexus/buffers/${session}.log`);
    const text = await until('the buffer', () => existsSync(buffer) && /pwd=.*\r?\n1\r?\n/.test(readFileSync(buffer, 'utf8')) && readFileSync(buffer, 'utf8'));
    expect(text).toContain(`agent=scripted session=${session} shard=launch task=in tmux`);
    expect(text).toContain('arg=two words');
    // The agent's pane stays, dead; the human pane beside it is a live shell in the same folder.
    // The exit status is the one the pane's gate wrote (tmux 3.3's #{pane_dead_status} is
    // sometimes left empty).
    const window = await until('the dead agent pane', () => {
      const ours = panes().filter((p) => p[1] === 'scripted');
      return ours.length === 2 && ours.some((p) => p[2] === '1') && ours;
    }, 10_000, () => JSON.stringify(panes()));
    expect(window.map((p) => p[2]).sort()).toEqual(['0', '1']);
    expect(window.find((p) => p[2] === '0')?.[4]).toBe(dir);
    const launches = join(dir, '.agence/nexus/launch', session);
    const exits = readdirSync(launches).filter((f) => /^exit-[0-9-]+$/.test(f));
    expect(exits.map((f) => readFileSync(join(launches, f), 'utf8'))).toEqual(['7\n']);
    // The recorder saw the gate's end mark after the agent's output, said so, and is gone.
    expect(existsSync(join(launches, `${exits[0]}.recorded`))).toBe(true);
    expect(readFileSync(buffer, 'utf8')).not.toContain('\x1b]7771;');

    const tail = agence(sb, dir, ['^buffers', '--tail', '2']);
    expect(tail.code, tail.stderr).toBe(0);
    expect(tail.stdout).toBe(`pwd=${dir}\n1\n`);
    const whole = json<{ session: string; bytes: number; text: string }>(agence(sb, dir, ['^buffers', session, '--json']));
    expect(whole.session).toBe(session);
    expect(whole.text).toContain('arg=--flag');

    // ^save records where the buffer is.
    const saved = json<{ session: { buffer?: string } }>(agence(sb, dir, ['^save', 'after the tmux run', '--json']));
    expect(saved.session.buffer).toBe(`nexus/buffers/${session}.log`);
  });

  it('keeps only the newest part of a buffer past its cap (buffers.max_mb in agence.json)', async () => {
    const manifestFile = join(dir, '.agence/agence.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, buffers: { max_mb: 0.01 } }, null, 2));
    script(join(dir, 'agents/loud.sh'), 'i=0; while [ $i -lt 3000 ]; do echo "line $i of the loud agent"; i=$((i+1)); done; echo LAST');
    persona('loud', './agents/loud.sh');
    const run = agence(sb, dir, ['!loud', '--tmux', '--json'], inTmux);
    expect(run.code, run.stderr).toBe(0);
    const { session, tmux: started } = JSON.parse(run.stdout) as { session: string; tmux: { buffer: string } };
    const cap = Math.round(0.01 * 1024 * 1024);
    // LAST read first, then no lock: the write that brought LAST has released the lock, so its cut is done.
    await until('the last line, cut', () => {
      const read = existsSync(started.buffer) ? readFileSync(started.buffer, 'utf8') : '';
      return read.includes('LAST') && !existsSync(`${started.buffer}.lock`);
    }, 10_000, () => `${JSON.stringify(panes())}, the buffer ending ${JSON.stringify(existsSync(started.buffer) ? readFileSync(started.buffer, 'utf8').slice(-80) : null)}`);
    const text = readFileSync(started.buffer, 'utf8');
    expect(statSync(started.buffer).size).toBeLessThanOrEqual(cap + cap / 4);
    expect(statSync(started.buffer).size).toBeGreaterThan(cap / 2);
    expect(text).not.toContain('line 0 of');
    expect(text.split('\n')[0]).toMatch(/^line \d+ of the loud agent\r?$/); // cut at a line
    expect(agence(sb, dir, ['^buffers', session, '--tail', '1']).stdout).toBe('LAST\n');
    writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
  });

  it('outside tmux, --tmux without a terminal leaves the agent in its own detached tmux session', async () => {
    const tmpdir = join(sb.dir, 'tmux-own');
    mkdirSync(tmpdir, { recursive: true });
    const own = { TMUX_TMPDIR: tmpdir };
    const tmuxOwn = (...args: string[]) => spawnSync('tmux', args, { env: { ...sb.env, ...own }, encoding: 'utf8' });
    const exitsNow = () => readdirSync(join(dir, '.agence/nexus/launch'), { recursive: true, encoding: 'utf8' }).map((f) => basename(f));
    const before = new Set(exitsNow());
    try {
      const run = agence(sb, dir, ['!scripted', '--tmux'], own);
      expect(run.code, run.stderr).toBe(0);
      const session = /in session ([0-9a-f]{8})/.exec(run.stderr)?.[1] as string;
      expect(run.stderr).toContain(`running in tmux session agence-${session}: tmux attach -t agence-${session}`);
      expect(tmuxOwn('list-sessions', '-F', '#{session_name}').stdout).toContain(`agence-${session}`);
      // Its agent ends on its own; wait for that, so no exit status lands during the next test.
      const launches = join(dir, '.agence/nexus/launch', session);
      await until('the agent to end', () => readdirSync(launches).some((f) => /^exit-[0-9-]+$/.test(f) && !before.has(f)));
    } finally {
      await killServer(tmuxOwn);
    }
  });

  it('on a terminal outside tmux: attaches to its own tmux session, and passes the exit status through', async () => {
    const tmpdir = join(sb.dir, 'tmux-attached');
    mkdirSync(tmpdir, { recursive: true });
    const env = { ...sb.env, TMUX_TMPDIR: tmpdir, TERM: 'xterm', NO_COLOR: '1' };
    const tmuxOwn = (...args: string[]) => spawnSync('tmux', args, { env, encoding: 'utf8' });
    const launches = join(dir, '.agence/nexus/launch');
    const exitFiles = () => readdirSync(launches, { recursive: true, encoding: 'utf8' }).filter((f) => /^exit-[0-9-]+$/.test(basename(f))).map((f) => join(launches, f));
    const before = new Set(exitFiles());
    const command = [process.execPath, CLI, '!scripted'].map((w) => `'${w}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const ended = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      // The agent ends at once (its exit status written); its pane closes and the human pane (the
      // one started without a command) is left. Closing that ends the tmux session, and the
      // terminal with it.
      const ended7 = () => exitFiles().some((f) => !before.has(f) && readFileSync(f, 'utf8') === '7\n');
      const listPanes = () => tmuxOwn('list-panes', '-a', '-F', '#{pane_id} #{window_name} [#{pane_start_command}]').stdout.trim().split('\n').filter(Boolean);
      const human = await until('the human pane alone', () => {
        const panes = listPanes();
        return ended7() && panes.length === 1 && panes[0]?.endsWith(' scripted []') ? (panes[0].split(' ')[0] as string) : null;
      }, 10_000, () => JSON.stringify(listPanes()));
      expect(tmuxOwn('kill-pane', '-t', human).status).toBe(0);
      const code = await Promise.race([ended, new Promise((resolve) => setTimeout(() => resolve(`still running, with panes ${JSON.stringify(listPanes())}`), 20_000))]);
      expect(code, out).toBe(7);
      expect(out).toContain('the agent exited with status 7');
    } finally {
      child.kill();
      await killServer(tmuxOwn);
    }
  });

  it('the recorder keeps the newest bytes of what it is given', () => {
    const file = join(sb.dir, 'rec/nexus/buffers/0123abcd.log');
    const input = Array.from({ length: 2000 }, (_, i) => `record ${i}\n`).join('');
    const run = spawnSync(process.execPath, [CLI, '^buffers', 'record', '0123abcd', '--file', file, '--max-bytes', '4096'], { input, env: sb.env, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const kept = readFileSync(file, 'utf8');
    expect(kept.length).toBeLessThanOrEqual(4096 + 1024);
    expect(kept.endsWith('record 1999\n')).toBe(true);
    expect(kept.startsWith('record ')).toBe(true);
  });

  it('--tail of a large buffer reads its end: the last N lines, however many windows that takes', () => {
    const id = 'fedcba98';
    const lines = Array.from({ length: 20_000 }, (_, i) => `\u001b[1mline ${i}\u001b[0m of a long run\r\n`);
    writeFileSync(join(dir, `.agence/nexus/buffers/${id}.log`), lines.join(''));
    expect(agence(sb, dir, ['^buffers', id, '--tail', '2']).stdout).toBe('line 19998 of a long run\nline 19999 of a long run\n');
    const many = agence(sb, dir, ['^buffers', id, '--tail', '15000']).stdout.split('\n').filter(Boolean);
    expect(many.length).toBe(15_000);
    expect(many[0]).toBe('line 5000 of a long run');
    expect(agence(sb, dir, ['^buffers', id, '--tail', '30000']).stdout.split('\n').filter(Boolean).length).toBe(20_000);
    expect(agence(sb, dir, ['^buffers', id, '--raw', '--tail', '1']).stdout).toBe('\u001b[1mline 19999\u001b[0m of a long run\r\n');
  });

  it('the recorder stops at the end mark: what came before is written, then the ack file', () => {
    const file = join(sb.dir, 'rec-end/nexus/buffers/0123abcd.log');
    const ack = join(sb.dir, 'rec-end/nexus/launch/0123abcd/exit-1-2.recorded');
    mkdirSync(dirname(ack), { recursive: true });
    const input = `first\nthe agent's last words\n\x1b]7771;agence-end;00112233aabbccdd\x07not recorded`;
    const args = ['^buffers', 'record', '0123abcd', '--file', file, '--max-bytes', '4096', '--end-mark', '00112233aabbccdd', '--ack', ack];
    const run = spawnSync(process.execPath, [CLI, ...args], { input, env: sb.env, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe("first\nthe agent's last words\n");
    expect(existsSync(ack)).toBe(true);
  });

  it('bad input to ^buffers: a bad session id, a session without a buffer, a bad --tail, a bad recorder file', () => {
    const bad = agence(sb, dir, ['^buffers', '../../etc']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('session id');
    const none = agence(sb, dir, ['^buffers', 'abcdef01']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('session abcdef01 has no buffer');
    expect(agence(sb, dir, ['^buffers', '--tail', 'x']).stderr).toContain('--tail "x" is not a number of lines');
    const rec = spawnSync(process.execPath, [CLI, '^buffers', 'record', '0123abcd', '--file', '/tmp/elsewhere.log', '--max-bytes', '4096'], { input: 'x', env: sb.env, encoding: 'utf8' });
    expect(rec.status).toBe(1);
    expect(rec.stderr).toContain("--file must be the session's buffer");
    const file = join(sb.dir, 'rec-bad/nexus/buffers/0123abcd.log');
    const record = (...more: string[]) => spawnSync(process.execPath, [CLI, '^buffers', 'record', '0123abcd', '--file', file, '--max-bytes', '4096', ...more], { input: 'x', env: sb.env, encoding: 'utf8' });
    const ack = join(sb.dir, 'rec-bad/nexus/launch/0123abcd/exit-1.recorded');
    for (const [more, message] of [
      [['--end-mark', 'xyz', '--ack', ack], '--end-mark "xyz" is not 16 hex digits'],
      [['--end-mark', '00112233aabbccdd'], '--end-mark and --ack go together; --ack is missing'],
      [['--ack', ack], '--end-mark and --ack go together; --end-mark is missing'],
      [['--end-mark', '00112233aabbccdd', '--ack', join(sb.dir, 'rec-bad/nexus/launch/0123abcd/exit-1')], '--ack must be a .recorded file of .../nexus/launch/0123abcd/'],
      [['--end-mark', '00112233aabbccdd', '--ack', '/tmp/x.recorded'], '--ack must be a .recorded file'],
    ] as const) {
      const r = record(...more);
      expect(r.status, more.join(' ')).toBe(1);
      expect(r.stderr).toContain(message);
      expect(existsSync(file)).toBe(false);
    }
  });
});
