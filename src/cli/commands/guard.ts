import type { GuardDecision } from '../../guard/guard.js';
import type { Style } from '../output.js';
import type { Handler } from '../types.js';

const TIER_WORDS: Record<string, string> = { T0: 'run', T1: 'run and log', T2: 'needs human approval', T3: 'blocked', T4: 'never' };

export function decisionText(d: GuardDecision, style: Style): string {
  const paint = d.tier === 'T0' || d.tier === 'T1' ? style.green : d.tier === 'T2' ? style.yellow : style.red;
  const lines = [`${paint(d.tier)} ${TIER_WORDS[d.tier]}: ${d.command}`];
  for (const r of d.reasons) lines.push(`  ${r.tier} ${r.rule ? `[${r.rule}] ` : ''}${r.reason}${r.part !== d.command ? style.dim(`  (in: ${r.part.split('\n')[0]})`) : ''}`);
  if (d.grants.length > 0) lines.push(`  capability token${d.grants.length > 1 ? 's' : ''}: ${d.grants.join(', ')}`);
  return lines.join('\n');
}

/** `^guard check "<command>"`: the tier and the reasons, without running anything. */
export const run: Handler = async (inv) => {
  const command = inv.args[0] as string;
  const { loadGuard, decide } = await import('../../guard/guard.js');
  const guard = await loadGuard({ cwd: inv.cwd, env: inv.env, mentionsCodex: command.includes('codex') });
  const actor = inv.env.AGENCE_AGENT || 'user';
  const decision = decide(guard, command, actor);
  return { data: decision, text: decisionText(decision, inv.style) };
};
