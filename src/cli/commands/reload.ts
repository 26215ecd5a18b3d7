import { AgenceError } from '../../core/errors.js';
import { NAME_RE } from '../../core/schemas.js';
import { contextPack } from '../../knowledge/contextPack.js';
import { currentSession } from '../../sessions/sessions.js';
import { readManifest } from '../../shard/manifest.js';
import type { Handler, Invocation, Outcome } from '../types.js';
import { text, withKnowledge } from '../knowledgeContext.js';
import { sessionContext } from '../sessionContext.js';

export const run: Handler = async (inv) => {
  const budgetText = text(inv.opts.budget) ?? '8000';
  const budget = Number(budgetText);
  if (!Number.isInteger(budget) || budget < 100 || budget > 10_000_000) throw new AgenceError('usage', `--budget "${budgetText}" is not a number of tokens from 100 to 10000000`);
  return packOutcome(inv, budget);
};

/**
 * The context pack for the agent of `inv` (--agent, @agent, AGENCE_AGENT, the shard default),
 * with the active session's brief unless the caller prints the brief itself (`withSession: false`).
 */
export async function packOutcome(inv: Invocation, budget: number, withSession = true): Promise<Outcome> {
  const { ctx: sessions } = await sessionContext(inv);
  const agent = text(inv.opts.agent) ?? inv.agent?.agent ?? (inv.env.AGENCE_AGENT || readManifest(sessions.shard).default_agent);
  if (!NAME_RE.test(agent)) throw new AgenceError('usage', `--agent "${agent}" is not an agent name`, { fix: 'give a persona name from codex/agents/, e.g. sonya' });
  const session = withSession ? currentSession(sessions) : null;
  const pack = await withKnowledge(inv, (ctx) =>
    contextPack(
      // The pack is read with the clearance of the agent it is for.
      { ...ctx, agent },
      {
        agent,
        task: text(inv.opts.task) ?? null,
        budget,
        session: session && {
          id: session.session_id,
          task: session.metadata.task_description,
          todo: session.runstate.todo_list.map((t) => `[${t.status === 'done' ? 'x' : ' '}] ${t.title}`),
          notes: session.notes.slice(-3).map((n) => n.text),
        },
      },
    ),
  );
  const out = pack.sections.map((s) => `<!-- ${s.kind}: ${s.source} (~${s.tokens} tokens) -->\n${s.content}`);
  out.push(`<!-- context pack for ${pack.agent}: ~${pack.tokens} of ${pack.budget} tokens${pack.dropped.length ? `; dropped ${pack.dropped.length} least relevant (${pack.dropped.map((d) => d.kind).join(', ')})` : ''} -->`);
  return {
    data: pack,
    text: out.join('\n\n'),
    ...(pack.overBudget ? { problem: `the laws alone (~${pack.tokens} tokens) exceed --budget ${pack.budget}; they are never dropped` } : {}),
  };
}
