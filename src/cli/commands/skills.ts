import { listSkills } from '../../agents/agentRegistry.js';
import { requireShard } from '../../shard/layout.js';
import type { Handler } from '../types.js';
import { answerOutcome, chatContext, streamTo } from './ask.js';

/** `^skills`: the skills of the effective codex: prompt workflows (runnable) and guides. */
export const list: Handler = async (inv) => {
  const skills = listSkills(requireShard(inv.cwd)).map(({ prompt: _p, ...fields }) => fields);
  const s = inv.style;
  const text = skills
    .map((k) => `${(k.kind === 'workflow' ? `^${k.name}` : k.name).padEnd(22)} ${(k.kind === 'workflow' ? `@${k.agent ?? 'default'}` : s.dim('guide')).padEnd(k.kind === 'workflow' ? 10 : 10 + (s.enabled ? 8 : 0))} ${k.description}`)
    .join('\n');
  return { data: { skills }, text: skills.length > 0 ? text : 'This shard has no skills (codex/skills/*.md).' };
};

/** `^review`, `^fix`, ... and `^skill NAME`: run a prompt workflow with its agent. */
export function runner(name: string | null): Handler {
  return async (inv) => {
    const [skillName, ...args] = name === null ? inv.args : [name, ...inv.args];
    const { runSkill } = await import('../../agents/skills.js');
    const { stream, onText } = streamTo(inv);
    const result = await chatContext(inv, (ctx) =>
      runSkill(ctx, { name: skillName as string, args, ref: inv.agent, fresh: inv.opts.new === true, overBudget: inv.opts['over-budget'] === true, ...(onText ? { onText } : {}) }),
    );
    return answerOutcome(inv, result, stream);
  };
}
