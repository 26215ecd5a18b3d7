import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { batchArgv } from '../core/agentBatch.js';
import type { Persona } from '../core/agents.js';
import { AgenceError } from '../core/errors.js';
import { plainWords } from '../core/plainWords.js';
import { checkSequentId, type Contestant, type Measured, parseTestCounts, pickWinner, scoreTangent, sequentId, type SequentRecord, SequentRecordSchema } from '../core/tournament.js';
import { checkTangentName } from '../core/tangent.js';
import { agenceIdentity, execGit, git, gitMessage, isAncestor, resolveCommit, workTreeState } from '../git/git.js';
import type { ShardPaths } from '../shard/layout.js';
import type { SessionContext } from '../sessions/sessions.js';
import { formatJson, writeFileAtomic } from '../store/atomic.js';
import { readJsonFile } from '../store/files.js';
import { findExecutable } from './executable.js';
import { createTangent, currentBranch, destroyTangent } from './tangents.js';

/**
 * Sequents (docs/swarm-tangents.md): one tangent per agent from the same base commit, each agent
 * run without a person (its persona's batch command) in parallel, then the tournament: the judge
 * command in each tangent, the measurements, the scores of `core/tournament.ts`, the resultant.
 * The divergent record `organic/sequents/<id>.json` keeps it all; `pick` merges the chosen one.
 */

export interface SequentContext {
  paths: ShardPaths;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  /** Who runs the sequent (the person, or AGENCE_AGENT). */
  actor: string;
  notify: (message: string) => void;
  /** A spinner on stderr (TTY only) while agents and judges work; returns its stop. */
  progress: (label: string) => () => void;
  /** For the tangents' sessions (cwd is replaced by each tangent's folder). */
  sessions: SessionContext;
  monthlyBudget: number | undefined;
}

export interface RunInput {
  task: string;
  agents: string[];
  judge: string | null;
  timeoutMs: number;
  llmJudge: string | null;
}

const sequentsDir = (paths: ShardPaths) => join(paths.agence, 'organic', 'sequents');
const recordPath = (paths: ShardPaths, id: string) => join(sequentsDir(paths), `${checkSequentId(id)}.json`);
/** The record's path relative to the worktree root, for git and for the dirty check. */
const recordRel = (id: string) => `.agence/organic/sequents/${id}.json`;

export function readSequent(paths: ShardPaths, id: string): SequentRecord {
  const record = readJsonFile(recordPath(paths, id), SequentRecordSchema, { shown: recordRel(id), fix: `restore it from git (\`git checkout -- ${recordRel(id)}\`)` });
  if (!record) throw new AgenceError('not_found', `no sequent ${id} here`, { fix: '`agence ^sequent list` shows the sequents of this worktree' });
  return record;
}

export function listSequents(paths: ShardPaths): SequentRecord[] {
  const dir = sequentsDir(paths);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^\d{8}-\d{6}-[0-9a-f]{4}\.json$/.test(f))
    .sort()
    .map((f) => readSequent(paths, f.slice(0, -'.json'.length)));
}

/** The judge as an argv: plain words only (the guard's reader), so nothing a shell would do is hidden in it. */
export function judgeArgv(judge: string): string[] {
  const parsed = plainWords(judge);
  if (!parsed) {
    throw new AgenceError('usage', `--judge "${judge}" is not plain words (no quotes, pipes, redirections, variables or globs)`, { fix: 'put a complex judge in a script and name it: --judge "sh judge.sh"' });
  }
  return (parsed.parts[0] as { words: { text: string }[] }).words.map((w) => w.text);
}

