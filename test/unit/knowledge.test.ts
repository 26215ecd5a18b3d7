import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as yaml from 'yaml';
import { type PackSection, trimToBudget } from '../../src/core/contextPack.js';
import { AgenceError } from '../../src/core/errors.js';
import { canRead, ITEM_ID_RE, type Item, itemFieldsFrom, linksIn, newItemId, parseItem, renderItem, splitFrontMatter } from '../../src/core/knowledgeItem.js';
import { estimateTokens, formtagMatches, formtagParent, formtagSubtree, ftsQuery, similarity, contentWords, suggestFormtag } from '../../src/core/knowledgeText.js';

const YAML = { parse: (t: string) => yaml.parse(t), stringify: (v: unknown) => yaml.stringify(v) };

const item: Item = {
  id: 'l-tp16my-sm1b6',
  type: 'lesson',
  title: 'TLS: renew early',
  formtag: '420.3',
  tags: ['tls'],
  label: 'internal',
  author: 'a@example.com',
  session: null,
  commit: null,
  files: ['src/a.ts:12'],
  related: [],
  supersedes: [],
  superseded_by: null,
  created: '2026-11-24T00:00:00.000Z',
  updated: '2026-11-24T00:00:00.000Z',
};

describe('item files', () => {
  it('render then parse gives the same item and body', () => {
    const text = renderItem(item, 'Body with [[l-other]].\n', YAML);
    const parsed = parseItem(text, 'x.md', YAML);
    expect(parsed.item).toEqual(item);
    expect(parsed.body).toBe('Body with [[l-other]].\n');
    expect(text.split('\n')[parsed.bodyLine - 1]).toBe('Body with [[l-other]].');
    expect(linksIn(parsed.body)).toEqual(['l-other']);
  });

  it('names the file when front matter is missing, not YAML, not a mapping or not valid', () => {
    const cases = ['no front matter\n', '---\nid: [unclosed\n---\nbody\n', '---\n- a list\n---\nbody\n', '---\nid: x\n---\nbody\n'];
    const messages = cases.map((text) => {
      try {
        parseItem(text, 'lessons/bad.md', YAML);
        return 'parsed';
      } catch (error) {
        expect(error).toBeInstanceOf(AgenceError);
        return (error as AgenceError).message;
      }
    });
    expect(messages[0]).toMatch(/lessons\/bad.md has no front matter/);
    expect(messages[1]).toMatch(/front matter of lessons\/bad.md is not YAML/);
    expect(messages[2]).toMatch(/not a mapping/);
    expect(messages[3]).toMatch(/not valid/);
  });

  it("a document's own front matter: any valid subset of the fields, else a usage error naming it", () => {
    expect(itemFieldsFrom({ title: 'T', tags: ['a'], formtag: 420.3 }, 'doc.md')).toEqual({ title: 'T', tags: ['a'], formtag: '420.3' });
    expect(() => itemFieldsFrom({ tags: 42 }, 'doc.md')).toThrow(/front matter of doc.md is not valid/);
    expect(() => itemFieldsFrom(['x'], 'doc.md')).toThrow(/not a mapping/);
  });

  it('splits front matter only at a closing --- line', () => {
    expect(splitFrontMatter('---\na: 1\n---\n')).toEqual({ yaml: 'a: 1', body: '', bodyLine: 4 });
    expect(splitFrontMatter('text\n---\n')).toBeNull();
  });

  it('ids are short, valid and differ in the same second', () => {
    const now = new Date('2026-11-24T12:00:00Z');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 5, maxLength: 5 }), (bytes) => {
        const id = newItemId('lesson', now, bytes);
        expect(id).toMatch(ITEM_ID_RE);
        expect(id.length).toBeLessThanOrEqual(16);
      }),
    );
    expect(newItemId('lesson', now, Uint8Array.from([1, 2, 3, 4, 5]))).not.toBe(newItemId('lesson', now, Uint8Array.from([1, 2, 3, 4, 6])));
  });

  it('labels: read up to the clearance, never above', () => {
    expect(canRead('internal', 'public')).toBe(true);
    expect(canRead('internal', 'internal')).toBe(true);
    expect(canRead('internal', 'secret')).toBe(false);
    expect(canRead('top-secret', 'secret')).toBe(true);
  });
});

