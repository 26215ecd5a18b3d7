import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { classifyScript, type GuardContext, type ParseScript } from '../../src/core/commandGuard.js';
import { compilePolicy, type CompiledPolicy } from '../../src/core/guardPolicy.js';
import { tierRank } from '../../src/core/layering.js';
import type { Tier } from '../../src/core/schemas.js';
import { plainWords } from '../../src/core/plainWords.js';
import { bashParser, parseScript } from '../../src/guard/bashSyntax.js';

/**
 * The guard's corpus (test/fixtures/guardCorpus.json): destructive commands disguised every way
 * we know must come out at least at their tier; everyday read-only work must stay T0/T1, or the
 * guard asks about everything and nobody uses it. Classified with the built-in policy, in a
 * repository at /work/repo.
 */
const corpus = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/guardCorpus.json'), 'utf8')) as {
  safe: string[];
  risky: { command: string; min: Tier }[];
};
const ctx: GuardContext = { cwd: '/work/repo', repoRoot: '/work/repo', home: '/home/dev', isAdmin: false };
let policy: CompiledPolicy;
let parseBash: ParseScript;
let grammar: ParseScript;

beforeAll(async () => {
  policy = compilePolicy(parse(readFileSync(join(import.meta.dirname, '../../templates/codex/AIPOLICY.yaml'), 'utf8')), ['main', 'master']);
  const parser = await bashParser();
  grammar = (script) => parseScript(parser, script);
  // As the guard runs: plain words read directly, the rest by the grammar.
  parseBash = (script) => plainWords(script) ?? grammar(script);
});

const classify = (command: string) => classifyScript(command, policy, parseBash, ctx);
const explain = (command: string) => {
  const v = classify(command);
  return `${v.tier}: ${v.reasons.map((r) => `${r.tier} ${r.rule ?? ''} ${r.reason}`).join('; ')}`;
};

describe('guard corpus', () => {
  it('has at least 300 commands', () => {
    expect(corpus.safe.length + corpus.risky.length).toBeGreaterThanOrEqual(300);
  });

  it.each(corpus.safe)('everyday work runs: %s', (command) => {
    const verdict = classify(command);
    expect(tierRank(verdict.tier), explain(command)).toBeLessThanOrEqual(tierRank('T1'));
  });

  it.each(corpus.risky.map((e) => [e.command, e.min] as const))('held back: %s (at least %s)', (command, min) => {
    const verdict = classify(command);
    expect(tierRank(verdict.tier), explain(command)).toBeGreaterThanOrEqual(tierRank(min));
  });
});

describe('plain words without the grammar', () => {
  const extra = ['git status', '  npm   test  ', 'ls -la src/', 'kubectl -n kube-system get pods', 'git push --force origin main', 'x=1', 'FOO=1 ls', 'if', 'time ls', 'export FOO=bar', 'declare -x A=1', 'local x=2', 'readonly A=3', 'unset PATH', 'ls ~', 'ls *.ts', 'echo a#b', 'echo $HOME', "echo 'a'", 'a\tb', 'ls\nrm -rf /'];
  it.each([...corpus.safe, ...corpus.risky.map((e) => e.command), ...extra])('reads %j as the grammar does, or leaves it to the grammar', (command) => {
    const plain = plainWords(command);
    if (plain) expect(plain).toEqual(grammar(command));
  });

  it('leaves assignments, reserved words, expansions and newlines to the grammar', () => {
    for (const command of ['FOO=1 ls', 'time ls', 'ls ~', 'ls *.ts', 'echo $HOME', 'ls\nrm -rf /', "echo 'a'"]) expect(plainWords(command)).toBeNull();
    expect(plainWords('git status')?.parts[0]?.words.map((w) => w.text)).toEqual(['git', 'status']);
  });
});

describe('git push without a refspec pushes the checked-out branch', () => {
  const on = (branch: string) => (command: string) => classifyScript(command, policy, parseBash, { ...ctx, branch }).tier;
  it('is a force push to the default branch when main is checked out', () => {
    expect(on('main')('git push --force')).toBe('T4');
    expect(on('main')('git push -f origin')).toBe('T4');
    expect(on('main')('git push --force origin HEAD')).toBe('T4');
    expect(on('main')('git push origin')).toBe('T2');
  });
  it('is an ordinary force push elsewhere', () => {
    expect(on('feature')('git push --force')).toBe('T3');
    expect(on('feature')('git push --force origin feature')).toBe('T3');
    expect(on('feature')('git push --force origin main')).toBe('T4');
  });
});
