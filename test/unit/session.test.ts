import fc from 'fast-check';
import * as z from 'zod/mini';
import { describe, expect, it } from 'vitest';
import {
  allowedEvents,
  assertSessionId,
  nextSessionId,
  parseSessionRef,
  type Session,
  SESSION_STATUSES,
  type SessionEvent,
  SessionSchema,
  todoProgress,
  transition,
} from '../../src/core/session.js';
import { parseDuration, parseWhen } from '../../src/core/time.js';

const EVENTS: SessionEvent[] = ['save', 'resume', 'handoff', 'done', 'reopen', 'archive'];

describe('session lifecycle', () => {
  it('walks the whole transition table: allowed events move, the others are refused with the allowed ones', () => {
    const expected: Record<string, Record<string, string>> = {
      CREATED: { save: 'SAVED' },
      SAVED: { save: 'SAVED', resume: 'ACTIVE', handoff: 'TRANSFERRED', done: 'COMPLETED' },
      ACTIVE: { save: 'SAVED', resume: 'ACTIVE', handoff: 'TRANSFERRED', done: 'COMPLETED' },
      TRANSFERRED: { archive: 'ARCHIVED' },
      COMPLETED: { reopen: 'SAVED', archive: 'ARCHIVED' },
      ARCHIVED: {},
    };
    for (const status of SESSION_STATUSES) {
      expect(allowedEvents(status).sort()).toEqual(Object.keys(expected[status] as object).sort());
      for (const event of EVENTS) {
        const to = expected[status]?.[event];
        if (to) expect(transition(status, event)).toBe(to);
        else expect(() => transition(status, event, 'x')).toThrow(new RegExp(`session x is ${status} and cannot be`));
      }
    }
  });

  it('says what a completed session can do instead of resuming', () => {
    expect(() => transition('COMPLETED', 'resume', '69a8f74c')).toThrow(/cannot be resumed/);
    try {
      transition('COMPLETED', 'resume', '69a8f74c');
    } catch (error) {
      expect((error as { fix: string }).fix).toBe('from COMPLETED it can be: reopened (^session reopen), archived (^session archive)');
    }
  });
});

describe('session ids', () => {
  it('are the Unix time in 8 hex digits, or the next free value', () => {
    const now = new Date(0x69a8f74c * 1000);
    expect(nextSessionId(now, null)).toBe('69a8f74c');
    expect(nextSessionId(now, '69a8f74c')).toBe('69a8f74d');
    expect(nextSessionId(now, '00000001')).toBe('69a8f74c');
    expect(nextSessionId(new Date(5000), null)).toBe('00000005');
  });

  it('may be named shard:id, for this shard only', () => {
    expect(parseSessionRef('69a8f74c', 'web')).toBe('69a8f74c');
    expect(parseSessionRef('web:69a8f74c', 'web')).toBe('69a8f74c');
    expect(() => parseSessionRef('api:69a8f74c', 'web')).toThrow(/belongs to shard api/);
    expect(() => parseSessionRef('web:../x', 'web')).toThrow(/is not a session id/);
  });

  it('from outside are validated before they touch a path', () => {
    expect(assertSessionId('69a8f74c')).toBe('69a8f74c');
    for (const bad of ['../x', '69A8F74C', '69a8f74', '69a8f74cc', '', '69a8f74c/..']) expect(() => assertSessionId(bad)).toThrow(/is not a session id/);
  });
});

describe('todo progress and times', () => {
  it('counts steps', () => {
    expect(todoProgress([])).toEqual({ done: 0, total: 0, step: 0 });
    const t = (status: 'done' | 'pending') => ({ id: '1', title: 't', status });
    expect(todoProgress([t('done'), t('done'), t('pending')])).toEqual({ done: 2, total: 3, step: 3 });
  });

  it('parses durations and dates', () => {
    const now = new Date('2026-11-24T12:00:00Z');
    expect(parseDuration('30d', '--older-than')).toBe(30 * 86_400_000);
    expect(parseWhen('7d', '--since', now)).toBe('2026-11-17T12:00:00.000Z');
    expect(parseWhen('2026-11-01', '--since', now)).toBe('2026-11-01T00:00:00.000Z');
    expect(parseWhen('2026-11-01T09:30:00Z', '--since', now)).toBe('2026-11-01T09:30:00.000Z');
    expect(() => parseWhen('2026-13-45', '--since', now)).toThrow(/is not a date/);
    expect(() => parseDuration('soon', '--older-than')).toThrow(/is not a duration/);
  });
});

