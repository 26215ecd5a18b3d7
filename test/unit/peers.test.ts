import { describe, expect, it } from 'vitest';
import { consensusOf, type PeerOutcome, parsePeerAnswer } from '../../src/agents/peers.js';

const peer = (model: string, weight: number, answer?: string, confidence = 1): PeerOutcome => ({
  model,
  weight,
  temperature: null,
  ok: answer !== undefined,
  cost: 0,
  ...(answer !== undefined ? { answer: { answer, confidence, reasoning: '' } } : { error: 'failed' }),
});

describe('peer consensus', () => {
  it('weighs answers by weight x confidence, grouping the same answer told differently', () => {
    const c = consensusOf([peer('a', 1, 'Use SQLite', 0.5), peer('b', 1, 'use sqlite!', 0.5), peer('c', 3, 'Use Postgres', 0.9)]);
    expect(c).toMatchObject({ answer: 'Use Postgres', verdict: 'split', supporters: ['c'] });
    expect(c.agreement).toBeCloseTo(2.7 / 3.7, 3);
    expect(consensusOf([peer('a', 1, 'Yes'), peer('b', 1, 'yes.')]).verdict).toBe('agree');
    expect(consensusOf([peer('a', 1, 'Yes'), peer('b', 1, 'yes'), peer('c', 1, 'No')]).verdict).toBe('majority');
    expect(consensusOf([peer('a', 1, 'Yes'), peer('b', 1)]).verdict).toBe('split');
    expect(() => consensusOf([peer('a', 1), peer('b', 1)])).toThrow(/no peer gave a valid answer/);
  });

  it('validates replies: JSON first, then the shape', () => {
    expect(parsePeerAnswer('```json\n{"answer":"x","confidence":0.5,"reasoning":"r"}\n```')).toEqual({ answer: 'x', confidence: 0.5, reasoning: 'r' });
    expect(() => parsePeerAnswer('I think x')).toThrow(/invalid JSON/);
    expect(() => parsePeerAnswer('{"answer":"x","confidence":7,"reasoning":"r"}')).toThrow(/out of shape \(confidence/);
  });
});
