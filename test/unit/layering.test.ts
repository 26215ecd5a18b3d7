import { describe, expect, it } from 'vitest';
import { parseItems, renderBlocks } from '../../src/core/codexItems.js';
import { mergeByName, mergeItems, mergeKindFor, mergeLaws, mergeOverride, mergePolicy, type Policy } from '../../src/core/layering.js';

const BASE_LAWS = `# Laws

Laws are monotonic.

- [law-no-secrets] Never commit secrets.
- [law-ledger] Ledger every decision.
  Even the boring ones.
`;

describe('parseItems', () => {
  it('splits items, continuation lines and free text', () => {
    const doc = parseItems(BASE_LAWS);
    expect(doc.problems).toEqual([]);
    expect(doc.blocks.map((b) => (b.kind === 'item' ? b.id : 'text'))).toEqual(['text', 'law-no-secrets', 'law-ledger']);
    expect(doc.blocks[2]).toMatchObject({ text: '- [law-ledger] Ledger every decision.\n  Even the boring ones.' });
  });

  it('reports duplicate and malformed ids with their line', () => {
    const doc = parseItems('- [a-1] one\n- [a-1] again\n- [Bad_Id] x\n');
    expect(doc.problems).toEqual([
      { line: 2, message: 'duplicate item id "a-1"' },
      { line: 3, message: expect.stringContaining('"Bad_Id"') },
    ]);
  });

  it('renders what it parsed', () => {
    expect(renderBlocks(parseItems(BASE_LAWS).blocks)).toBe(BASE_LAWS);
  });
});

describe('mergeKindFor', () => {
  it('picks the rule from the path inside the layer', () => {
    expect(mergeKindFor('codex', 'LAWS.md')).toBe('laws');
    expect(mergeKindFor('codex', 'RULES.md')).toBe('items');
    expect(mergeKindFor('codex', 'PRINCIPLES.md')).toBe('items');
    expect(mergeKindFor('codex', 'AIPOLICY.yaml')).toBe('policy');
    expect(mergeKindFor('codex', 'formtags.yaml')).toBe('by-name');
    expect(mergeKindFor('codex', 'agents/claudia.md')).toBe('override');
    expect(mergeKindFor('synthetic', 'LAWS.md')).toBe('override');
  });
});

describe('override', () => {
  it('local replaces base, either alone is itself', () => {
    expect(mergeOverride('base', 'local')).toMatchObject({ content: 'local', parts: [{ origin: 'local', note: 'replaces base' }] });
    expect(mergeOverride('base', null)).toMatchObject({ content: 'base', parts: [{ origin: 'base' }] });
    expect(mergeOverride(null, 'local')).toMatchObject({ content: 'local', parts: [{ origin: 'local' }] });
  });
});

describe('laws are monotonic', () => {
  it('adds local laws after all base laws', () => {
    const merged = mergeLaws(BASE_LAWS, '# Local laws\n\n- [law-local] No Fridays.\n');
    expect(merged.findings).toEqual([]);
    expect(merged.content).toContain('[law-no-secrets]');
    expect(merged.content).toContain('[law-ledger]');
    expect(merged.content.indexOf('[law-local]')).toBeGreaterThan(merged.content.indexOf('[law-ledger]'));
    expect(merged.content).not.toContain('# Local laws');
    expect(merged.parts.filter((p) => p.key).map((p) => [p.origin, p.key])).toEqual([
      ['base', 'law-no-secrets'],
      ['base', 'law-ledger'],
      ['local', 'law-local'],
    ]);
  });

  it('ignores and reports a local edit of a base law', () => {
    const merged = mergeLaws(BASE_LAWS, '- [law-no-secrets] Commit secrets when in a hurry.\n');
    expect(merged.content).toContain('Never commit secrets.');
    expect(merged.content).not.toContain('hurry');
    expect(merged.findings).toEqual([expect.objectContaining({ kind: 'law-edited', key: 'law-no-secrets' })]);
    expect(merged.parts.find((p) => p.key === 'law-no-secrets')).toMatchObject({ origin: 'base', note: 'local edit ignored' });
  });

  it('reports base laws dropped by a local copy, and keeps them', () => {
    const merged = mergeLaws(BASE_LAWS, '- [law-no-secrets] Never   commit\n  secrets.\n');
    expect(merged.findings).toEqual([expect.objectContaining({ kind: 'law-dropped', key: 'law-ledger' })]);
    expect(merged.content).toContain('[law-ledger]');
  });

  it('a restated law that only reflows is not an edit', () => {
    expect(mergeLaws(BASE_LAWS, BASE_LAWS).findings).toEqual([]);
  });
});

describe('principles and rules', () => {
  const base = '# Rules\n\n- [rule-a] A.\n- [rule-b] B.\n';
  it('base first, local additions after, same id replaces in place', () => {
    const merged = mergeItems(base, '- [rule-b] B, but stricter.\n- [rule-c] C.\n');
    expect(merged.content).toBe('# Rules\n\n- [rule-a] A.\n- [rule-b] B, but stricter.\n- [rule-c] C.\n');
    expect(merged.parts.filter((p) => p.key).map((p) => [p.key, p.origin, p.note ?? ''])).toEqual([
      ['rule-a', 'base', ''],
      ['rule-b', 'local', 'replaces base'],
      ['rule-c', 'local', ''],
    ]);
  });
});