describe('query building', () => {
  it('leaves no FTS syntax in what a person typed', () => {
    expect(ftsQuery('"dns" timeout', 'all')).toBe('"dns" "timeout"');
    expect(ftsQuery('better-sqlite3 NEAR cert*', 'any')).toBe('"better sqlite3" OR "near" OR "cert"');
    expect(ftsQuery('- * " ( ) :', 'all')).toBeNull();
    fc.assert(
      fc.property(fc.string(), (input) => {
        const q = ftsQuery(input, 'all');
        if (q !== null) expect(q).toMatch(/^"[\p{L}\p{N}_ ]+"(?: "[\p{L}\p{N}_ ]+")*$/u);
      }),
    );
  });
});

describe('formtags', () => {
  it('prefixes: 4 is 400-499, 42 is 420-429, 420.3 is 420.3 and below', () => {
    expect(['400', '420', '420.3', '499'].every((c) => formtagMatches('4', c))).toBe(true);
    expect(formtagMatches('4', '500')).toBe(false);
    expect(formtagMatches('42', '420.3')).toBe(true);
    expect(formtagMatches('42', '430')).toBe(false);
    expect(formtagMatches('420.3', '420.3')).toBe(true);
    expect(formtagMatches('420.3', '420.31')).toBe(true);
    expect(formtagMatches('420.3', '420.1')).toBe(false);
    expect(formtagMatches('420.3', '420')).toBe(false);
  });

  it('a class covers its subtree: 400 is 4xx, 420 is 42x, 420.3 is 420.3x', () => {
    expect(formtagSubtree('400')).toBe('4');
    expect(formtagSubtree('420')).toBe('42');
    expect(formtagSubtree('000')).toBe('0');
    expect(formtagSubtree('420.3')).toBe('420.3');
  });

  it('parents make a tree', () => {
    expect(formtagParent('420.31')).toBe('420.3');
    expect(formtagParent('420.3')).toBe('420');
    expect(formtagParent('420')).toBe('400');
    expect(formtagParent('425')).toBe('420');
    expect(formtagParent('400')).toBeNull();
  });

  it('suggests the class whose keywords the text uses most, deeper on ties', () => {
    const classes = [
      { code: '420', title: 'Networking', keywords: ['tls', 'dns'] },
      { code: '420.3', title: 'TLS', keywords: ['tls', 'certificate'] },
      { code: '310', title: 'SQL', keywords: ['sql'] },
    ];
    expect(suggestFormtag('The TLS certificate expired', classes)?.code).toBe('420.3');
    expect(suggestFormtag('TLS only', classes)?.code).toBe('420.3');
    expect(suggestFormtag('nothing relevant', classes)).toBeNull();
  });
});

describe('similarity and tokens', () => {
  it('is 1 for the same words and 0 for none shared', () => {
    expect(similarity(contentWords('renew the certificate'), contentWords('certificate renew'))).toBe(1);
    expect(similarity(contentWords('dns'), contentWords('tls'))).toBe(0);
  });
  it('estimates about four characters a token, rounded up', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcde')).toBe(2);
  });
});

describe('context packs', () => {
  const section = (kind: PackSection['kind'], title: string, tokens: number): PackSection => ({ kind, title, source: title, content: '', tokens });
  const sections = [section('laws', 'laws', 100), section('principles', 'p', 50), section('rules', 'r', 50), section('persona', 'sonya', 40), section('session', 's', 20), section('lesson', 'best', 30), section('lesson', 'worst', 30)];

  it('keeps everything within the budget', () => {
    expect(trimToBudget('sonya', 1000, null, sections)).toMatchObject({ tokens: 320, dropped: [], overBudget: false });
  });

  it('drops the least relevant first: the last lessons, then the brief, rules, principles, persona; never the laws', () => {
    expect(trimToBudget('sonya', 290, null, sections).dropped.map((d) => d.title)).toEqual(['worst']);
    expect(trimToBudget('sonya', 240, null, sections).dropped.map((d) => d.title)).toEqual(['worst', 'best', 's']);
    expect(trimToBudget('sonya', 100, null, sections).sections.map((s) => s.kind)).toEqual(['laws']);
    const tooSmall = trimToBudget('sonya', 10, null, sections);
    expect(tooSmall.sections.map((s) => s.kind)).toEqual(['laws']);
    expect(tooSmall.overBudget).toBe(true);
  });
});
