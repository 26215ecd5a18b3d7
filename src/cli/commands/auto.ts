import type { AutoEvent } from '../../agents/autonomous.js';
import { AgenceError } from '../../core/errors.js';
import type { GuardDecision } from '../../guard/guard.js';
import { terminalAsk, writeFd } from '../output.js';
import type { Handler, Invocation } from '../types.js';
import { chatContext } from './ask.js';
import { decisionText } from './guard.js';

const DEFAULT_STEPS = 20;

function eventText(inv: Invocation, e: AutoEvent): string {
  const s = inv.style;
  switch (e.type) {
    case 'plan':
      return `${s.bold('Plan')}\n${e.text}\n`;
    case 'command': {
      const paint = e.decision === 'ran' || e.decision === 'approved' ? s.green : s.red;
      return `${paint(`${e.tier} ${e.decision}`)} $ ${e.command}${e.exit !== undefined ? s.dim(` (exit ${e.exit ?? 'none'})`) : ''}${e.decision === 'refused' || e.decision === 'denied' ? s.dim(`  ${e.reasons.join('; ')}`) : ''}`;
    }
    case 'tool':
      return s.dim(`${e.name}: ${e.summary}`);
    case 'text':
      return e.text;
  }
}

/** A T2 command: ask the person at the terminal, else nobody can say yes. */
function confirmer(inv: Invocation): ((d: GuardDecision) => Promise<boolean>) | null {
  const ask = terminalAsk(inv.env, inv.json);
  return ask && (async (decision) => ask(`${decisionText(decision, inv.style)}\nRun it?`));
}

/** `agence +"task"` (`agence auto "task"`): plan, then guarded steps with tools. */
export const run: Handler = async (inv) => {
  const task = inv.args.join(' ').trim();
  if (task === '') throw new AgenceError('usage', 'the task is empty', { fix: 'agence +"make the failing login test pass"' });
  const steps = inv.opts.steps === undefined ? DEFAULT_STEPS : Number(inv.opts.steps);
  if (!Number.isInteger(steps) || steps < 1 || steps > 200) throw new AgenceError('usage', `--steps ${String(inv.opts.steps)} is not a step limit`, { fix: 'give a whole number from 1 to 200' });
  const { runAutonomous } = await import('../../agents/autonomous.js');
  const result = await chatContext(inv, (ctx) =>
    runAutonomous(ctx, {
      task,
      ref: inv.agent,
      fresh: inv.opts.new === true,
      overBudget: inv.opts['over-budget'] === true,
      maxSteps: steps,
      confirm: confirmer(inv),
      onEvent: (e) => {
        if (!inv.json && e.type !== 'text') writeFd(1, `${eventText(inv, e)}\n`);
      },
    }),
  );
  const text = result.finished ? `\n${result.answer}` : '';
  return {
    data: result,
    text,
    ...(result.finished ? {} : { exit: 1, problem: `stopped after ${result.steps} steps (the step limit) with the task unfinished; resume with a new +"..." or raise --steps` }),
  };
};