/** The guard's word on the judge: T3/T4 never run, T2 only when a person asked for it. */
async function checkJudge(ctx: SequentContext, judge: string): Promise<{ tier: string; reasons: string[] }> {
  const { decide, loadGuard, topReasons } = await import('../guard/guard.js');
  const guard = await loadGuard({ cwd: ctx.paths.root, env: ctx.env, mentionsCodex: judge.includes('.agence') });
  const decision = await decide(guard, judge, ctx.actor);
  const reasons = topReasons(decision);
  const refused = decision.tier === 'T3' || decision.tier === 'T4' || (decision.tier === 'T2' && Boolean(ctx.env.AGENCE_AGENT));
  const { appendLedger } = await import('../ledger/ledger.js');
  appendLedger(ctx.paths, { actor: ctx.actor, action: 'sequent.judge', subject: judge, tier: decision.tier, decision: refused ? 'refused' : 'allowed', data: { reasons } }, ctx.now());
  if (refused) {
    throw new AgenceError('refused', `the guard classifies the judge "${judge}" as ${decision.tier} (${reasons.join('; ')})`, {
      fix: decision.tier === 'T2' ? 'an agent cannot start a T2 judge; a person can' : 'use a judge that only runs tests (npm test, pytest, ...)',
    });
  }
  return { tier: decision.tier, reasons };
}

interface Launched {
  exit: number | null;
  timedOut: boolean;
  error: string | null;
  durationMs: number;
  output: string;
}

/** Process groups running now, so an interrupted sequent stops its agents too. */
const liveGroups = new Set<number>();

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  try {
    if (pid) process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

/** While `work` runs, Ctrl-C (or a TERM) kills the agents' groups before agence exits. */
async function stoppingGroupsOnSignal<T>(notify: (message: string) => void, work: () => Promise<T>): Promise<T> {
  const stop = (signal: NodeJS.Signals) => {
    for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
    notify(`interrupted (${signal}): the agents were stopped; their tangents stay (\`agence ^tangent list\`)`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await work();
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/**
 * Run `argv` in its own process group, its output to `logFile` (or kept, for judges), and kill
 * the whole group at the timeout (TERM, then KILL two seconds later). When it ends, whatever it
 * left running in its group is killed too: a batch run leaves nothing behind.
 */
function runGroup(argv: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number, logFile: string | null): Promise<Launched> {
  return new Promise((resolveRun) => {
    const started = performance.now();
    const fd = logFile ? openSync(logFile, 'a') : null;
    const chunks: Buffer[] = [];
    let size = 0;
    const child = spawn(argv[0] as string, argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'] });
    const keep = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      while (size > 1 << 20 && chunks.length > 1) size -= (chunks.shift() as Buffer).length; // the tail holds the summary
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    if (child.pid) liveGroups.add(child.pid);
    let timedOut = false;
    let hard: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGTERM');
      hard = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 2000);
    }, timeoutMs);
    let error: string | null = null;
    let exit: number | null = null;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      if (child.pid) liveGroups.delete(child.pid);
      clearTimeout(timer);
      if (hard) clearTimeout(hard);
      if (fd !== null) closeSync(fd);
      resolveRun({ exit: timedOut ? null : exit, timedOut, error, durationMs: Math.round(performance.now() - started), output: Buffer.concat(chunks).toString('utf8') });
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code === 'ENOENT' ? `${argv[0]} is not installed or not on PATH` : e.message;
      finish();
    });
    child.on('exit', (code) => {
      exit = code;
      killGroup(child.pid, 'SIGKILL'); // what it left running in its group, which may also hold the pipes open
    });
    child.on('close', finish);
  });
}

interface Entrant {
  persona: Persona;
  argv: string[];
  tangent: string;
  branch: string;
  path: string;
  session: string;
}

/** Commit what the agent left uncommitted in its tangent, so the tournament (and pick) see it. */
async function commitLeftovers(path: string, agent: string, now: Date): Promise<boolean> {
  await git(['add', '-A', '--', '.'], { cwd: path });
  if ((await execGit(['diff', '--cached', '--quiet'], { cwd: path })).code === 0) return false;
  const env = { ...process.env, ...agenceIdentity(`${agent}@agence.invalid`, now) };
  await git(['commit', '--quiet', '--no-verify', '-m', `agence: what ${agent} left uncommitted`], { cwd: path, env });
  return true;
}

