import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agence, json, repo, sandbox } from './helpers.js';

const TARGETS = ['AGENTS.md', 'CLAUDE.md', '.github/copilot-instructions.md', '.cursor/rules/agence.mdc'];

interface RegenOut {
  check: boolean;
  files: { target: string; state: string; written: boolean }[];
}

describe('^regen', () => {
  const box = sandbox();
  const dir = repo(box, 'regen');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');

  it('writes the effective CODEX into the four files, keeping hand-written text around the block', () => {
    expect(agence(box, dir, ['^init']).code).toBe(0);
    expect(agence(box, dir, ['^learn', 'Run the migrations before the tests', '--title', 'Migrations first']).code).toBe(0);
    expect(agence(box, dir, ['~learn', 'My private shortcut for deploys', '--title', 'Private shortcut']).code).toBe(0);
    writeFileSync(join(dir, 'AGENTS.md'), '# Our agents\n\nWritten by hand, above the block.\n');

    const run = agence(box, dir, ['^regen', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(json<RegenOut>(run).files.map((f) => [f.target, f.state, f.written])).toEqual(TARGETS.map((t) => [t, 'missing', true]));

    const agents = read('AGENTS.md');
    expect(agents.startsWith('# Our agents\n\nWritten by hand, above the block.\n\n<!-- agence:begin sha256=')).toBe(true);
    for (const part of ['## Laws', '[law-no-secrets]', '## Principles', '## Rules', '## Default persona: sonya', 'You are Sonya', '### Migrations first', '`agence ^mcp`']) expect(agents).toContain(part);
    // Versioned files: nothing private (hermetic), no persona front matter, no time.
    expect(agents).not.toContain('Private shortcut');
    expect(agents).not.toContain('clearance:');
    expect(agents).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
    expect(read('.cursor/rules/agence.mdc').startsWith('---\ndescription: ')).toBe(true);
    expect(read('.cursor/rules/agence.mdc')).toContain('alwaysApply: true\n---\n\n<!-- agence:begin');
    expect(read('CLAUDE.md')).toBe(agents.slice(agents.indexOf('<!-- agence:begin')));

    const check = agence(box, dir, ['^regen', '--check']);
    expect(check.code, check.stderr).toBe(0);
    const again = agence(box, dir, ['^regen', '--json']);
    expect(json<RegenOut>(again).files.every((f) => f.state === 'current' && !f.written)).toBe(true);
  });

  it('--check fails after a codex change, naming the files, and passes after ^regen; text after the block survives', () => {
    appendFileSync(join(dir, 'AGENTS.md'), '\n## Below the block\n\nAlso by hand.\n');
    const handAbove = read('AGENTS.md').split('<!-- agence:begin')[0] as string;
    appendFileSync(join(dir, '.agence/codex/RULES.md'), '\n- [rule-changelog] Every user-visible change gets a line in CHANGELOG.md.\n');

    const check = agence(box, dir, ['^regen', '--check', '--json']);
    expect(check.code).toBe(1);
    expect(json<RegenOut>(check).files.map((f) => f.state)).toEqual(['stale', 'stale', 'stale', 'stale']);
    expect(check.stderr).toContain('4 instruction files are out of date: AGENTS.md, CLAUDE.md, .github/copilot-instructions.md, .cursor/rules/agence.mdc');
    expect(read('CLAUDE.md')).not.toContain('rule-changelog'); // --check writes nothing

    expect(agence(box, dir, ['^regen']).code).toBe(0);
    const agents = read('AGENTS.md');
    expect(agents).toContain('[rule-changelog]');
    expect(agents.startsWith(handAbove)).toBe(true);
    expect(agents.endsWith('<!-- agence:end -->\n\n## Below the block\n\nAlso by hand.\n')).toBe(true);
    expect(agence(box, dir, ['^regen', '--check']).code).toBe(0);
  });

  it('says when the block was edited by hand, and puts it back', () => {
    writeFileSync(join(dir, 'CLAUDE.md'), read('CLAUDE.md').replace('## Laws', '## Laws (my edit)'));
    const check = agence(box, dir, ['^regen', '--check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('out of date: CLAUDE.md (edited by hand inside the block)');
    expect(agence(box, dir, ['^regen']).code).toBe(0);
    expect(read('CLAUDE.md')).not.toContain('(my edit)');
  });

  it('writes only the targets agence.json names', () => {
    const manifest = JSON.parse(read('.agence/agence.json'));
    writeFileSync(join(dir, '.agence/agence.json'), JSON.stringify({ ...manifest, instructions: { targets: ['AGENTS.md'] } }, null, 2));
    appendFileSync(join(dir, '.agence/codex/RULES.md'), '- [rule-small-prs] Keep pull requests small.\n');
    const run = agence(box, dir, ['^regen', '--json']);
    expect(json<RegenOut>(run).files.map((f) => f.target)).toEqual(['AGENTS.md']);
    expect(read('AGENTS.md')).toContain('rule-small-prs');
    expect(read('CLAUDE.md')).not.toContain('rule-small-prs');
  });

  it('refuses a target agence.json does not know, and a block without its end marker (file untouched)', () => {
    const manifest = JSON.parse(read('.agence/agence.json'));
    writeFileSync(join(dir, '.agence/agence.json'), JSON.stringify({ ...manifest, instructions: { targets: ['README.md'] } }, null, 2));
    const bad = agence(box, dir, ['^regen']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('agence.json');
    writeFileSync(join(dir, '.agence/agence.json'), JSON.stringify(manifest, null, 2));

    const torn = read('AGENTS.md').replace('<!-- agence:end -->', '');
    writeFileSync(join(dir, 'AGENTS.md'), torn);
    const run = agence(box, dir, ['^regen']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('AGENTS.md has "<!-- agence:begin" without "<!-- agence:end -->"');
    expect(read('AGENTS.md')).toBe(torn);
  });
});
