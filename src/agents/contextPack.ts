import type { Persona } from '../core/agents.js';
import { AgenceError } from '../core/errors.js';
import { labelRank } from '../core/knowledgeItem.js';
import { estimateTokens } from '../core/knowledgeText.js';
import type { Session } from '../core/session.js';
import type { ContextPack as KnowledgePack } from '../core/contextPack.js';
import { contextPack } from '../knowledge/contextPack.js';
import type { KnowledgeContext } from '../knowledge/knowledge.js';

/**
 * What a model is told before the question: the knowledge service's context pack (laws,
 * principles, rules, persona, session brief, lessons for the question, within a token budget),
 * read with the agent's clearance, as one system prompt, with the items it holds and their labels.
 */

export interface PackedItem {
  id: string;
  title: string;
  label: string;
}

export interface ChatPack {
  system: string;
  /** Estimated tokens of the system prompt. */
  tokens: number;
  parts: { kind: string; source: string; tokens: number }[];
  dropped: KnowledgePack['dropped'];
  items: PackedItem[];
  /** Items labelled secret or above (DESIGN §5). */
  secretItems: string[];
}

const HEADINGS: Record<string, string> = {
  laws: 'Laws (never broken)',
  principles: 'Principles',
  rules: 'Rules',
  persona: 'Your persona',
  session: 'The session you are working in',
  lesson: 'What this shard knows (cite the ids you rely on)',
};

/** The session brief the pack carries: task, todo with progress marks, the last notes. */
export function packSession(session: Session | null): Parameters<typeof contextPack>[1]['session'] {
  return (
    session && {
      id: session.session_id,
      task: session.metadata.task_description,
      todo: session.runstate.todo_list.map((t) => `[${t.status === 'done' ? 'x' : ' '}] ${t.title}`),
      notes: session.notes.slice(-3).map((n) => n.text),
    }
  );
}

export async function assembleContext(kctx: KnowledgeContext, persona: Persona, session: Session | null, question: string, budget: number): Promise<ChatPack> {
  const header = `You are ${persona.name}, working in the shard ${kctx.shardName} (org ${kctx.org}) through agence.`;
  const pack = await contextPack({ ...kctx, agent: persona.name }, { agent: persona.name, task: question, budget: budget - estimateTokens(header), session: packSession(session) });
  if (pack.overBudget) {
    throw new AgenceError('usage', `the prompt is about ${pack.tokens + estimateTokens(header)} tokens of context before any history; ${budget} are left for it`, {
      fix: 'shorten the question, or use a model with a larger window (@agent.model)',
    });
  }
  const blocks: string[] = [header];
  let kind = '';
  for (const section of pack.sections) {
    if (section.kind !== kind) blocks.push(`## ${HEADINGS[section.kind] ?? section.kind}`);
    kind = section.kind;
    blocks.push(section.kind === 'lesson' ? `### ${section.content}` : section.content);
  }
  const items = pack.sections.flatMap((s) => (s.item ? [{ id: s.item.id, title: s.title, label: s.item.label }] : []));
  const system = blocks.join('\n\n');
  return {
    system,
    tokens: estimateTokens(system),
    parts: pack.sections.map((s) => ({ kind: s.kind, source: s.source, tokens: s.tokens })),
    dropped: pack.dropped,
    items,
    secretItems: items.filter((i) => labelRank(i.label as never) >= labelRank('secret')).map((i) => i.id),
  };
}