const text = fc.string({ unit: 'binary', maxLength: 80 });
const isoTime = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
const session: fc.Arbitrary<Session> = fc.record({
  session_id: fc.stringMatching(/^[0-9a-f]{8}$/),
  rev: fc.integer({ min: 1, max: 1_000_000 }),
  created_at: isoTime,
  updated_at: isoTime,
  status: fc.constantFrom(...SESSION_STATUSES),
  agent: text,
  runstate: fc.record({
    agent_context: text,
    execution_stack: fc.array(text, { maxLength: 3 }),
    memory_state: fc.dictionary(text.filter((k) => k !== '__proto__'), fc.jsonValue({ maxDepth: 2 })),
    cursor_position: fc.option(fc.record({ file: text, line: fc.option(fc.nat()) })),
    todo_list: fc.array(fc.record({ id: fc.string({ minLength: 1, maxLength: 5 }), title: text, status: fc.constantFrom('pending', 'in_progress', 'done') }), { maxLength: 5 }),
  }),
  metadata: fc.record({ task_description: text, repo: text, priority: fc.constantFrom('low', 'normal', 'high', 'urgent'), tags: fc.array(text, { maxLength: 3 }) }),
  git: fc.record({ branch: fc.option(text), head: fc.option(text), dirty: fc.array(text, { maxLength: 3 }), staged: fc.array(text, { maxLength: 3 }) }),
  cwd: text,
  notes: fc.array(fc.record({ at: isoTime, author: text, text }), { maxLength: 3 }),
  shell_history: fc.array(text, { maxLength: 3 }),
  lineage: fc.record({ parent: fc.option(text), from_shard: fc.option(text), from_agent: fc.option(text), to_agent: fc.option(text), handoff_note: fc.option(text) }),
}) as fc.Arbitrary<Session>;

describe('session record codec', () => {
  it('round-trips every valid record through one JSON line', () => {
    fc.assert(
      fc.property(session, (s) => {
        const line = JSON.stringify(SessionSchema.parse(s));
        expect(line.includes('\n')).toBe(false);
        expect(SessionSchema.parse(JSON.parse(line))).toEqual(JSON.parse(JSON.stringify(s)));
      }),
      { numRuns: 200 },
    );
  });

  it('never lets a "__proto__" key of a stored record reach an object prototype', () => {
    fc.assert(
      fc.property(session, (s) => {
        const hostile = JSON.parse(JSON.stringify(s)) as Session;
        // What JSON.parse makes of a stored `"__proto__": {...}`: an own property of that name.
        Object.defineProperty(hostile.runstate.memory_state, '__proto__', { value: { polluted: true }, enumerable: true });
        const parsed = SessionSchema.parse(hostile);
        expect(Object.hasOwn(parsed.runstate.memory_state, '__proto__')).toBe(false);
        expect(Object.getPrototypeOf(parsed.runstate.memory_state)).toBe(Object.prototype);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 20 },
    );
  });

  it('rejects a record with a bad id, status, rev or time', () => {
    fc.assert(
      fc.property(
        session,
        fc.constantFrom<[string, unknown]>(['session_id', '../x'], ['status', 'RUNNING'], ['rev', 0], ['rev', 1.5], ['updated_at', 'yesterday'], ['notes', 'n']),
        (s, [key, value]) => {
          expect(SessionSchema.safeParse({ ...s, [key]: value }).success).toBe(false);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('is published as JSON Schema in docs/', async () => {
    await expect(`${JSON.stringify(z.toJSONSchema(SessionSchema), null, 2)}\n`).toMatchFileSnapshot('../../docs/session.schema.json');
  });
});
