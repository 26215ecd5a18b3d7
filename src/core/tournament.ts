import * as z from './zod.js';
import { AgenceError } from './errors.js';
import { commitId } from './schemas.js';

/**
 * Sequents and their tournament: the divergent record (`organic/sequents/<id>.json`), the test
 * counts of common runners' summaries, and the score rules that pick the resultant. Pure: the
 * record holds every measurement, so `scoreTangent` over it replays the decision.
 */

const SEQUENT_ID_RE = /^\d{8}-\d{6}-[0-9a-f]{4}$/;

/** `20261125-021400-a3f9`: the start time (UTC) and four random hex digits; sorts by time. */
export function sequentId(now: Date, random: string): string {
  const iso = now.toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${random}`;
}

export function checkSequentId(id: string): string {
  if (!SEQUENT_ID_RE.test(id)) throw new AgenceError('usage', `"${id}" is not a sequent id`, { fix: 'ids look like 20261125-021400-a3f9; `agence ^sequent list` shows them' });
  return id;
}

export const TestCountsSchema = z.deferred(() => z.object({
  runner: z.string(),
  passed: z.int().check(z.nonnegative()),
  failed: z.int().check(z.nonnegative()),
  skipped: z.int().check(z.nonnegative()),
}));
export type TestCounts = z.infer<typeof TestCountsSchema>;

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

function count(text: string, re: RegExp): number | null {
  const m = re.exec(text);
  return m ? Number(m[1]) : null;
}

/**
 * Test counts from a runner's summary: vitest, jest, mocha, TAP (and node --test), pytest.
 * The last summary in the output wins (a runner may print progress lines first); null when
 * nothing matches, which scores as "no counts", never as zero tests passed.
 */
export function parseTestCounts(output: string): TestCounts | null {
  const text = output.replace(ANSI, '');
  const lines = text.split('\n');
  const lastLine = (re: RegExp) => [...lines].reverse().find((l) => re.test(l)) ?? null;
  // vitest: "      Tests  2 failed | 3 passed | 1 skipped (6)" (not the "Test Files" line)
  const vitest = lastLine(/^\s*Tests\s+\d+ (passed|failed|skipped|todo)/);
  if (vitest) return { runner: 'vitest', passed: count(vitest, /(\d+) passed/) ?? 0, failed: count(vitest, /(\d+) failed/) ?? 0, skipped: (count(vitest, /(\d+) skipped/) ?? 0) + (count(vitest, /(\d+) todo/) ?? 0) };
  // jest: "Tests:       1 failed, 2 skipped, 3 passed, 6 total"
  const jest = lastLine(/^\s*Tests:\s+.*\d+ total/);
  if (jest) return { runner: 'jest', passed: count(jest, /(\d+) passed/) ?? 0, failed: count(jest, /(\d+) failed/) ?? 0, skipped: (count(jest, /(\d+) skipped/) ?? 0) + (count(jest, /(\d+) todo/) ?? 0) };
  // pytest: "===== 1 failed, 3 passed, 2 skipped in 0.12s ====="
  const pytest = lastLine(/=+ .*\d+ (passed|failed|error).* in [\d.]+s.*=+/);
  if (pytest) return { runner: 'pytest', passed: count(pytest, /(\d+) passed/) ?? 0, failed: (count(pytest, /(\d+) failed/) ?? 0) + (count(pytest, /(\d+) errors?/) ?? 0), skipped: count(pytest, /(\d+) skipped/) ?? 0 };
  // mocha: "  3 passing (12ms)", "  1 failing", "  2 pending"
  const passing = count(text, /^\s*(\d+) passing\b/m);
  if (passing !== null) return { runner: 'mocha', passed: passing, failed: count(text, /^\s*(\d+) failing\b/m) ?? 0, skipped: count(text, /^\s*(\d+) pending\b/m) ?? 0 };
  // TAP and node --test: "# pass 3", "# fail 1", "# skip 0" (node's spec reporter: "ℹ pass 3")
  const tapPass = count(text, /^(?:#|ℹ)\s*pass\s+(\d+)/m);
  if (tapPass !== null) return { runner: 'tap', passed: tapPass, failed: count(text, /^(?:#|ℹ)\s*fail\s+(\d+)/m) ?? 0, skipped: (count(text, /^(?:#|ℹ)\s*skip\s+(\d+)/m) ?? 0) + (count(text, /^(?:#|ℹ)\s*todo\s+(\d+)/m) ?? 0) };
  return null;
}


export const ContestantSchema = z.deferred(() => z.object({
  agent: z.string(),
  tangent: z.string(),
  branch: z.string(),
  session: z.nullable(z.string()),
  /** The tangent's commit after the run (leftovers committed), null when its worktree was lost. */
  head: z.nullable(commitId()),
  /** The agent's exit code; null when it was killed (timeout) or could not start. */
  exit: z.nullable(z.int()),
  timed_out: z.boolean(),
  /** The agent deleted its own worktree. */
  lost: z.boolean(),
  /** Why the agent could not start, when it could not. */
  error: z.nullable(z.string()),
  duration_ms: z.int().check(z.nonnegative()),
  /** Whether agence committed what the agent left uncommitted. */
  committed_leftovers: z.boolean(),
  judge: z.nullable(z.object({ exit: z.nullable(z.int()), timed_out: z.boolean(), duration_ms: z.int(), tests: z.nullable(TestCountsSchema) })),
  diff: z.object({ files: z.int(), insertions: z.int(), deletions: z.int() }),
  cost: z.number().check(z.gte(0)),
  refusals: z.int().check(z.nonnegative()),
  /** A model's review (--llm-judge); score null when it failed or answered out of shape (summary says why). */
  review: z.nullable(z.object({ agent: z.string(), score: z.nullable(z.number().check(z.gte(0), z.lte(10))), summary: z.string() })),
  score: z.object({ total: z.number(), eligible: z.boolean(), reason: z.nullable(z.string()), parts: z.record(z.string(), z.number()) }),
}));
export type Contestant = z.infer<typeof ContestantSchema>;
export type Measured = Omit<Contestant, 'score'>;
export type Score = Contestant['score'];

/** `organic/sequents/<id>.json`: the divergent, enough to replay the decision. */
export const SequentRecordSchema = z.deferred(() => z.object({
  schema: z.literal(1),
  id: z.string().check(z.regex(SEQUENT_ID_RE)),
  task: z.string(),
  /** The starting branch, and the commit every tangent started from. */
  branch: z.string(),
  base: commitId(),
  judge: z.nullable(z.array(z.string())),
  timeout_ms: z.int().check(z.positive()),
  started: z.string(),
  finished: z.string(),
  tangents: z.array(ContestantSchema),
  /** The resultant: the tangent with the best score, null when none is eligible. */
  winner: z.nullable(z.string()),
  picked: z.nullable(z.object({ tangent: z.string(), squash: z.boolean(), at: z.string(), by: z.string() })),
}));
export type SequentRecord = z.infer<typeof SequentRecordSchema>;

/**
 * The score rules. A passing judge dominates everything else; test counts say how far a failing
 * one got; then the agent's own exit, guard refusals, and small penalties that prefer the
 * smaller, faster, cheaper change among otherwise equal ones. Each part is kept in the record.
 */
export const SCORE_RULES = {
  judgePass: 100,
  testsShare: 40,
  agentExit0: 10,
  timedOut: -20,
  perRefusal: -10,
  /** Per 50 changed lines, at most -10. */
  sizePer50Lines: -1,
  sizeFloor: -10,
  /** Per file touched, at most -5. */
  perFile: -0.5,
  filesFloor: -5,
  /** The share of the timeout used, times this. */
  time: -5,
  /** Per US dollar, at most -10. */
  perDollar: -10,
  costFloor: -10,
  /** Per point of a model's 0-10 review. */
  perReviewPoint: 3,
} as const;

// `|| 0`: a penalty that rounds to nothing is 0, not -0, which JSON would write as 0 and a replay of the record would then not match.
const round = (n: number) => Math.round(n * 100) / 100 || 0;

export function scoreTangent(t: Measured, timeoutMs: number): Score {
  const r = SCORE_RULES;
  if (t.lost) return { total: 0, eligible: false, reason: 'the agent deleted its worktree', parts: {} };
  if (t.error !== null) return { total: 0, eligible: false, reason: `the agent did not start (${t.error})`, parts: {} };
  if (t.diff.files === 0) return { total: 0, eligible: false, reason: 'no changes', parts: {} };
  const parts: Record<string, number> = {};
  if (t.judge) {
    parts.judge = t.judge.exit === 0 ? r.judgePass : 0;
    const tests = t.judge.tests;
    if (tests && tests.passed + tests.failed > 0) parts.tests = round((r.testsShare * tests.passed) / (tests.passed + tests.failed));
  }
  parts.exit = t.exit === 0 ? r.agentExit0 : 0;
  if (t.timed_out) parts.timeout = r.timedOut;
  if (t.refusals > 0) parts.refusals = r.perRefusal * t.refusals;
  parts.size = round(Math.max(r.sizeFloor, (r.sizePer50Lines * (t.diff.insertions + t.diff.deletions)) / 50));
  parts.files = Math.max(r.filesFloor, r.perFile * t.diff.files);
  parts.time = round(r.time * Math.min(1, t.duration_ms / timeoutMs));
  if (t.cost > 0) parts.cost = round(Math.max(r.costFloor, r.perDollar * t.cost));
  if (t.review && t.review.score !== null) parts.review = round(r.perReviewPoint * t.review.score);
  const total = round(Object.values(parts).reduce((a, b) => a + b, 0));
  return { total, eligible: true, reason: null, parts };
}

/** The resultant: the best eligible score; ties go to the smaller diff, then the faster run, then the name. */
export function pickWinner(contestants: readonly Contestant[]): string | null {
  const lines = (c: Contestant) => c.diff.insertions + c.diff.deletions;
  const ranked = contestants
    .filter((c) => c.score.eligible)
    .sort((a, b) => b.score.total - a.score.total || lines(a) - lines(b) || a.duration_ms - b.duration_ms || a.tangent.localeCompare(b.tangent));
  return ranked[0]?.tangent ?? null;
}
