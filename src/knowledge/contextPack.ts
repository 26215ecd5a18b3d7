import { AgenceError } from '../core/errors.js';
import { canRead } from '../core/knowledgeItem.js';
import { type ContextPack, type PackSection, trimToBudget } from '../core/contextPack.js';
import { estimateTokens, ftsQuery } from '../core/knowledgeText.js';
import { type KnowledgeContext, openIndex, visibility } from './knowledge.js';
import { search, visibleItems } from './knowledgeIndex.js';

/**
 * The context pack (`^reload`): what an agent loads at the start of a session, in the order it
 * matters: laws, principles, rules, the persona, the active session's brief, then lessons for the
 * task, most relevant first, then the code chunks (OBJECTCODE) for the task. Over the budget, the
 * least relevant goes first: code, then the last lessons,
 * then the brief's notes, the rules, principles, persona; laws are never dropped (a pack that
 * cannot hold them says so). The same service is meant for chat, MCP and instruction files.
 */

export interface PackOptions {
  agent: string;
  task: string | null;
  budget: number;
  /** The active session's brief, from the sessions service (null when there is none). */
  session: { id: string; task: string; todo: string[]; notes: string[] } | null;
}

async function codexSection(ctx: KnowledgeContext, kind: 'laws' | 'principles' | 'rules' | 'persona', path: string): Promise<PackSection | null> {
  try {
    const content = (await import('../shard/effectiveView.js')).readEffective(ctx.shard, 'codex', path).content.trim();
    return { kind, title: path, source: `codex/${path}`, content, tokens: estimateTokens(content) };
  } catch (error) {
    if (error instanceof AgenceError && error.code === 'not_found') return null;
    throw error;
  }
}

const LESSONS = 20;
/** Code chunks for the task: whole functions are large, and the budget trims them first. */
const CODE_CHUNKS = 5;

/** The code chunks that best match the task, when the reader may see internal material. */
async function codeSections(ctx: KnowledgeContext, task: string): Promise<PackSection[]> {
  if (!canRead((await visibility(ctx)).clearance, 'internal')) return [];
  const { recallCode } = await import('../chunk/codeRecall.js');
  const found = await recallCode({ shard: ctx.shard, notify: ctx.notify }, task, { limit: CODE_CHUNKS });
  return found.hits.map((hit) => {
    const title = `${hit.kind} ${[hit.scope, hit.name].filter((n) => n !== null).join('.') || '(module code)'}`;
    const content = `${hit.path}:${hit.start}-${hit.end} (${title})\n${hit.text}`;
    return { kind: 'code' as const, title, source: `${hit.path}:${hit.start}-${hit.end}`, content, tokens: estimateTokens(content) };
  });
}

export async function contextPack(ctx: KnowledgeContext, options: PackOptions): Promise<ContextPack> {
  const sections: PackSection[] = [];
  for (const [kind, path] of [['laws', 'LAWS.md'], ['principles', 'PRINCIPLES.md'], ['rules', 'RULES.md'], ['persona', `agents/${options.agent}.md`]] as const) {
    const section = await codexSection(ctx, kind, path);
    if (section) sections.push(section);
    else if (kind === 'persona') throw new AgenceError('not_found', `there is no persona ${options.agent} in the effective codex`, { fix: 'list them with `agence ^codex` (agents/), or give --agent' });
  }
  if (options.session) {
    const s = options.session;
    const content = [`Session ${s.id}: ${s.task || '(no task given)'}`, ...s.todo.map((t) => `- ${t}`), ...s.notes.map((n) => `note: ${n}`)].join('\n');
    sections.push({ kind: 'session', title: `session ${s.id}`, source: `nexus/sessions (${s.id})`, content, tokens: estimateTokens(content) });
  }
  const task = options.task ?? (options.session?.task || null);
  const v = await visibility(ctx);
  const { db } = await openIndex(ctx);
  try {
    const match = task ? ftsQuery(task, 'any') : null;
    const rows = match
      ? search(db, match, { type: 'lesson', limit: LESSONS }, v)
      : visibleItems(db, v)
          .filter((r) => r.type === 'lesson')
          .sort((a, b) => b.updated.localeCompare(a.updated) || a.id.localeCompare(b.id)) // ids break ties: ^regen --check needs the same pack everywhere
          .slice(0, LESSONS);
    const body = db.prepare('SELECT body FROM k_fts WHERE rowid = ?').pluck();
    for (const row of rows) {
      const content = `${row.title} [${row.id}]\n${String(body.get(row.rowid) ?? '').trim()}`;
      sections.push({ kind: 'lesson', title: row.title, source: row.path, content, tokens: estimateTokens(content), item: { id: row.id, label: row.label } });
    }
  } finally {
    db.close();
  }
  if (task) sections.push(...(await codeSections(ctx, task)));
  return trimToBudget(options.agent, options.budget, task, sections);
}
