import { AgenceError } from '../../core/errors.js';
import { addDoc, type Created, createItem, type Destination, type NewItem } from '../../knowledge/knowledge.js';
import type { Handler, Invocation, Outcome } from '../types.js';
import { list, text, withKnowledge } from '../knowledgeContext.js';

/** `^learn`, `~learn`, `^fault`, `~note`, `^doc add`: each writes one item and says where. */

function created(inv: Invocation, result: Created): Outcome {
  const s = inv.style;
  const { item } = result;
  const lines = [`${s.bold(`Learned ${item.id}`)}: ${item.title}`, `  ${result.path}`];
  if (item.type !== 'lesson') lines[0] = `${s.bold(`Saved ${item.type} ${item.id}`)}: ${item.title}`;
  if (result.suggested) lines.push(`  formtag ${result.suggested.code} (${result.suggested.title}) suggested from: ${result.suggested.matched.join(', ')}; change it with --formtag or \`agence ^edit ${item.id}\``);
  else if (!item.formtag) lines.push('  no formtag: none of the taxonomy keywords appear; give one with --formtag (see `agence ^formtags`)');
  if (result.similar.length > 0) {
    lines.push(s.yellow('  similar items already known (a hint; nothing was blocked):'));
    for (const sim of result.similar) lines.push(`    ${sim.id}  ${sim.title}  (${Math.round(sim.similarity * 100)}% alike, ${sim.path})`);
  }
  return { data: { ok: true, ...result }, text: lines.join('\n') };
}

function itemOptions(inv: Invocation): Pick<NewItem, 'title' | 'tags' | 'formtag' | 'label' | 'files'> {
  return { title: text(inv.opts.title), tags: list(inv.opts.tag), formtag: text(inv.opts.formtag), label: text(inv.opts.label), files: list(inv.opts.file) };
}

function textArg(inv: Invocation, what: string): string {
  const value = inv.args[0];
  if (value === undefined) throw new AgenceError('usage', `say ${what}`, { fix: 'give it in quotes, e.g. agence ^learn "retry DNS lookups under load"' });
  return value;
}

const creator = (type: NewItem['type'], where: (inv: Invocation) => Destination, what: string): Handler => async (inv) =>
  created(inv, await withKnowledge(inv, (ctx) => createItem(ctx, { type, where: where(inv), text: textArg(inv, what), ...itemOptions(inv) })));

export const learn = creator('lesson', () => 'synthetic', 'what was learned');
export const learnPrivate = creator('lesson', () => 'hermetic', 'what was learned');
export const fault = creator('fault', (inv) => (inv.opts.share ? 'synthetic' : 'nexus'), 'what went wrong');
export const note = creator('note', () => 'hermetic', 'the note');

export const docAdd: Handler = async (inv) => created(inv, await withKnowledge(inv, (ctx) => addDoc(ctx, inv.args[0] as string, itemOptions(inv))));
