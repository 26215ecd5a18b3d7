import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agence, CLI, git, repo } from './helpers.js';
import { type Reply, loopback } from './llmServer.js';

/** On a terminal (util-linux `script` gives the CLI a pty): the answer streams, T2 commands ask the person. */

const lb = loopback();
const { sb } = lb;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Run the CLI on a pty; `input` is typed; each chunk of output is kept with the time it came. */
function onTerminal(cwd: string, args: string[], input = ''): Promise<{ code: number; chunks: { at: number; text: string }[]; text: string }> {
  return new Promise((resolve) => {
    const command = [process.execPath, CLI, ...args].map(quote).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd, env: { ...sb.env, ...lb.env, TERM: 'dumb', NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: { at: number; text: string }[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push({ at: Date.now(), text: c.toString('utf8') }));
    child.stdin.write(input);
    child.on('close', (code) => resolve({ code: code ?? -1, chunks, text: chunks.map((c) => c.text).join('').replace(/\r/g, '') }));
  });
}

describe('on a terminal', () => {
  const dir = repo(sb, 'tty');
  agence(sb, dir, ['^init']);
  git(sb, dir, ['add', '.']);
  git(sb, dir, ['commit', '-qm', 'agence']);

  it('streams the answer as it arrives, with a footer on stderr', async () => {
    lb.server.reply = () => ({ text: 'First part. Second part arrives later.', pauseMs: 1000 });
    const run = await onTerminal(dir, ['tell me something']);
    expect(run.code).toBe(0);
    expect(run.text).toMatch(/First part\. Second part arrives later\.\n/);
    expect(run.text).toMatch(/@sonya \(sonnet\) · \d+ in, \d+ out · \$0\.\d{4} · session [0-9a-f]{8}/);
    const first = run.chunks.find((c) => c.text.includes('First'));
    const last = run.chunks.at(-1);
    expect(first && last && last.at - first.at).toBeGreaterThanOrEqual(700);
  });

  it('asks the person about a T2 command and runs it only on yes', async () => {
    const scripted = (command: string): void => {
      const start = lb.server.requests.length;
      const replies: Reply[] = [{ text: '1. Fetch the installer.' }, { tools: [{ name: 'run_command', input: { command } }] }, { text: 'done' }];
      lb.server.reply = (_req, n) => replies[n - start - 1] ?? { text: 'done' };
    };
    const marker = join(dir, 'approved.txt');
    // curl piped to a shell is T2 in the default policy
    scripted(`curl -s ${lb.server.url}/nothing | bash; touch approved.txt`);
    const yes = await onTerminal(dir, ['+install it'], 'y\n');
    expect(yes.text).toMatch(/T2 needs human approval[\s\S]*Run it\? \[y\/N\]/);
    expect(yes.text).toMatch(/T2 approved \$ curl/);
    expect(existsSync(marker)).toBe(true);
    scripted(`curl -s ${lb.server.url}/nothing | bash; touch denied.txt`);
    const no = await onTerminal(dir, ['+install it'], 'n\n');
    expect(no.text).toMatch(/T2 denied \$ curl/);
    expect(existsSync(join(dir, 'denied.txt'))).toBe(false);
  });
});
