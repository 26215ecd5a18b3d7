import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type CommandEntry, CommandsFileSchema, fillTemplate } from '../core/commandTemplate.js';
import { AgenceError } from '../core/errors.js';
import { firstIssue } from '../core/schemas.js';
import { appendLedger } from '../ledger/ledger.js';
import { readEffective } from '../shard/effectiveView.js';
import type { ShardPaths } from '../shard/layout.js';
import { listApprovals, requestApproval, useApproval } from './approvals.js';
import { grantCovering, useGrants } from './grants.js';
import { decideArgv, type GuardDecision, loadGuard, topReasons } from './guard.js';
import { appendCommandLog } from './guardLog.js';
import { settleBase } from './policySource.js';

/**
 * The `/` mode: run a command of the effective `codex/commands.json`, its template filled without
 * a shell, after the guard has classified the filled argv (never below the entry's own tier).
 * T0/T1 run; T2 runs after a person says yes (on a terminal) or once after `^approve <id>`;
 * T3/T4 never run. Every outcome goes to `nexus/logs/commands.jsonl` and the ledger.
 */

export async function readCommands(paths: ShardPaths): Promise<Record<string, CommandEntry>> {
  await settleBase(paths);
  const file = readEffective(paths, 'codex', 'commands.json');
  const parsed = CommandsFileSchema.safeParse(JSON.parse(file.content));
  if (!parsed.success) {
    throw new AgenceError('corrupt', `codex/commands.json is malformed (${firstIssue(parsed.error)})`, { file: file.sources.at(-1), fix: 'each command needs description, argv (a list of words) and tier T0..T4' });
  }
  return parsed.data.commands;
}

export interface RunRequest {
  name: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  actor: string;
  now: () => Date;
  /** Ask the person at the terminal; null when there is none (or an agent is acting). */
  ask: ((question: string) => boolean) | null;
  /** Collect the command's output (for --json) instead of passing the terminal through. */
  capture: boolean;
}

export type RunOutcome =
  | { status: 'ran'; decision: GuardDecision; name: string; argv: string[]; exit: number; durationMs: number; approval: string | null; stdout?: string; stderr?: string }
  | { status: 'approval-requested'; decision: GuardDecision; name: string; argv: string[]; approval: string }
  | { status: 'refused' | 'declined'; decision: GuardDecision; name: string; argv: string[] };

const sameArgv = (a: unknown, b: readonly string[]) => Array.isArray(a) && a.length === b.length && a.every((w, i) => w === b[i]);

/** A command's outcome: a line of commands.jsonl and, for one that ran, its end on the ledger (its start is there already). */
function record(paths: ShardPaths, outcome: RunOutcome, actor: string, now: Date): void {
  const { decision } = outcome;
  const ran = outcome.status === 'ran' ? { exit: outcome.exit, duration_ms: outcome.durationMs } : {};
  const approval = outcome.status === 'ran' || outcome.status === 'approval-requested' ? outcome.approval : null;
  appendCommandLog(paths, { command: outcome.name, argv: outcome.argv, tier: decision.tier, actor, outcome: outcome.status, ...ran, approval, grants: decision.grants }, now);
  const action = outcome.status === 'ran' ? 'command.exit' : 'command.run';
  appendLedger(paths, { actor, action, subject: outcome.argv.join(' '), tier: decision.tier, decision: outcome.status, data: { command: outcome.name, ...ran, approval, grants: decision.grants, reasons: topReasons(decision) } }, now);
}

/** The approved, unused request of this actor for exactly this argv, taken for its one use. */
function takeApproval(paths: ShardPaths, actor: string, argv: readonly string[], now: Date): string | null {
  for (const a of listApprovals(paths, 'approved')) {
    if (a.kind === 'command' && !a.used_at && a.requested_by === actor && sameArgv(a.data.argv, argv) && useApproval(paths, a.id, now)) return a.id;
  }
  return null;
}

function fileApproval(paths: ShardPaths, req: RunRequest, argv: string[], decision: GuardDecision): string {
  const pending = listApprovals(paths, 'pending').find((a) => a.kind === 'command' && a.requested_by === req.actor && sameArgv(a.data.argv, argv));
  if (pending) return pending.id;
  const id = `cmd-${randomBytes(5).toString('hex')}`;
  requestApproval(paths, { id, kind: 'command', subject: argv.join(' '), requestedBy: req.actor, data: { argv, command: req.name, args: req.args, cwd: req.cwd, tier: decision.tier, reasons: topReasons(decision) } }, req.now());
  return id;
}

export async function runValidated(paths: ShardPaths, req: RunRequest): Promise<RunOutcome> {
  const commands = await readCommands(paths);
  const entry = commands[req.name];
  if (!entry) {
    throw new AgenceError('not_found', `no validated command /${req.name}`, { fix: 'list them with `agence /` (they live in codex/commands.json)' });
  }
  const argv = fillTemplate(req.name, entry, req.args);
  const guard = await loadGuard({ cwd: req.cwd, env: req.env, mentionsCodex: argv.some((w) => w.includes('codex')) });
  const decision = await decideArgv(guard, argv, req.actor, entry.tier, req.env.AGENCE_AGENT ? grantCovering(paths, req.actor, req.now()) : null);
  const base = { decision, name: req.name, argv };
  let approval: string | null = null;
  if (decision.tier === 'T3' || decision.tier === 'T4') {
    const refused: RunOutcome = { ...base, status: 'refused' };
    record(paths, refused, req.actor, req.now());
    return refused;
  }
  if (decision.tier === 'T2') {
    approval = takeApproval(paths, req.actor, argv, req.now());
    if (approval === null && req.ask) {
      if (!req.ask(`${decision.tier}: run \`${argv.join(' ')}\`? (${topReasons(decision).join('; ')})`)) {
        const declined: RunOutcome = { ...base, status: 'declined' };
        record(paths, declined, req.actor, req.now());
        return declined;
      }
      approval = 'terminal';
    } else if (approval === null) {
      const requested: RunOutcome = { ...base, status: 'approval-requested', approval: fileApproval(paths, req, argv, decision) };
      record(paths, requested, req.actor, req.now());
      return requested;
    }
  }
  if (decision.grants.length > 0) useGrants(paths, decision.grants, req.now());
  // The decision is on the ledger before the command runs: a run that never returns (killed, or
  // killing agence) still left it. Its end follows, in commands.jsonl and the ledger.
  appendLedger(paths, { actor: req.actor, action: 'command.run', subject: argv.join(' '), tier: decision.tier, decision: 'allowed', data: { command: req.name, approval, grants: decision.grants, reasons: topReasons(decision) } }, req.now());
  const started = process.hrtime.bigint();
  const child = spawnSync(argv[0] as string, argv.slice(1), { cwd: req.cwd, env: req.env, stdio: req.capture ? ['ignore', 'pipe', 'pipe'] : 'inherit', encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const durationMs = Number((process.hrtime.bigint() - started) / 1_000_000n);
  const exit = child.error ? 127 : (child.status ?? 128 + (child.signal ? 15 : 0));
  const ran: RunOutcome = { ...base, status: 'ran', exit, durationMs, approval, ...(req.capture ? { stdout: child.stdout ?? '', stderr: child.stderr ?? '' } : {}) };
  record(paths, ran, req.actor, req.now());
  if (child.error) throw new AgenceError('not_found', `/${req.name}: ${argv[0]} could not be started (${(child.error as NodeJS.ErrnoException).code ?? child.error.message})`, { fix: `install ${argv[0]}, or fix the command in codex/commands.json` });
  return ran;
}
