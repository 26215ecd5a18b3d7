import { describe, expect, it } from 'vitest';
import { applyGrants, type Verdict } from '../../src/core/commandGuard.js';
import { compilePolicy, matchPolicy, PolicyRuleError, patternRegex, ruleProblem } from '../../src/core/guardPolicy.js';
import { mergePolicy, type Policy } from '../../src/core/layering.js';

const policy: Policy = {
  default_tier: 'T2',
  rules: [
    { id: 'git-push', command: 'git push', tier: 'T2' },
    { id: 'git-push-force', command: 'git push', args_any: ['--force*', '-f', '+*'], tier: 'T3' },
    { id: 'git-push-force-default', command: 'git push', args_any: ['--force*', '-f'], args_all: [['{default_branch}', '*:{default_branch}']], tier: 'T4' },
    { id: 'kubectl-delete', command: 'kubectl delete', tier: 'T3' },
  ],
};
const compiled = compilePolicy(policy, ['main', 'trunk']);
const ids = (argv: string[]) => matchPolicy(compiled, argv[0] as string, argv.slice(1)).map((r) => r.id);

describe('policy matching', () => {
  it('matches subcommand words with options and their values between them', () => {
    expect(ids(['git', 'push'])).toEqual(['git-push']);
    expect(ids(['git', '-C', '/repo', 'push', 'origin'])).toEqual(['git-push']);
    expect(ids(['kubectl', '-n', 'prod', 'delete', 'pod', 'x'])).toEqual(['kubectl-delete']);
    expect(ids(['git', 'commit', '-m', 'push'])).toEqual([]);
    expect(ids(['git', 'log', '--grep', 'push'])).toEqual([]);
  });

  it('needs every args_all group as well as args_any, with {default_branch} standing for each default branch', () => {
    expect(ids(['git', 'push', '--force', 'origin', 'feature'])).toEqual(['git-push', 'git-push-force']);
    expect(ids(['git', 'push', '--force', 'origin', 'trunk'])).toEqual(['git-push', 'git-push-force', 'git-push-force-default']);
    expect(ids(['git', 'push', '-f', 'origin', 'HEAD:main'])).toContain('git-push-force-default');
    expect(ids(['git', 'push', 'origin', 'main'])).toEqual(['git-push']);
  });

  it('patterns: * is any run, everything else literal', () => {
    expect(patternRegex('-r*', []).test('-rf')).toBe(true);
    expect(patternRegex('a.b', []).test('axb')).toBe(false);
    expect(patternRegex('+{default_branch}', ['main']).test('+main')).toBe(true);
  });

  it('refuses a rule it cannot compile, naming which', () => {
    expect(ruleProblem({ id: 'x', command: 'ls', tier: 'T9' })).toMatch(/tier/);
    expect(ruleProblem({ id: 'x', command: 'ls', tier: 'T0', args_all: ['-r'] })).toMatch(/args_all/);
    expect(() => compilePolicy({ rules: [{ id: 'x', command: '', tier: 'T0' }] }, [])).toThrow(PolicyRuleError);
  });

  it('layering: a local rule may not change what a base rule matches, args_all included', () => {
    const local: Policy = { rules: [{ id: 'git-push-force-default', command: 'git push', args_any: ['--force*', '-f'], tier: 'T4' }] };
    expect(mergePolicy(policy, local).findings.map((f) => f.kind)).toContain('policy-changed');
  });
});

describe('capability tokens in a verdict', () => {
  const verdict: Verdict = {
    tier: 'T2',
    reasons: [
      { part: 'git push origin feature', tier: 'T2', rule: 'git-push', reason: 'publishes' },
      { part: 'ls', tier: 'T0', rule: 'ls', reason: 'read-only' },
    ],
    commands: [
      { argv: ['git', 'push', 'origin', 'feature'], tier: 'T2', part: 'git push origin feature' },
      { argv: ['ls'], tier: 'T0', part: 'ls' },
    ],
  };

  it('lowers a covered T2 part to T1', () => {
    const lifted = applyGrants(verdict, (argv) => (argv[1] === 'push' ? 'tok-1' : null));
    expect(lifted.tier).toBe('T1');
    expect(lifted.grants).toEqual(['tok-1']);
  });

  it('leaves T2 reasons the guard found itself (paths, escape hatches)', () => {
    const withPath: Verdict = { ...verdict, reasons: [...verdict.reasons, { part: 'git push origin feature', tier: 'T2', rule: null, reason: 'writes outside' }] };
    expect(applyGrants(withPath, () => 'tok-1').tier).toBe('T2');
  });

  it('never lowers T3 or T4', () => {
    const t3: Verdict = {
      tier: 'T3',
      reasons: [{ part: 'git push -f', tier: 'T3', rule: 'git-push-force', reason: 'rewrites' }],
      commands: [{ argv: ['git', 'push', '-f'], tier: 'T3', part: 'git push -f' }],
    };
    expect(applyGrants(t3, () => 'tok-1')).toMatchObject({ tier: 'T3', grants: [] });
  });
});
