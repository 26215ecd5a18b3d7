import { parseArgs as utilParseArgs } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgenceError } from '../../src/core/errors.js';
import { nearest } from '../../src/core/suggest.js';
import { parse, parseOptionArgs } from '../../src/cli/parse.js';
import type { OptionSpec } from '../../src/cli/types.js';

function parseError(argv: string[]): AgenceError {
  try {
    parse(argv);
  } catch (error) {
    return error as AgenceError;
  }
  throw new Error(`parse(${argv.join(' ')}) did not fail`);
}

describe('mode router', () => {
  it('dispatches on the first character and on the word alias alike', () => {
    for (const argv of [['^init', '--name', 'web'], ['shared', 'init', '--name', 'web'], ['^', 'init', '--name', 'web']]) {
      const parsed = parse(argv);
      expect(parsed).toMatchObject({ kind: 'route', route: { mode: 'shared', name: 'init' }, opts: { name: 'web' } });
    }
  });

  it('routes each mode', () => {
    expect(parse(['How', 'do', 'I', 'configure', 'TLS?'])).toMatchObject({ kind: 'mode', mode: { name: 'ask' }, input: ['How', 'do', 'I', 'configure', 'TLS?'] });
    expect(parse(['ask', 'hello there'])).toMatchObject({ kind: 'mode', mode: { name: 'ask' } });
    expect(parse(['+fix the build'])).toMatchObject({ kind: 'mode', mode: { name: 'auto' }, input: ['fix the build'] });
    expect(parse(['auto', 'fix'])).toMatchObject({ kind: 'mode', mode: { name: 'auto' } });
    expect(parse(['/git-status'])).toMatchObject({ kind: 'mode', mode: { name: 'run' }, input: ['git-status'] });
    expect(parse(['run', 'git-status'])).toMatchObject({ kind: 'mode', mode: { name: 'run' } });
    expect(parse(['!claude'])).toMatchObject({ kind: 'mode', mode: { name: 'system' }, input: ['claude'] });
    expect(parse(['system', 'bash'])).toMatchObject({ kind: 'mode', mode: { name: 'system' } });
    expect(parse(['~learn', 'x'])).toMatchObject({ kind: 'route', route: { mode: 'private', name: 'learn' } });
    expect(parse(['private', 'note', 'x'])).toMatchObject({ kind: 'route', route: { mode: 'private', name: 'note' } });
  });

  it('takes two-word commands', () => {
    expect(parse(['^master', 'init', 'dir'])).toMatchObject({ kind: 'route', route: { name: 'master init' }, args: ['dir'] });
    expect(parseError(['^master']).line).toContain('^master init');
  });

  it('parses @agent and @agent.model', () => {
    expect(parse(['@sonya', 'review this'])).toMatchObject({ agent: { agent: 'sonya', model: null } });
    expect(parse(['@ralph.gpt-4o', '^status'])).toMatchObject({ kind: 'route', agent: { agent: 'ralph', model: 'gpt-4o' } });
    expect(parseError(['@../x', 'hi']).code).toBe('usage');
  });

  it('handles global flags anywhere', () => {
    expect(parse(['--version'])).toMatchObject({ kind: 'version' });
    expect(parse(['^status', '--json'])).toMatchObject({ kind: 'route', globals: { json: true } });
    expect(parse(['^init', '--help'])).toMatchObject({ kind: 'help', topic: { name: 'init' } });
    expect(parse(['help', '^init'])).toMatchObject({ kind: 'help', topic: { name: 'init' } });
    expect(parse(['help', 'shared', 'init'])).toMatchObject({ kind: 'help', topic: { name: 'init' } });
    expect(parse(['help', 'init'])).toMatchObject({ kind: 'help', topic: { name: 'init' } });
    expect(parse([])).toMatchObject({ kind: 'help', topic: null });
  });

  it('suggests the nearest command for unknown ones', () => {
    const error = parseError(['^int']);
    expect(error.code).toBe('usage');
    expect(error.exitCode).toBe(1);
    expect(error.line).toContain('did you mean ^init?');
    expect(parseError(['shared', 'stauts']).line).toContain('^status');
    expect(parseError(['sharde']).line).toContain('shared');
    // a quoted phrase near a command name is a question, not a typo
    expect(parse(['review it'])).toMatchObject({ kind: 'mode', input: ['review it'] });
  });

  it('rejects unknown options and wrong argument counts', () => {
    expect(parseError(['^init', '--nme', 'x']).line).toContain("Unknown option '--nme'");
    expect(parseError(['^status', 'extra']).line).toContain('takes 0 arguments');
  });
});

describe('nearest', () => {
  it('finds close names and gives up on far ones', () => {
    expect(nearest('stauts', ['status', 'init'])).toBe('status');
    expect(nearest('doc', ['doctor', 'codex'])).toBe('doctor');
    expect(nearest('zzzzzz', ['status', 'init'])).toBeNull();
  });
});

describe('compile cache variants', () => {
  it('names a cache after the command word, never after free text', async () => {
    const { cacheVariant } = await import('../../src/cli/compileCache.js');
    expect(cacheVariant(['^sessions', '--agent', 'x'])).toBe('sessions');
    expect(cacheVariant(['shared', 'save', 'note'])).toBe('save');
    expect(cacheVariant(['^', 'status'])).toBe('status');
    expect(cacheVariant(['@sonya', '~learn', 'x'])).toBe('learn');
    expect(cacheVariant(['How do I configure TLS?'])).toBe('other');
    expect(cacheVariant(['^../../etc'])).toBe('other');
    expect(cacheVariant(['--version'])).toBe('other');
  });
});

describe('parseOptionArgs', () => {
  const specs: OptionSpec[] = [
    { name: 'agent', type: 'string', description: '' },
    { name: 'new', type: 'boolean', description: '' },
    { name: 'tag', type: 'string', multiple: true, description: '' },
    { name: 'n', short: 'n', type: 'string', description: '' },
    { name: 'quiet', short: 'q', type: 'boolean', description: '' },
    { name: 'all', short: 'a', type: 'boolean', multiple: true, description: '' },
  ];
  const node = (argv: string[]) => {
    const options = Object.fromEntries(specs.map((o) => [o.name, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }]));
    return utilParseArgs({ args: argv, options, allowPositionals: true, strict: true });
  };
  const outcome = (fn: () => { values: object; positionals: string[] }) => {
    try {
      const { values, positionals } = fn();
      return { values: { ...values }, positionals };
    } catch (error) {
      return { error: (error as Error).message.split('\n')[0] };
    }
  };
  const token = fc.constantFrom('--agent', '--agent=x', '--agent=', '--new', '--new=1', '--tag', '--tag=t', '-n', '-n5', '-q', '-qa', '-qn', '-qnv', '-aq', '-x', '-qx', '--nope', '--quiet=1', '--quiet', '--n', '--n=-1', '--all', '--=x', '---x', '-', '--', 'word', '-5', 'two words', '');

  it('parses as node:util parseArgs (strict, positionals allowed) does, errors included', () => {
    fc.assert(fc.property(fc.array(token, { maxLength: 8 }), (argv) => {
      expect(outcome(() => parseOptionArgs(argv, specs))).toEqual(outcome(() => node(argv)));
    }), { numRuns: 3000 });
  });
});
