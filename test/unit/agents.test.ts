import { describe, expect, it } from 'vitest';
import * as yaml from 'yaml';
import { callCost, modelFor, type ModelsFile, parsePersona, peersOf } from '../../src/core/agents.js';
import { AgenceError } from '../../src/core/errors.js';

const models: ModelsFile = {
  version: 1,
  models: {
    sonnet: { provider: 'anthropic', id: 'claude-sonnet-4-5', context_window: 200000, price: { input: 3, output: 15 } },
    'gpt-4o': { provider: 'openai', id: 'gpt-4o', context_window: 128000, price: { input: 2.5, output: 10 } },
  },
};
const persona = (front: string, body = 'You are Test.') => `---\n${front}\n---\n${body}\n`;

describe('personas', () => {
  it('parses front matter and body, with defaults', () => {
    const p = parsePersona(persona('name: tess\nmodel: sonnet\nprovider: anthropic'), 'codex/agents/tess.md', 'tess', yaml);
    expect(p).toMatchObject({ name: 'tess', model: 'sonnet', clearance: 'internal', context_window: 128000, prompt: 'You are Test.', capabilities: [] });
  });

  it('names the file and the problem when the front matter is broken', () => {
    const bad = (text: string) => {
      try {
        parsePersona(text, '.agence/codex/agents/tess.md', 'tess', yaml);
      } catch (error) {
        expect(error).toBeInstanceOf(AgenceError);
        return (error as AgenceError).line;
      }
      throw new Error('accepted');
    };
    expect(bad('no front matter')).toMatch(/tess\.md has no front matter/);
    expect(bad(persona('name: tess\nmodel: [sonnet'))).toMatch(/front matter of .*tess\.md is not YAML/);
    expect(bad(persona('name: tess\nprovider: anthropic'))).toMatch(/tess\.md is not a persona \(model:/);
    expect(bad(persona('name: tess\nmodel: sonnet\nprovider: x\nclearance: cosmic'))).toMatch(/clearance/);
    expect(bad(persona('name: other\nmodel: sonnet\nprovider: x'))).toMatch(/name: other, but its file name says tess/);
  });

  it('resolves the model: @agent.model wins, unknown aliases suggest the nearest', () => {
    const p = parsePersona(persona('name: tess\nmodel: sonnet\nprovider: anthropic'), 'f', 'tess', yaml);
    expect(modelFor(p, null, models)).toMatchObject({ provider: 'anthropic', id: 'claude-sonnet-4-5' });
    expect(modelFor(p, 'gpt-4o', models)).toMatchObject({ provider: 'openai', id: 'gpt-4o', alias: 'gpt-4o' });
    try {
      modelFor(p, 'gpt-4', models);
      throw new Error('accepted');
    } catch (error) {
      expect((error as AgenceError).line).toMatch(/unknown model alias "gpt-4" \(@tess.gpt-4\).*did you mean gpt-4o/);
    }
  });

  it('reads peers as aliases or weighted records', () => {
    const p = parsePersona(persona('name: peers\nmodel: consensus\nprovider: peers\npeers: [sonnet, {model: gpt-4o, weight: 2, temperature: 0.2}]'), 'f', 'peers', yaml);
    expect(peersOf(p)).toEqual([{ model: 'sonnet', weight: 1 }, { model: 'gpt-4o', weight: 2, temperature: 0.2 }]);
  });

  it('prices a call per million tokens', () => {
    expect(callCost({ input: 3, output: 15 }, 1000, 500)).toBeCloseTo(0.0105, 9);
    expect(callCost({ input: 0, output: 0 }, 1e6, 1e6)).toBe(0);
  });
});

describe('provider errors', () => {
  it('never carry the key, whole or masked', async () => {
    const { redact } = await import('../../src/llm/modelCall.js');
    expect(redact('Incorrect API key provided: sk-proj-****************abcd.', 'sk-proj-secret')).toBe('Incorrect API key provided: [key].');
    expect(redact('bad key sk-proj-secret here', 'sk-proj-secret')).toBe('bad key [key] here');
    // a key with no recognisable prefix is removed by name, on every path of providerError
    const { providerError } = await import('../../src/llm/modelCall.js');
    const target = { name: 'groq', kind: 'openai-compatible' as const, baseURL: 'https://api.example.com/v1', apiKey: 'plainkey0123456789abcdef', local: false };
    const generic = providerError(new Error('Headers.append: "Bearer plainkey0123456789abcdef" is an invalid header value'), target, 1000);
    const malformed = providerError(Object.assign(new Error('JSON parsing failed near plainkey0123456789abcdef'), { statusCode: 200 }), target, 1000);
    for (const e of [generic, malformed]) expect(e.line).not.toContain('plainkey0123456789abcdef');
  });
});

describe('skills', () => {
  const skill = (front: string, body = 'Review {{focus}} in {{input}}.') => `---\n${front}\n---\n${body}\n`;

  it('a skill with an agent, inputs or context is a workflow; one without is a guide', async () => {
    const { parseSkill } = await import('../../src/core/agents.js');
    expect(parseSkill(skill('name: r\ndescription: d\nagent: pilot'), 'f', 'r', yaml).kind).toBe('workflow');
    expect(parseSkill(skill('name: g\ndescription: d\ntriggers: [x]'), 'f', 'g', yaml).kind).toBe('guide');
    expect(() => parseSkill(skill('name: r\ndescription: d\ncontext: [{ git: "commit -m x" }]'), 'f.md', 'r', yaml)).toThrow(/not a read-only git command/);
    expect(() => parseSkill(skill('name: r\ndescription: d\ncontext: [{ shell: ls }]'), 'f.md', 'r', yaml)).toThrow(/f\.md is not a skill/);
  });

  it('fills {{input}} and named inputs; a required one missing is a usage error', async () => {
    const { parseSkill, renderSkill } = await import('../../src/core/agents.js');
    const s = parseSkill(skill('name: r\ndescription: d\ninputs: [{ name: focus, required: true }]'), 'f', 'r', yaml);
    expect(renderSkill(s, ['timing', 'x.ts'])).toBe('Review timing in timing x.ts.');
    expect(() => renderSkill(s, [])).toThrow(/\^r needs focus/);
  });
});

describe('conversation', () => {
  it('keeps the newest turns that fit and never starts the history with an answer', async () => {
    const { fitTurns, withTurns, conversationOf } = await import('../../src/core/agents.js');
    const turn = (role: 'user' | 'assistant', text: string) => ({ at: '2026-11-25T00:00:00.000Z', role, agent: 'sonya', text });
    const turns = [turn('user', 'aaaa'), turn('assistant', 'bbbb'), turn('user', 'cccc'), turn('assistant', 'dddd')];
    expect(fitTurns(turns, 100, (t) => t.length).map((t) => t.text)).toEqual(['aaaa', 'bbbb', 'cccc', 'dddd']);
    expect(fitTurns(turns, 12, (t) => t.length).map((t) => t.text)).toEqual(['cccc', 'dddd']);
    expect(fitTurns(turns, 3, (t) => t.length)).toEqual([]);
    const memory = withTurns({ other: 1 }, 's1', turns.slice(0, 2));
    expect(memory.other).toBe(1);
    expect(conversationOf(withTurns(memory, 's1', turns.slice(2)), 's1')).toHaveLength(4);
    expect(() => conversationOf({ conversation: [{ role: 'robot' }] }, 's1')).toThrow(/session s1 has a damaged conversation/);
  });
});

describe('what the model can reach', () => {
  it("runs the model's commands without provider keys in the environment", async () => {
    const { withoutKeys } = await import('../../src/agents/autonomous.js');
    const env = withoutKeys({ PATH: '/usr/bin', HOME: '/home/a', ANTHROPIC_API_KEY: 'k1', OPENAI_API_KEY: 'k2', GROQ_API_KEY: 'k3', GITHUB_TOKEN: 't', DB_PASSWORD: 'p' });
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/home/a' });
  });

  it('sends recall hits above internal to a local model only', async () => {
    const { sendableHits } = await import('../../src/agents/autonomous.js');
    const hits = [{ id: 'a', label: 'public' }, { id: 'b', label: 'internal' }, { id: 'c', label: 'secret' }, { id: 'd', label: 'top-secret' }];
    expect(sendableHits(hits, false).map((h) => h.id)).toEqual(['a', 'b']);
    expect(sendableHits(hits, true).map((h) => h.id)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('never reads HERMETIC or NEXUS files into a prompt', async () => {
    const { mkdtempSync, mkdirSync, realpathSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { insideRepo } = await import('../../src/agents/skills.js');
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'agence-skills-')));
    for (const dir of ['.agence/hermetic/keys', '.agence/nexus', 'src']) mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, '.agence/hermetic/keys/ledger-hmac.key'), 'secret\n');
    writeFileSync(join(root, '.agence/nexus/ledger.jsonl'), '{}\n');
    writeFileSync(join(root, 'src/a.ts'), 'export {};\n');
    expect(insideRepo(root, root, 'src/a.ts')).toBe(join(root, 'src/a.ts'));
    expect(() => insideRepo(root, root, '.agence/hermetic/keys/ledger-hmac.key')).toThrow(/never read into a prompt/);
    expect(() => insideRepo(root, join(root, 'src'), '../.agence/nexus/ledger.jsonl')).toThrow(/never read into a prompt/);
  });
});