async function diffSize(cwd: string, base: string, head: string): Promise<Measured['diff']> {
  const out = await git(['diff', '--shortstat', '--no-ext-diff', base, head, '--'], { cwd });
  const n = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
  return { files: n(/(\d+) files? changed/), insertions: n(/(\d+) insertions?/), deletions: n(/(\d+) deletions?/) };
}

/** Model calls made in the tangent's session, from nexus/logs/llm-calls.jsonl. */
async function sessionCost(paths: ShardPaths, session: string): Promise<number> {
  const { readCalls } = await import('../llm/callLog.js');
  const total = readCalls(paths).calls.filter((c) => c.session === session && c.outcome !== 'refused').reduce((sum, c) => sum + c.cost, 0);
  return Math.round(total * 1e6) / 1e6;
}

/**
 * Guard refusals of the agent during its run: ledger entries by that actor (AGENCE_AGENT), within
 * the run's time, at T3/T4 or refused. Every guarded path (`!bash`, `/`, the Claude Code hook) writes one.
 */
async function refusalsOf(paths: ShardPaths, agent: string, from: string, to: string): Promise<number> {
  const { searchLedger } = await import('../ledger/ledgerRead.js');
  if (!existsSync(join(paths.nexus, 'ledger.jsonl'))) return 0;
  const { entries } = searchLedger(paths, { actor: agent, limit: Number.MAX_SAFE_INTEGER });
  return entries.filter((e) => e.ts >= from && e.ts <= to && (e.tier === 'T3' || e.tier === 'T4' || e.decision === 'refused' || e.decision === 'deny')).length;
}

const REVIEW_INSTRUCTIONS =
  'You review one candidate change for the task below. Judge whether it does the task, correctly and simply. Answer with JSON only: {"score": <0-10>, "summary": "<one or two sentences>"}.';

async function reviewChange(ctx: SequentContext, agent: string, task: string, diff: string): Promise<NonNullable<Measured['review']>> {
  const { routeAgent } = await import('../agents/agentRegistry.js');
  const { callModel, prepareModel, usageOf } = await import('../llm/modelCall.js');
  const { generateText } = await import('../llm/sdk.js');
  const routed = routeAgent(ctx.paths, { agent, model: null }, ctx.env);
  if (!routed.model) throw new AgenceError('usage', `--llm-judge ${agent} is a consensus persona`, { fix: 'name an agent with one model' });
  const prepared = await prepareModel(routed.model, ctx.env);
  const scope = { paths: ctx.paths, env: ctx.env, now: ctx.now, actor: ctx.actor, session: null, notify: ctx.notify, monthlyBudget: ctx.monthlyBudget, overBudget: false };
  const system = `${routed.persona.prompt}\n\n${REVIEW_INSTRUCTIONS}`;
  const messages = [{ role: 'user' as const, content: `Task: ${task}\n\nThe change (git diff, cut at 40000 characters):\n${diff.slice(0, 40_000)}` }];
  try {
    const { value } = await callModel(scope, prepared, { agent, purpose: 'review', system, messages, secretItems: [] }, async (signal) => {
      const result = await generateText({ model: prepared.model, system, messages, abortSignal: signal, maxRetries: prepared.settings.maxRetries });
      return { value: result.text, usage: usageOf(result.usage) };
    });
    const json = /\{[\s\S]*\}/.exec(value)?.[0];
    const parsed = json ? (JSON.parse(json) as { score?: unknown; summary?: unknown }) : null;
    if (!parsed || typeof parsed.score !== 'number' || parsed.score < 0 || parsed.score > 10) return { agent, score: null, summary: `the review was not {"score": 0-10, ...}: ${value.slice(0, 200)}` };
    return { agent, score: parsed.score, summary: typeof parsed.summary === 'string' ? parsed.summary : '' };
  } catch (error) {
    if (error instanceof AgenceError && error.code === 'refused') throw error; // labels and budget stop the sequent
    return { agent, score: null, summary: `review failed: ${error instanceof AgenceError ? error.message : (error as Error).message}` };
  }
}

