import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Persona } from '../core/agents.js';
import { AgenceError } from '../core/errors.js';
import { labelRank, splitFrontMatter } from '../core/knowledgeItem.js';
import { ftsQuery } from '../core/knowledgeText.js';
import { todoProgress, type Session } from '../core/session.js';
import { type KnowledgeContext, recall } from '../knowledge/knowledge.js';
import { readEffective } from '../shard/effectiveView.js';

/**
 * What a model is told before the question (DESIGN "single shard chat"): the shard's laws,
 * principles and rules (effective view), the persona, the session brief, and the lessons the
 * shard has on the question, within the agent's context budget. Lessons come from the knowledge
 * service's recall (BM25 over the index, with the agent's clearance).
 */

export interface PackedItem {
  id: string;
  title: string;
  label: string;
  type: string;
}

export interface ContextPack {
  system: string;
  /** Size of each part, in characters, for `--json` and the benchmark. */
  parts: { name: string; chars: number }[];
  items: PackedItem[];
  /** Items labelled secret or above (DESIGN §5). */
  secretItems: string[];
}

/** About four characters per token: a planning estimate, not the provider's count. */
export const estimateTokens = (text: string): number => Math.ceil(text.length / 4);

const LESSONS_SHARE = 0.25;
const LESSONS_MAX_TOKENS = 8000;
const LESSONS_WANTED = 8;

function codexFile(kctx: KnowledgeContext, file: string): string | null {
  try {
    return readEffective(kctx.shard, 'codex', file).content.trim();
  } catch (error) {
    if (error instanceof AgenceError && error.code === 'not_found') return null;
    throw error;
  }
}

function personaSection(persona: Persona): string {
  const lines = [persona.prompt];
  if (persona.constraints.length > 0) lines.push('', 'Your constraints:', ...persona.constraints.map((c) => `- ${c}`));
  if (persona.handoff_rules.length > 0) lines.push('', 'When to hand off:', ...persona.handoff_rules.map((c) => `- ${c}`));
  return lines.join('\n');
}

function sessionBrief(session: Session): string {
  const todo = todoProgress(session.runstate.todo_list);
  const lines = [`Session ${session.session_id} (${session.status.toLowerCase()})${session.metadata.task_description ? `: ${session.metadata.task_description}` : ''}`];
  if (todo.total > 0) {
    lines.push(`Todo (${todo.done}/${todo.total} done):`, ...session.runstate.todo_list.map((t) => `- [${t.status === 'done' ? 'x' : ' '}] ${t.title}`));
  }
  const notes = session.notes.slice(-5);
  if (notes.length > 0) lines.push('Recent notes:', ...notes.map((n) => `- ${n.at.slice(0, 10)} ${n.author}: ${n.text}`));
  if (session.git.branch) lines.push(`Branch ${session.git.branch}${session.git.dirty.length > 0 ? `, ${session.git.dirty.length} changed files` : ''}`);
  return lines.join('\n');
}

async function lessonsFor(kctx: KnowledgeContext, question: string, budgetTokens: number): Promise<{ text: string; items: PackedItem[] }> {
  if (!ftsQuery(question, 'any')) return { text: '', items: [] };
  const found = await recall(kctx, question, { limit: LESSONS_WANTED * 2 });
  const items: PackedItem[] = [];
  const blocks: string[] = [];
  let used = 0;
  for (const hit of found.hits) {
    if (hit.layer.endsWith('codex') || items.length >= LESSONS_WANTED) continue;
    const root = hit.layer === 'hermetic' || hit.layer === 'nexus' ? kctx.shard.mainRoot : kctx.shard.root;
    const text = readFileSync(join(root, hit.path), 'utf8');
    const body = (splitFrontMatter(text)?.body ?? text).trim();
    const block = `### ${hit.title} [${hit.id}, ${hit.type}, ${hit.label}]\n${body}`;
    if (used + estimateTokens(block) > budgetTokens) continue;
    used += estimateTokens(block);
    blocks.push(block);
    items.push({ id: hit.id, title: hit.title, label: hit.label, type: hit.type });
  }
  return { text: blocks.join('\n\n'), items };
}

export async function assembleContext(kctx: KnowledgeContext, persona: Persona, session: Session | null, question: string, windowTokens: number): Promise<ContextPack> {
  const sections: { name: string; text: string }[] = [];
  const add = (name: string, heading: string, text: string | null) => {
    if (text) sections.push({ name, text: `## ${heading}\n\n${text}` });
  };
  add('persona', `You are ${persona.name}`, personaSection(persona));
  add('laws', 'Laws (never broken)', codexFile(kctx, 'LAWS.md'));
  add('principles', 'Principles', codexFile(kctx, 'PRINCIPLES.md'));
  add('rules', 'Rules', codexFile(kctx, 'RULES.md'));
  add('session', 'The session you are working in', session ? sessionBrief(session) : null);
  const lessons = await lessonsFor(kctx, question, Math.min(LESSONS_MAX_TOKENS, Math.floor(windowTokens * LESSONS_SHARE)));
  add('lessons', 'What this shard knows on the question (cite ids you rely on)', lessons.text);
  const system = [`You are working in the shard ${kctx.shardName} (org ${kctx.org}) through agence.`, ...sections.map((s) => s.text)].join('\n\n');
  return {
    system,
    parts: sections.map((s) => ({ name: s.name, chars: s.text.length })),
    items: lessons.items,
    secretItems: lessons.items.filter((i) => labelRank(i.label as never) >= labelRank('secret')).map((i) => i.id),
  };
}
