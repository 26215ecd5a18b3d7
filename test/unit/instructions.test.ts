import { describe, expect, it } from 'vitest';
import { contentHash, findBlock, renderInstructions, spliceBlock } from '../../src/core/instructions.js';

const input = { shard: 'web', laws: '# Laws\n\n- [law-a] Never leak keys.\n', principles: null, rules: '- [rule-b] Small PRs.', persona: { name: 'sonya', body: 'You are Sonya.' }, lessons: [{ id: 'l-1', title: 'Migrations', body: 'Run them first.' }] };

describe('instruction blocks', () => {
  const body = renderInstructions(input);

  it('renders the codex without its own titles, skips empty parts, and is deterministic', () => {
    expect(body).toBe(renderInstructions(input));
    expect(body).toContain('## Laws\n\n- [law-a] Never leak keys.');
    expect(body).not.toMatch(/^# Laws/m);
    expect(body).not.toContain('## Principles');
    expect(body).toContain('## Default persona: sonya\n\nYou are Sonya.');
    expect(body).toContain('### Migrations [l-1]\n\nRun them first.');
  });

  it('appends a block, replaces only the block, and tells stale from edited', () => {
    const first = spliceBlock('hand\n', body, 'AGENTS.md');
    expect(first.state).toBe('missing');
    expect(first.text.startsWith('hand\n\n<!-- agence:begin sha256=')).toBe(true);
    const around = `top\n${first.text}bottom\n`;
    expect(spliceBlock(around, body, 'AGENTS.md')).toEqual({ text: around, state: 'current' });
    const changed = renderInstructions({ ...input, rules: '- [rule-b] Smaller PRs.' });
    const next = spliceBlock(around, changed, 'AGENTS.md');
    expect(next.state).toBe('stale');
    expect(next.text.startsWith('top\nhand\n\n')).toBe(true);
    expect(next.text.endsWith('<!-- agence:end -->\nbottom\n')).toBe(true);
    expect(findBlock(next.text)).toMatchObject({ hash: contentHash(changed), body: changed });
    expect(spliceBlock(around.replace('Small PRs', 'Big PRs'), body, 'AGENTS.md').state).toBe('edited');
  });

  it('gives a .mdc rule its front matter, and refuses a block without its end', () => {
    expect(spliceBlock(null, body, '.cursor/rules/agence.mdc').text).toMatch(/^---\ndescription: .*\nglobs:\nalwaysApply: true\n---\n\n<!-- agence:begin/);
    expect(spliceBlock('no front matter\n', body, '.cursor/rules/agence.mdc').text.startsWith('---\n')).toBe(true);
    expect(() => spliceBlock('<!-- agence:begin sha256=0123456789abcdef -->\nx\n', body, 'CLAUDE.md')).toThrow('without "<!-- agence:end -->"');
  });
});
