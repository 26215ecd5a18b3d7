import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { agence, CLI, git, json, repo, type Sandbox, sandbox } from './helpers.js';

/** A recorded Claude Code hook payload (test/fixtures/claude), for a project at `cwd`. */
const payload = (name: string, cwd: string) => readFileSync(join(import.meta.dirname, '../fixtures/claude', `${name}.json`), 'utf8').replaceAll('$CWD', cwd);
const TRANSCRIPT = '/home/dev/.claude/projects/-work-app/7d1e4b0a-2c9f-4e8d-a6b3-1f0c5d9e8a72.jsonl';
const hook = (box: Sandbox, cwd: string, name: string) => agence(box, cwd, ['^hook', 'claude'], {}, payload(name, cwd));

interface StoredSession {
  session_id: string;
  rev: number;
  status: string;
  metadata: { task_description: string };
  runstate: { memory_state: { claude_code?: { session_id: string; transcript_path: string; event: string; cwd: string } } };
}

describe('^hook claude (recorded SessionStart, PreCompact and SessionEnd payloads)', () => {
  const box = sandbox();
  const dir = repo(box, 'app');
  let id = '';

  it('SessionStart without a session prints the context pack and says none is active', () => {
    expect(agence(box, dir, ['^init']).code).toBe(0);
    expect(agence(box, dir, ['^learn', 'The login retry uses exponential backoff capped at 30 s', '--title', 'Login retry backoff']).code).toBe(0);
    const run = hook(box, dir, 'session-start-startup');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('no active session in this shard yet');
    expect(run.stdout).toContain('<!-- laws: codex/LAWS.md');
    expect(run.stdout).toContain('[law-no-secrets]');
    expect(run.stdout).toContain('Login retry backoff');
    expect(run.stdout.length).toBeLessThan(10_000); // Claude Code's cap on hook output in the context
  });

  it('PreCompact saves a session with the transcript path; SessionEnd saves the same one again', () => {
    const compact = hook(box, dir, 'pre-compact-auto');
    expect(compact.code, compact.stderr).toBe(0);
    const sessions = json<{ sessions: { id: string }[] }>(agence(box, dir, ['^sessions', '--json'])).sessions;
    expect(sessions).toHaveLength(1);
    id = (sessions[0] as { id: string }).id;
    let stored = json<StoredSession>(agence(box, dir, ['^session', 'show', id, '--json']));
    expect(stored.status).toBe('SAVED');
    expect(stored.runstate.memory_state.claude_code).toEqual({ session_id: '7d1e4b0a-2c9f-4e8d-a6b3-1f0c5d9e8a72', transcript_path: TRANSCRIPT, event: 'PreCompact (auto)', cwd: dir });

    expect(agence(box, dir, ['^save', 'retry logic half done', '--task', 'fix the login retry']).code).toBe(0);
    const end = agence(box, dir, ['^hook', 'claude', '--json'], {}, payload('session-end-exit', dir));
    expect(end.code, end.stderr).toBe(0);
    expect(json(end)).toMatchObject({ event: 'SessionEnd', session: `app:${id}`, created: false });
    stored = json<StoredSession>(agence(box, dir, ['^session', 'show', id, '--json']));
    expect(stored.metadata.task_description).toBe('fix the login retry');
    expect(stored.runstate.memory_state.claude_code?.event).toBe('SessionEnd (prompt_input_exit)');
  });

  it('SessionStart resumes the saved session: the brief with the transcript, then the pack; ^resume and ^export carry the transcript', () => {
    const run = hook(box, dir, 'session-start-compact');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.startsWith(`Resumed app:${id}`)).toBe(true);
    expect(run.stdout).toContain('task:  fix the login retry');
    expect(run.stdout).toContain('retry logic half done');
    expect(run.stdout).toContain(`claude: transcript ${TRANSCRIPT}`);
    expect(run.stdout).toContain('<!-- laws: codex/LAWS.md');
    expect(run.stdout).not.toContain(`Session ${id}: fix the login retry`); // the brief is the session: the pack leaves it out
    expect(json<StoredSession>(agence(box, dir, ['^session', 'show', id, '--json'])).status).toBe('ACTIVE');

    // ^resume (and so a handoff's brief) points at the Claude Code transcript.
    const resume = agence(box, dir, ['^resume', id]);
    expect(resume.stdout).toContain(`claude: transcript ${TRANSCRIPT} (Claude Code session 7d1e4b0a-2c9f-4e8d-a6b3-1f0c5d9e8a72, saved at SessionEnd (prompt_input_exit))`);
    // Long notes (up to 64 KB each) do not flood Claude's context: the brief is cut, the pack still comes.
    expect(agence(box, dir, ['^save', `long note ${'x'.repeat(20_000)}`]).code).toBe(0);
    const long = hook(box, dir, 'session-start-compact');
    expect(long.code, long.stderr).toBe(0);
    expect(long.stdout).toContain('(brief cut at 4000 characters: `agence ^resume` prints it whole)');
    expect(long.stdout).toContain('[law-no-secrets]');
    expect(long.stdout.length).toBeLessThan(10_000);

    // A handoff bundle carries it with the session.
    const bundleFile = join(box.dir, 'bundle.json');
    expect(agence(box, dir, ['^export', id, '--out', bundleFile]).code).toBe(0);
    expect(JSON.parse(readFileSync(bundleFile, 'utf8')).session.runstate.memory_state.claude_code.transcript_path).toBe(TRANSCRIPT);
  });

  it('^handoff hands on the session SessionEnd saved, with nothing typed: the pushed bundle points at the transcript', () => {
    git(box, box.dir, ['init', '-q', '--bare', 'exchange.git']);
    git(box, dir, ['remote', 'add', 'origin', join(box.dir, 'exchange.git')]);
    // ^export made the last session transferred: the next Claude Code session ends and saves a new one.
    const end = agence(box, dir, ['^hook', 'claude', '--json'], {}, payload('session-end-exit', dir));
    expect(end.code, end.stderr).toBe(0);
    const ended = json<{ session: string; created: boolean }>(end);
    expect(ended.created).toBe(true);
    const handed = agence(box, dir, ['^handoff', 'ralph', '--json']);
    expect(handed.code, handed.stderr).toBe(0);
    const { bundle_id, pushed } = json<{ bundle_id: string; pushed: boolean }>(handed);
    expect(pushed).toBe(true);
    const bundle = JSON.parse(git(box, join(box.dir, 'exchange.git'), ['cat-file', '-p', `refs/agence/handoffs/${bundle_id}:bundle.json`]));
    expect(`app:${bundle.session.session_id}`).toBe(ended.session);
    expect(bundle.session.runstate.memory_state.claude_code).toMatchObject({ session_id: '7d1e4b0a-2c9f-4e8d-a6b3-1f0c5d9e8a72', transcript_path: TRANSCRIPT });
  });

  it('never breaks Claude Code: a bad payload is one line on stderr and exit 1 (non-blocking), nothing on stdout', () => {
    const other = repo(box, 'not-a-shard');
    const cases: [string, string, string][] = [
      ['not json', 'the hook input is not JSON', dir],
      [JSON.stringify({ session_id: 's', cwd: dir, hook_event_name: 'PreCompact' }), 'not a Claude Code hook payload (transcript_path', dir],
      [payload('session-end-exit', dir).replace('"SessionEnd"', '"PreToolUse"'), '"PreToolUse" is not a session hook', dir],
      [payload('pre-compact-auto', join(dir, 'gone')), 'is not a directory', dir],
      [payload('pre-compact-auto', other), 'not-a-shard', other],
    ];
    for (const [input, message, cwd] of cases) {
      const run = agence(box, cwd, ['^hook', 'claude'], {}, input);
      expect(run.code, input).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('^setup claude', () => {
  it('registers the guard, the session hooks and the MCP server, merged with what is there, once', () => {
    const box = sandbox();
    const dir = repo(box, 'claude');
    expect(agence(box, dir, ['^init']).code).toBe(0);
    mkdirSync(join(dir, '.claude'));
    const settingsFile = join(dir, '.claude/settings.local.json');
    const mine = { permissions: { allow: ['Bash(npm test)'] }, enabledMcpjsonServers: ['github'], hooks: { SessionStart: [{ hooks: [{ type: 'command', command: 'echo hello' }] }] } };
    writeFileSync(settingsFile, JSON.stringify(mine));
    writeFileSync(join(dir, '.mcp.json'), JSON.stringify({ mcpServers: { github: { command: 'gh-mcp' } } }));

    const first = agence(box, dir, ['^setup', 'claude', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(json(first)).toMatchObject({ change: 'added' });
    const settings = JSON.parse(readFileSync(settingsFile, 'utf8'));
    expect(settings.permissions).toEqual(mine.permissions);
    expect(settings.enabledMcpjsonServers).toEqual(['github', 'agence']);
    expect(settings.hooks.SessionStart[0]).toEqual(mine.hooks.SessionStart[0]);
    for (const event of ['SessionStart', 'PreCompact', 'SessionEnd']) {
      const ours = settings.hooks[event].at(-1);
      expect(ours.matcher).toBeUndefined();
      expect(ours.hooks[0].command).toBe(`${process.execPath} ${CLI} shared hook claude`);
    }
    expect(settings.hooks.PreToolUse[0]).toMatchObject({ matcher: 'Bash', hooks: [{ command: expect.stringContaining('shared guard hook claude') }] });
    const mcp = JSON.parse(readFileSync(join(dir, '.mcp.json'), 'utf8'));
    expect(mcp.mcpServers.github).toEqual({ command: 'gh-mcp' });
    expect(mcp.mcpServers.agence).toEqual({ type: 'stdio', command: process.execPath, args: [CLI, 'shared', 'mcp'], env: { AGENCE_AGENT: 'claude' } });

    const bytes = [readFileSync(settingsFile, 'utf8'), readFileSync(join(dir, '.mcp.json'), 'utf8')];
    const again = agence(box, dir, ['^setup', 'claude', '--json']);
    expect(json(again)).toMatchObject({ change: 'unchanged' });
    expect([readFileSync(settingsFile, 'utf8'), readFileSync(join(dir, '.mcp.json'), 'utf8')]).toEqual(bytes);

    // agence moved (another checkout, another node): its own entries are replaced in place, nothing is added twice.
    const self = `${process.execPath} ${CLI}`;
    writeFileSync(settingsFile, bytes[0]?.replaceAll(JSON.stringify(self).slice(1, -1), '/old/node /old/agence.cjs') as string);
    writeFileSync(join(dir, '.mcp.json'), JSON.stringify({ mcpServers: { github: { command: 'gh-mcp' }, agence: { type: 'stdio', command: '/old/node', args: ['/old/agence.cjs', 'shared', 'mcp'] } } }));
    expect(readFileSync(settingsFile, 'utf8').match(/\/old\/node \/old\/agence\.cjs/g)).toHaveLength(4);
    const moved = agence(box, dir, ['^setup', 'claude', '--json']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(json(moved)).toMatchObject({ change: 'updated' });
    expect(readFileSync(settingsFile, 'utf8')).toBe(bytes[0]);
    expect(JSON.parse(readFileSync(join(dir, '.mcp.json'), 'utf8')).mcpServers).toEqual(mcp.mcpServers);

    // The registered command lines are the hooks: run them as Claude Code does, through a shell.
    const start = spawnSync('sh', ['-c', settings.hooks.SessionStart[1].hooks[0].command], { cwd: dir, env: box.env, input: payload('session-start-startup', dir), encoding: 'utf8' });
    expect(start.status, start.stderr).toBe(0);
    expect(start.stdout).toContain('[law-no-secrets]');
    const end = spawnSync('sh', ['-c', settings.hooks.SessionEnd[0].hooks[0].command], { cwd: dir, env: box.env, input: payload('session-end-exit', dir), encoding: 'utf8' });
    expect(end.status, end.stderr).toBe(0);
    expect(end.stdout).toContain(`transcript ${TRANSCRIPT}`);
  });

  it('refuses a settings.local.json or .mcp.json that is not valid JSON, names it, and writes neither file', () => {
    const box = sandbox();
    const dir = repo(box, 'claude-bad');
    mkdirSync(join(dir, '.claude'));
    const settingsFile = join(dir, '.claude/settings.local.json');
    writeFileSync(settingsFile, '{ "hooks": ');
    const run = agence(box, dir, ['^setup', 'claude']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('.claude/settings.local.json is not valid JSON');
    expect(readFileSync(settingsFile, 'utf8')).toBe('{ "hooks": ');
    expect(existsSync(join(dir, '.mcp.json'))).toBe(false);

    writeFileSync(settingsFile, '{}');
    writeFileSync(join(dir, '.mcp.json'), '{"mcpServers": [}');
    const mcp = agence(box, dir, ['^setup', 'claude']);
    expect(mcp.code).toBe(3);
    expect(mcp.stderr).toContain('.mcp.json is not valid JSON');
    expect(readFileSync(join(dir, '.mcp.json'), 'utf8')).toBe('{"mcpServers": [}');
    expect(readFileSync(settingsFile, 'utf8')).toBe('{}');

    writeFileSync(join(dir, '.mcp.json'), '{}');
    const noShard = agence(box, dir, ['^setup', 'claude']);
    expect(noShard.code).toBe(0);
    expect(noShard.stderr).toContain('this repository is not a shard yet: run `agence ^init`');
  });
});

describe('^setup cursor', () => {
  it('merges the server into .cursor/mcp.json once, and refuses a file that does not parse', () => {
    const box = sandbox();
    const dir = repo(box, 'cursor');
    mkdirSync(join(dir, '.cursor'));
    const file = join(dir, '.cursor/mcp.json');
    writeFileSync(file, JSON.stringify({ mcpServers: { docs: { url: 'http://127.0.0.1:9000/mcp' } } }));
    const first = agence(box, dir, ['^setup', 'cursor', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(json(first)).toMatchObject({ change: 'added' });
    const after = readFileSync(file, 'utf8');
    expect(JSON.parse(after).mcpServers).toEqual({ docs: { url: 'http://127.0.0.1:9000/mcp' }, agence: { command: process.execPath, args: [CLI, 'shared', 'mcp', '--dir', dir], env: { AGENCE_AGENT: 'cursor' } } });
    expect(json(agence(box, dir, ['^setup', 'cursor', '--json']))).toMatchObject({ change: 'unchanged' });
    expect(readFileSync(file, 'utf8')).toBe(after);

    writeFileSync(file, '{"mcpServers": {"docs": }');
    const bad = agence(box, dir, ['^setup', 'cursor']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('.cursor/mcp.json is not valid JSON');
    expect(readFileSync(file, 'utf8')).toBe('{"mcpServers": {"docs": }');
  });
});

describe('^setup codex', () => {
  const ours = `[mcp_servers.agence]\ncommand = ${JSON.stringify(process.execPath)}\nargs = [${JSON.stringify(CLI)}, "shared", "mcp"]\nenv = { AGENCE_AGENT = "codex" }\n`;

  it('adds [mcp_servers.agence] to $CODEX_HOME/config.toml, keeping every byte of the rest, once', () => {
    const box = sandbox();
    const dir = repo(box, 'codex');
    const home = join(box.dir, 'codex-home');
    mkdirSync(home);
    const file = join(home, 'config.toml');
    const mine = '# my settings\nmodel = "o3"  # the default\n\n[mcp_servers.docs]\ncommand = "docs-mcp"\nargs = ["--port", "9000"]\n\n[profiles.fast]\nmodel = "o4-mini"\n';
    writeFileSync(file, mine);
    const first = agence(box, dir, ['^setup', 'codex', '--json'], { CODEX_HOME: home });
    expect(first.code, first.stderr).toBe(0);
    expect(json(first)).toMatchObject({ change: 'added', parts: [{ file, what: 'mcp server', change: 'added' }] });
    expect(readFileSync(file, 'utf8')).toBe(`${mine}\n${ours}`);
    expect(json(agence(box, dir, ['^setup', 'codex', '--json'], { CODEX_HOME: home }))).toMatchObject({ change: 'unchanged' });
    expect(readFileSync(file, 'utf8')).toBe(`${mine}\n${ours}`);
  });

  it('replaces an old agence table (and its subtables) in place; default is ~/.codex/config.toml', () => {
    const box = sandbox();
    const dir = repo(box, 'codex-old');
    const file = join(box.env.HOME as string, '.codex/config.toml');
    mkdirSync(join(box.env.HOME as string, '.codex'));
    const before = 'model = "o3"\n\n[mcp_servers.agence]\ncommand = "/old/node"\nargs = ["/old/agence.cjs", "shared", "mcp"]\n\n[mcp_servers.agence.env]\nAGENCE_AGENT = "codex"\n\n[profiles.fast]\nmodel = "o4-mini"\n';
    writeFileSync(file, before);
    const run = agence(box, dir, ['^setup', 'codex', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toMatchObject({ change: 'updated' });
    expect(readFileSync(file, 'utf8')).toBe(`model = "o3"\n\n${ours}\n[profiles.fast]\nmodel = "o4-mini"\n`);
  });

  it('creates the file when there is none', () => {
    const box = sandbox();
    const dir = repo(box, 'codex-new');
    const home = join(box.dir, 'fresh-codex-home');
    expect(agence(box, dir, ['^setup', 'codex'], { CODEX_HOME: home }).code).toBe(0);
    expect(readFileSync(join(home, 'config.toml'), 'utf8')).toBe(ours);
  });

  it('refuses a config.toml that does not parse, or one it cannot edit safely, and leaves it byte-identical', () => {
    const box = sandbox();
    const dir = repo(box, 'codex-bad');
    const home = join(box.dir, 'codex-home');
    mkdirSync(home);
    const file = join(home, 'config.toml');
    for (const [text, message] of [
      ['model = "o3\n[mcp_servers.docs\n', 'is not valid TOML'],
      ['mcp_servers = { agence = { command = "x" } }\n', 'cannot edit safely'],
      ['[mcp_servers]\nagence.command = "x"\n', 'cannot edit safely'],
    ] as const) {
      writeFileSync(file, text);
      const run = agence(box, dir, ['^setup', 'codex'], { CODEX_HOME: home });
      expect(run.code, text).toBe(3);
      expect(run.stderr).toContain(`${file} `);
      expect(run.stderr).toContain(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
  });
});

describe('the MCP entries ^setup writes start a working server', () => {
  it('Claude Code (.mcp.json, in the project), Cursor (.cursor/mcp.json, from anywhere) and Codex CLI (config.toml, in the project), each as its own AGENCE_AGENT', async () => {
    const box = sandbox();
    const dir = repo(box, 'served');
    const home = join(box.dir, 'codex-home');
    expect(agence(box, dir, ['^init']).code).toBe(0);
    for (const tool of ['claude', 'cursor', 'codex']) expect(agence(box, dir, ['^setup', tool], { CODEX_HOME: home }).code).toBe(0);
    type Entry = { command: string; args: string[]; env: Record<string, string> };
    const entries: [string, Entry, string][] = [
      ['claude', JSON.parse(readFileSync(join(dir, '.mcp.json'), 'utf8')).mcpServers.agence, dir],
      ['cursor', JSON.parse(readFileSync(join(dir, '.cursor/mcp.json'), 'utf8')).mcpServers.agence, box.dir],
      ['codex', (parseToml(readFileSync(join(home, 'config.toml'), 'utf8')) as { mcp_servers: { agence: Entry } }).mcp_servers.agence, dir],
    ];
    for (const [tool, entry, cwd] of entries) {
      // As the tool starts it: the entry's command, args and env, and nothing of ours.
      const client = new Client({ name: tool, version: '1' });
      await client.connect(new StdioClientTransport({ command: entry.command, args: entry.args, cwd, env: { ...box.env, ...entry.env } as Record<string, string>, stderr: 'pipe' }));
      try {
        expect((await client.listTools()).tools).toHaveLength(9);
        const result = (await client.callTool({ name: 'learn', arguments: { text: `Registered for ${tool}\nThe entry ^setup ${tool} wrote serves this shard.` } })) as { content: { text: string }[]; isError?: boolean };
        expect(result.isError, result.content[0]?.text).toBeUndefined();
        const { path } = JSON.parse(result.content[0]?.text as string) as { path: string };
        expect(readFileSync(join(dir, path), 'utf8')).toContain(`author: ${tool}`);
      } finally {
        await client.close();
      }
    }
  });
});