export async function runSequent(ctx: SequentContext, input: RunInput): Promise<SequentRecord> {
  const { paths } = ctx;
  if (input.task.trim() === '') throw new AgenceError('usage', 'the task is empty', { fix: 'agence ^sequent run "what the agents should do" --agents a,b' });
  const names = input.agents.map((a) => a.trim()).filter((a) => a !== '');
  if (names.length === 0) throw new AgenceError('usage', '--agents names no agent', { fix: 'name them, comma separated: --agents aiko,ralph' });
  const twice = names.find((a, i) => names.indexOf(a) !== i);
  if (twice) throw new AgenceError('usage', `--agents names ${twice} twice`, { fix: 'each agent works one tangent of a sequent' });
  const { loadPersona } = await import('../agents/agentRegistry.js');
  const personas = names.map((name) => loadPersona(paths, name));
  const argvs = personas.map((p) => batchArgv(p, input.task));
  for (const [i, argv] of argvs.entries()) {
    const program = argv[0] as string;
    // A relative path is looked up in this worktree, whose files every tangent starts with.
    if (!findExecutable(program, ctx.env, paths.root)) {
      const persona = personas[i] as Persona;
      throw new AgenceError('not_found', `${program}, the batch command of agent ${persona.name}, is not installed or not on PATH`, { fix: `install it, or change batch: in ${persona.source}` });
    }
  }
  const judge = input.judge === null ? null : judgeArgv(input.judge);
  if (input.judge !== null && judge !== null) {
    const program = judge[0] as string;
    if (!findExecutable(program, ctx.env, paths.root)) throw new AgenceError('not_found', `${program}, the judge, is not installed or not on PATH`, { fix: 'install it, or name another --judge' });
    await checkJudge(ctx, input.judge);
  }
  if (input.llmJudge !== null) {
    const { routeAgent } = await import('../agents/agentRegistry.js');
    routeAgent(paths, { agent: input.llmJudge, model: null }, ctx.env);
  }
  const branch = await currentBranch(paths.root);
  if (!branch) throw new AgenceError('conflict', 'HEAD is detached: a sequent merges back onto a branch', { fix: 'switch to the branch the work should land on (`git switch main`)' });
  const base = await resolveCommit(paths.root, 'HEAD');
  if (!base) throw new AgenceError('conflict', `${branch} has no commit yet, so there is nothing to start the tangents from`, { fix: 'commit once, then run the sequent' });
  const started = ctx.now();
  const id = sequentId(started, randomBytes(2).toString('hex'));
  const tangentNames = names.map((agent) => checkTangentName(`seq-${id}-${agent}`));
  const dirty = (await workTreeState(paths.root)).dirty.length;
  if (dirty > 0) ctx.notify(`${dirty} uncommitted file${dirty === 1 ? '' : 's'} here stay out of the sequent: the tangents start from ${branch} at ${base.slice(0, 12)}`);

  const logDir = join(paths.nexus, 'logs', 'sequents', id);
  mkdirSync(logDir, { recursive: true });
  const entrants: Entrant[] = [];
  try {
    for (const [i, persona] of personas.entries()) {
      const tangent = tangentNames[i] as string;
      const { record, path } = await createTangent(ctx, { name: tangent, from: branch, at: base, agent: persona.name, task: input.task, sequent: id });
      entrants.push({ persona, argv: argvs[i] as string[], tangent, branch: record.branch, path, session: record.session as string });
    }
  } catch (error) {
    // No agent has started: the tangents made so far are empty and go again.
    for (const e of entrants) await destroyTangent(ctx, e.tangent, true);
    throw error;
  }
  ctx.notify(`sequent ${id}: ${entrants.length} agent${entrants.length === 1 ? '' : 's'} at work (logs in nexus/logs/sequents/${id}/)`);

  const working = ctx.progress(`sequent ${id}: ${entrants.length} agent${entrants.length === 1 ? '' : 's'} at work`);
  const runs = await stoppingGroupsOnSignal(ctx.notify, () =>
    Promise.all(
      entrants.map((e) => {
        const env = { ...ctx.env, AGENCE_AGENT: e.persona.name, AGENCE_SESSION: e.session, AGENCE_TANGENT: e.tangent, AGENCE_SEQUENT: id };
        return runGroup(e.argv, e.path, env, input.timeoutMs, join(logDir, `${e.persona.name}.log`));
      }),
    ),
  ).finally(working);
  const finished = ctx.now().toISOString();
  const judging = ctx.progress(`sequent ${id}: judging and measuring`);

  const measured: Measured[] = [];
  try {
    for (const [i, e] of entrants.entries()) {
      const run = runs[i] as Launched;
      const lost = !existsSync(join(e.path, '.git'));
      if (lost) {
        await git(['worktree', 'prune'], { cwd: paths.root });
        ctx.notify(`${e.persona.name} deleted its worktree; git forgot it, branch ${e.branch} is kept (\`agence ^doctor\` lists it)`);
      }
      const committed = lost ? false : await commitLeftovers(e.path, e.persona.name, ctx.now());
      const head = await resolveCommit(paths.root, `refs/heads/${e.branch}`);
      let judged: Measured['judge'] = null;
      if (judge && !lost && run.error === null) {
        const j = await runGroup(judge, e.path, ctx.env, input.timeoutMs, null);
        if (j.error) ctx.notify(`the judge did not start in ${e.tangent}: ${j.error}`);
        judged = { exit: j.exit, timed_out: j.timedOut, duration_ms: j.durationMs, tests: parseTestCounts(j.output) };
      }
      const diff = head ? await diffSize(paths.root, base, head) : { files: 0, insertions: 0, deletions: 0 };
      let review: Measured['review'] = null;
      if (input.llmJudge !== null && head && diff.files > 0) {
        const text = await git(['diff', '--no-color', '--no-ext-diff', base, head, '--'], { cwd: paths.root });
        review = await reviewChange(ctx, input.llmJudge, input.task, text);
      }
      measured.push({
        agent: e.persona.name,
        tangent: e.tangent,
        branch: e.branch,
        session: e.session,
        head: lost ? null : head,
        exit: run.exit,
        timed_out: run.timedOut,
        lost,
        error: run.error,
        duration_ms: run.durationMs,
        committed_leftovers: committed,
        judge: judged,
        diff,
        cost: await sessionCost(paths, e.session),
        refusals: await refusalsOf(paths, e.persona.name, started.toISOString(), finished),
        review,
      });
    }
  } finally {
    judging();
  }
  const tangents: Contestant[] = measured.map((m) => ({ ...m, score: scoreTangent(m, input.timeoutMs) }));
  const record: SequentRecord = {
    schema: 1,
    id,
    task: input.task,
    branch,
    base,
    judge,
    timeout_ms: input.timeoutMs,
    started: started.toISOString(),
    finished: ctx.now().toISOString(),
    tangents,
    winner: pickWinner(tangents),
    picked: null,
  };
  writeFileAtomic(recordPath(paths, id), formatJson(SequentRecordSchema.parse(record)));
  const { appendLedger } = await import('../ledger/ledger.js');
  appendLedger(paths, { actor: ctx.actor, action: 'sequent.run', subject: id, decision: record.winner ? 'resultant' : 'none', data: { winner: record.winner, scores: Object.fromEntries(tangents.map((t) => [t.tangent, t.score.total])) } }, ctx.now());
  return record;
}

