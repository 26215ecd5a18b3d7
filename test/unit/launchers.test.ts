import { describe, expect, it } from 'vitest';
import { endMarker, lineStart, plainText, scanForMarker, tailLines, trimOffset } from '../../src/core/buffers.js';
import { AgenceError } from '../../src/core/errors.js';
import { installHint, planLaunch, splitLaunch, toolOf } from '../../src/core/launchers.js';
import { shellQuote } from '../../src/core/shellQuote.js';

const base = { extraArgs: [] as string[], context: 'CONTEXT', contextFile: '/n/ctx.md', task: null as string | null, guardSettings: '/n/settings.json' };

describe('launch lines', () => {
  it('split on blanks, with quotes, and refuse shell syntax', () => {
    expect(splitLaunch('claude --model opus', 'a.md')).toEqual(['claude', '--model', 'opus']);
    expect(splitLaunch(`./agent.sh  --note "two words" 'it''s'`, 'a.md')).toEqual(['./agent.sh', '--note', 'two words', 'its']);
    for (const bad of ['agent | tee log', 'agent > out', 'agent $HOME', 'agent `id`', 'agent; rm x', 'agent "open', '   ']) {
      expect(() => splitLaunch(bad, 'codex/agents/x.md'), bad).toThrow(AgenceError);
    }
    expect(() => splitLaunch('a | b', 'codex/agents/x.md')).toThrow(/launch: line of codex\/agents\/x.md has shell syntax \(\|\)/);
  });

  it('know the tools by the base name of their binary', () => {
    expect(toolOf('/usr/local/bin/claude')?.name).toBe('claude');
    expect(toolOf('./agent.sh')).toBeNull();
    expect(installHint('codex', null)).toBe('install it: npm install -g @openai/codex');
    expect(installHint('./agent.sh', 'codex/agents/x.md')).toBe('install ./agent.sh, or fix the launch: line of codex/agents/x.md');
  });
});

describe('launch plans', () => {
  it('claude: the guard settings, the pack as appended system prompt, extra args, then the task', () => {
    const plan = planLaunch({ ...base, command: ['/bin/claude', '--model', 'opus'], extraArgs: ['--verbose'], task: 'fix it' });
    expect(plan).toEqual({ tool: 'claude', argv: ['/bin/claude', '--model', 'opus', '--settings', '/n/settings.json', '--append-system-prompt', 'CONTEXT', '--verbose', 'fix it'], contextVia: '--append-system-prompt (system prompt)', guard: 'hook' });
  });

  it('codex: the pack and the task as the first message, last', () => {
    const plan = planLaunch({ ...base, command: ['codex'], extraArgs: ['-m', 'o3'], task: 'fix it' });
    expect(plan.argv).toEqual(['codex', '-m', 'o3', 'CONTEXT\n\nYour task: fix it']);
    expect(plan.guard).toBe('none');
  });

  it('aider reads the pack as a file; gemini and copilot take it as the interactive prompt', () => {
    expect(planLaunch({ ...base, command: ['aider'] }).argv).toEqual(['aider', '--read', '/n/ctx.md']);
    expect(planLaunch({ ...base, command: ['gemini'] }).argv).toEqual(['gemini', '--prompt-interactive', 'CONTEXT']);
    expect(planLaunch({ ...base, command: ['copilot'], task: 't' }).argv).toEqual(['copilot', '--interactive', 'CONTEXT\n\nYour task: t']);
  });

  it('any other command: its own argv and the extra args, the pack only through AGENCE_CONTEXT_FILE', () => {
    const plan = planLaunch({ ...base, command: ['./agent.sh', '-x'], extraArgs: ['y'], task: 'fix it' });
    expect(plan).toEqual({ tool: null, argv: ['./agent.sh', '-x', 'y'], contextVia: 'the file named by AGENCE_CONTEXT_FILE', guard: 'none' });
  });

  it('quotes words for sh', () => {
    expect(shellQuote('/usr/bin/node')).toBe('/usr/bin/node');
    expect(shellQuote("/tmp/a b/it's")).toBe(`'/tmp/a b/it'\\''s'`);
  });
});

describe('buffers', () => {
  it('are cut to the newest cap bytes once past a quarter of slack', () => {
    expect(trimOffset(1000, 1000)).toBeNull();
    expect(trimOffset(1250, 1000)).toBeNull();
    expect(trimOffset(1251, 1000)).toBe(251);
  });

  it('keep whole lines when a newline is near the cut', () => {
    expect(lineStart(Buffer.from('tail of a line\nnext\n'))).toBe(15);
    expect(lineStart(Buffer.from('no newline at all'))).toBe(0);
  });

  it('tail lines and read as plain text', () => {
    expect(tailLines('a\nb\nc\n', 2)).toBe('b\nc\n');
    expect(tailLines('a\nb', 5)).toBe('a\nb\n');
    expect(tailLines('', 3)).toBe('');
    expect(plainText('\x1b[1;32mgreen\x1b[0m\r\n\x1b]0;title\x0750%\r100%\n')).toBe('green\n100%\n');
  });

  it('find the end mark in a stream read in chunks, split anywhere, and drop what follows it', () => {
    const mark = Buffer.from(endMarker('0123456789abcdef'));
    const stream = Buffer.concat([Buffer.from('line one\nlast \x1b]0;title\x07line\n'), mark, Buffer.from('after')]);
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const first = scanForMarker(new Uint8Array(0), stream.subarray(0, cut), mark);
      const second = first.found ? first : scanForMarker(first.held, stream.subarray(cut), mark);
      expect(second.found).toBe(true);
      expect(Buffer.concat([first.found ? Buffer.alloc(0) : first.pass, second.pass]).toString()).toBe('line one\nlast \x1b]0;title\x07line\n');
    }
    // Without the mark, bytes that could start it are held back, and given back with the next chunk.
    const partial = scanForMarker(new Uint8Array(0), Buffer.from('text\x1b]77'), mark);
    expect([Buffer.from(partial.pass).toString(), Buffer.from(partial.held).toString(), partial.found]).toEqual(['text', '\x1b]77', false]);
    const after = scanForMarker(partial.held, Buffer.from('7x'), mark);
    expect([Buffer.from(after.pass).toString(), after.held.length, after.found]).toEqual(['\x1b]777x', 0, false]);
  });
});
