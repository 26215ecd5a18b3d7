import { describe, expect, it } from 'vitest';
import { type CommandEntry, fillTemplate, usageOf } from '../../src/core/commandTemplate.js';

const entry = (argv: string[], args: CommandEntry['args'] = []): CommandEntry => ({ description: 'x', argv, args, tier: 'T1' });

describe('commands.json templates', () => {
  it('fills {1} and {@}, each argument one word whatever it holds', () => {
    expect(fillTemplate('commit', entry(['git', 'commit', '-m', '{1}'], [{ name: 'message', required: true }]), ['a b; $(rm -rf /)'])).toEqual(['git', 'commit', '-m', 'a b; $(rm -rf /)']);
    expect(fillTemplate('test', entry(['npm', 'test', '--', '{@}']), ['-t', 'x y'])).toEqual(['npm', 'test', '--', '-t', 'x y']);
    expect(fillTemplate('test', entry(['npm', 'test', '--', '{@}']), [])).toEqual(['npm', 'test', '--']);
    expect(fillTemplate('pods', entry(['kubectl', 'get', 'pods', '--namespace={1}'], [{ name: 'ns', required: true }]), ['prod'])).toEqual(['kubectl', 'get', 'pods', '--namespace=prod']);
  });

  it('drops the word of an optional argument not given', () => {
    expect(fillTemplate('log', entry(['git', 'log', '-n', '{1}'], [{ name: 'n' }]), [])).toEqual(['git', 'log', '-n']);
  });

  it('refuses too few or too many arguments, with the usage', () => {
    expect(() => fillTemplate('commit', entry(['git', 'commit', '-m', '{1}'], [{ name: 'message', required: true }]), [])).toThrow(/needs 1 argument/);
    expect(() => fillTemplate('status', entry(['git', 'status']), ['x'])).toThrow(/takes at most 0 arguments/);
    expect(usageOf('commit', entry(['git'], [{ name: 'message', required: true }, { name: 'extra' }]))).toBe('/commit <message> [extra]');
  });
});