export interface Picked {
  record: SequentRecord;
  tangent: Contestant;
  commit: string;
}

export async function pickSequent(ctx: SequentContext, id: string, chosen: string | null, squash: boolean): Promise<Picked> {
  const { paths } = ctx;
  const record = readSequent(paths, id);
  const name = chosen ?? record.winner;
  if (!name) throw new AgenceError('conflict', `sequent ${id} has no resultant (no tangent was eligible)`, { fix: `name one: agence ^sequent pick ${id} TANGENT (\`agence ^sequent show ${id}\`)` });
  const tangent = record.tangents.find((t) => t.tangent === name || t.agent === name);
  if (!tangent) throw new AgenceError('not_found', `sequent ${id} has no tangent ${name}`, { fix: `its tangents: ${record.tangents.map((t) => `${t.agent} (${t.tangent})`).join(', ')}` });
  if (!tangent.head) throw new AgenceError('conflict', `tangent ${tangent.tangent} has nothing to merge (its worktree was lost)`, { fix: 'pick another one' });
  const here = await currentBranch(paths.root);
  if (here !== record.branch) throw new AgenceError('conflict', `the sequent started from ${record.branch}, but ${here ?? 'a detached HEAD'} is checked out here`, { fix: `git switch ${record.branch}` });
  const state = await workTreeState(paths.root);
  const dirty = [...state.dirty, ...state.staged].filter((f) => !f.startsWith('.agence/organic/sequents/'));
  if (dirty.length > 0) throw new AgenceError('conflict', `the work tree has uncommitted changes (${dirty.slice(0, 3).join(', ')}${dirty.length > 3 ? ', ...' : ''})`, { fix: 'commit or stash them, then pick again' });
  if (await isAncestor(paths.root, tangent.head, 'HEAD')) throw new AgenceError('conflict', `${tangent.tangent} (${tangent.head.slice(0, 12)}) is already in ${record.branch}`, { fix: 'nothing to do' });
  const merged = await execGit(['merge', '--no-commit', squash ? '--squash' : '--no-ff', '--quiet', tangent.head], { cwd: paths.root });
  const undo = () => execGit(squash ? ['reset', '--merge'] : ['merge', '--abort'], { cwd: paths.root });
  if (merged.code !== 0) {
    await undo();
    throw new AgenceError('conflict', `${tangent.tangent} does not merge cleanly into ${record.branch}: ${gitMessage(merged.stderr || merged.stdout.toString('utf8'))}`, { fix: `merge it by hand: git merge ${tangent.branch}` });
  }
  const picked: SequentRecord = { ...record, picked: { tangent: tangent.tangent, squash, at: ctx.now().toISOString(), by: ctx.actor } };
  writeFileAtomic(recordPath(paths, id), formatJson(picked));
  const message = `agence: sequent ${id}: ${squash ? 'squash' : 'merge'} ${tangent.agent}'s tangent\n\nTask: ${record.task}\nScore: ${tangent.score.total} (${record.tangents.length} tangents, resultant ${record.winner ?? 'none'})\nBranch: ${tangent.branch}\n`;
  const committed = await execGit(['add', '--', recordRel(id)], { cwd: paths.root }).then((added) => (added.code === 0 ? execGit(['commit', '--quiet', '-m', message], { cwd: paths.root }) : added));
  if (committed.code !== 0) {
    await undo();
    writeFileAtomic(recordPath(paths, id), formatJson(record));
    throw new AgenceError('git', `the ${squash ? 'squashed' : 'merge'} commit failed: ${gitMessage(committed.stderr)}`, { fix: 'see what git (or a commit hook) said, then pick again' });
  }
  const commit = (await resolveCommit(paths.root, 'HEAD')) as string;
  const { appendLedger } = await import('../ledger/ledger.js');
  appendLedger(paths, { actor: ctx.actor, action: 'sequent.pick', subject: id, decision: squash ? 'squashed' : 'merged', data: { tangent: tangent.tangent, head: tangent.head, commit, winner: record.winner } }, ctx.now());
  return { record: picked, tangent, commit };
}
