import { spawnSync } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';
import { appendLedger } from '../ledger/ledger.js';
import { decide, type Guard, type GuardDecision, topReasons } from './guard.js';

/**
 * `!bash`: a shell whose every line is classified before it runs. A line the guard lets through
 * runs in its own `bash -c` (argv, never a string of ours around it), so variables do not carry
 * over between lines; `cd DIR` on its own is done by the shell itself so the directory does.
 */

export interface ShellLine {
  line: string;
  decision: GuardDecision | null;
  outcome: 'ran' | 'refused' | 'declined' | 'cd';
  exit: number;
}

export interface ShellContext {
  guard: Guard;
  actor: string;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  /** A person's yes for a T2 line; null when there is no terminal. */
  ask: ((question: string) => Promise<boolean>) | null;
  /** Where the lines' output goes: the terminal, or stderr when stdout carries a JSON document. */
  stdout: 'inherit' | 2;
}

const CD = /^\s*cd(?:\s+([A-Za-z0-9_@%+,.:/=~-]+))?\s*$/;

export async function runShellLine(shell: ShellContext, line: string): Promise<ShellLine> {
  const { guard } = shell;
  const cd = CD.exec(line);
  if (cd) {
    const target = (cd[1] ?? '~').replace(/^~(?=\/|$)/, shell.env.HOME ?? '/');
    guard.ctx.cwd = isAbsolute(target) ? target : resolve(guard.ctx.cwd, target);
    return { line, decision: null, outcome: 'cd', exit: 0 };
  }
  const decision = await decide(guard, line, shell.actor);
  let outcome: ShellLine['outcome'] = 'ran';
  if (decision.tier === 'T3' || decision.tier === 'T4') outcome = 'refused';
  else if (decision.tier === 'T2') outcome = shell.ask && (await shell.ask(`${decision.tier}: run \`${line}\`? (${topReasons(decision).join('; ')})`)) ? 'ran' : shell.ask ? 'declined' : 'refused';
  const ledger = (action: string, verdict: string, data: Record<string, unknown>) => {
    if (guard.shard) appendLedger(guard.shard, { actor: shell.actor, action, subject: line, tier: decision.tier, decision: verdict, data: { ...data, reasons: topReasons(decision) } }, shell.now());
  };
  if (outcome !== 'ran') {
    ledger('shell.line', outcome, { exit: 2 });
    return { line, decision, outcome, exit: 2 };
  }
  // On the ledger before it runs (a line that kills the shell still left its decision), its exit after.
  ledger('shell.line', 'allowed', {});
  const child = spawnSync('bash', ['-c', line], { cwd: guard.ctx.cwd, env: shell.env, stdio: ['inherit', shell.stdout, 'inherit'] });
  const exit = child.status ?? 128;
  ledger('shell.exit', 'ran', { exit });
  return { line, decision, outcome, exit };
}
