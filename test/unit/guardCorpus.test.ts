import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { classifyScript, type GuardContext, type ParseScript } from '../../src/core/commandGuard.js';
import { compilePolicy, type CompiledPolicy } from '../../src/core/guardPolicy.js';
import { tierRank } from '../../src/core/layering.js';
import type { Tier } from '../../src/core/schemas.js';
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

beforeAll(async () => {
  policy = compilePolicy(parse(readFileSync(join(import.meta.dirname, '../../templates/codex/AIPOLICY.yaml'), 'utf8')), ['main', 'master']);
  const parser = await bashParser();
  parseBash = (script) => parseScript(parser, script);
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
