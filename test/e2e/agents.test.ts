import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agence, json, repo, sandbox } from './helpers.js';

const sb = sandbox();

describe('agent registry', () => {
  const dir = repo(sb, 'registry');
  agence(sb, dir, ['^init']);

  it('lists the personas of the effective codex with the default marked', () => {
    const run = agence(sb, dir, ['^agents', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const data = json<{ default: string; agents: { name: string; default: boolean; clearance: string }[] }>(run);
    expect(data.default).toBe('sonya');
    expect(data.agents.map((a) => a.name)).toEqual(['aiko', 'chad', 'claudia', 'olena', 'peers', 'pilot', 'ralph', 'sonya']);
    expect(data.agents.find((a) => a.name === 'olena')?.clearance).toBe('secret');
    expect(agence(sb, dir, ['^agents']).stdout).toMatch(/^sonya\*/m);
  });

  it('shows one persona with its model resolved through codex/models.yaml', () => {
    const run = agence(sb, dir, ['^agent', 'show', 'pilot']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/model\s+gpt-4o -> openai gpt-4o/);
    expect(run.stdout).toMatch(/You are Pilot/);
  });

  it('help for the chat and autonomous modes lists their options', () => {
    expect(agence(sb, dir, ['help', 'ask']).stdout).toMatch(/--new[\s\S]*--over-budget[\s\S]*--judge/);
    expect(agence(sb, dir, ['help', 'auto']).stdout).toMatch(/--steps N\s+at most N model steps/);
  });

  it('an unknown agent is a clear error with the nearest name', () => {
    const run = agence(sb, dir, ['^agent', 'show', 'sonia']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no agent @sonia.*did you mean @sonya/);
  });

  it('an edited persona or model table is read as edited, though their parse is cached in nexus/cache/', () => {
    const persona = join(dir, '.agence/codex/agents/pilot.md');
    const models = join(dir, '.agence/codex/models.yaml');
    const [personaBefore, modelsBefore] = [readFileSync(persona, 'utf8'), readFileSync(models, 'utf8')];
    expect(agence(sb, dir, ['^agent', 'show', 'pilot']).stdout).toMatch(/model\s+gpt-4o -> openai gpt-4o/);
    expect(JSON.parse(readFileSync(join(dir, '.agence/nexus/cache/parsed-persona-pilot.json'), 'utf8')).texts[0]).toBe(personaBefore);
    try {
      writeFileSync(persona, personaBefore.replace('model: gpt-4o', 'model: sonnet'));
      expect(agence(sb, dir, ['^agent', 'show', 'pilot']).stdout).toMatch(/model\s+sonnet -> anthropic claude-sonnet-4-5/);
      writeFileSync(models, modelsBefore.replace('id: claude-sonnet-4-5', 'id: claude-sonnet-9'));
      expect(agence(sb, dir, ['^agent', 'show', 'pilot']).stdout).toMatch(/model\s+sonnet -> anthropic claude-sonnet-9/);
      writeFileSync(models, modelsBefore.replace('version: 1', 'version: [1'));
      const run = agence(sb, dir, ['^agent', 'show', 'pilot']);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/models\.yaml/);
      // A cache that does not parse is only a cache.
      writeFileSync(models, modelsBefore);
      writeFileSync(join(dir, '.agence/nexus/cache/parsed-models.json'), '{ broken');
      expect(agence(sb, dir, ['^agent', 'show', 'pilot']).stdout).toMatch(/model\s+sonnet -> anthropic claude-sonnet-4-5/);
    } finally {
      writeFileSync(persona, personaBefore);
      writeFileSync(models, modelsBefore);
    }
  });

  it('a persona with broken front matter is named in the error', () => {
    const file = join(dir, '.agence/codex/agents/aiko.md');
    const before = readFileSync(file, 'utf8');
    writeFileSync(file, before.replace('model: haiku', 'model: [haiku'));
    try {
      const run = agence(sb, dir, ['^agents']);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/front matter of \.agence\/codex\/agents\/aiko\.md is not YAML/);
    } finally {
      writeFileSync(file, before);
    }
  });
});