describe('policy may only tighten', () => {
  const base: Policy = {
    version: 1,
    default_tier: 'T2',
    rules: [
      { id: 'git-push', command: 'git push', tier: 'T2' },
      { id: 'git', command: 'git', tier: 'T1' },
      { id: 'ls', command: 'ls', tier: 'T0' },
    ],
  };

  it('keeps base rules and appends local ones', () => {
    const merged = mergePolicy(base, { rules: [{ id: 'make', command: 'make', tier: 'T3' }] });
    expect(merged.findings).toEqual([]);
    expect(merged.policy.rules?.map((r) => r.id)).toEqual(['git-push', 'git', 'ls', 'make']);
  });

  it('never lets a new local rule put an uncovered command below the base default tier', () => {
    const merged = mergePolicy(base, { rules: [{ id: 'curl-ok', command: 'curl', tier: 'T0' }] });
    expect(merged.policy.rules?.find((r) => r.id === 'curl-ok')?.tier).toBe('T2');
    expect(merged.findings).toEqual([expect.objectContaining({ kind: 'policy-loosened', key: 'curl-ok' })]);
  });

  it('lets a shard word its own reason when it raises a tier', () => {
    const merged = mergePolicy(base, { rules: [{ id: 'ls', command: 'ls', tier: 'T1', reason: 'we log listings here' }] });
    expect(merged.findings).toEqual([]);
    expect(merged.policy.rules?.find((r) => r.id === 'ls')?.tier).toBe('T1');
  });

  it('lets a local rule raise a base tier', () => {
    const merged = mergePolicy(base, { rules: [{ id: 'ls', command: 'ls', tier: 'T1' }] });
    expect(merged.policy.rules?.find((r) => r.id === 'ls')?.tier).toBe('T1');
    expect(merged.parts.find((p) => p.key === 'ls')).toMatchObject({ origin: 'local', note: 'raises base T0' });
  });

  it('ignores a local rule that lowers a base tier', () => {
    const merged = mergePolicy(base, { rules: [{ id: 'git-push', command: 'git push', tier: 'T0' }] });
    expect(merged.policy.rules?.find((r) => r.id === 'git-push')?.tier).toBe('T2');
    expect(merged.findings).toEqual([expect.objectContaining({ kind: 'policy-loosened', key: 'git-push' })]);
  });

  it('ignores a local change of what a base rule matches', () => {
    const merged = mergePolicy(base, { rules: [{ id: 'git-push', command: 'git pushx', tier: 'T3' }] });
    expect(merged.policy.rules?.find((r) => r.id === 'git-push')).toEqual({ id: 'git-push', command: 'git push', tier: 'T3' });
    expect(merged.findings.map((f) => f.kind)).toEqual(['policy-changed']);
  });

  it('raises a new local rule to the tier of the base rules covering its command', () => {
    const merged = mergePolicy(base, { rules: [{ id: 'push-ok', command: 'git push origin', tier: 'T0' }] });
    expect(merged.policy.rules?.find((r) => r.id === 'push-ok')?.tier).toBe('T2');
    expect(merged.findings).toEqual([expect.objectContaining({ kind: 'policy-loosened', key: 'push-ok' })]);
    // a base rule for another subcommand does not cover it
    expect(mergePolicy(base, { rules: [{ id: 'st', command: 'git status', tier: 'T1' }] }).findings).toEqual([]);
  });

  it('never lowers the default tier', () => {
    const merged = mergePolicy(base, { default_tier: 'T0' });
    expect(merged.policy.default_tier).toBe('T2');
    expect(merged.findings).toEqual([expect.objectContaining({ key: 'default_tier' })]);
    expect(mergePolicy(base, { default_tier: 'T3' }).policy.default_tier).toBe('T3');
  });
});

describe('merge by name', () => {
  it('merges maps by key and lists by id/name/email, local wins', () => {
    const merged = mergeByName(
      { version: 1, classes: { '100': { title: 'Base' }, '200': { title: 'Two' } }, admins: [{ email: 'a@x', name: 'A' }] },
      { classes: { '100': { title: 'Local' }, '300': { title: 'Three' } }, admins: [{ email: 'b@x' }, { email: 'a@x', name: 'A2' }] },
    );
    expect(merged.value).toEqual({
      version: 1,
      classes: { '100': { title: 'Local' }, '200': { title: 'Two' }, '300': { title: 'Three' } },
      admins: [{ email: 'a@x', name: 'A2' }, { email: 'b@x' }],
    });
    expect(merged.parts.find((p) => p.key === 'classes.100')).toMatchObject({ origin: 'local', note: 'replaces base' });
    expect(merged.parts.find((p) => p.key === 'classes.200')).toMatchObject({ origin: 'base' });
  });
});
