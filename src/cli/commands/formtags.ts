import { assertFormtagPrefix } from '../../core/knowledgeText.js';
import { formtagTree } from '../../knowledge/knowledgeGraph.js';
import type { Handler } from '../types.js';
import { withKnowledge } from '../knowledgeContext.js';

export const run: Handler = async (inv) => {
  const prefix = inv.args[0] === undefined ? null : assertFormtagPrefix(inv.args[0], 'PREFIX');
  const tree = await withKnowledge(inv, (ctx) => formtagTree(ctx, prefix));
  const s = inv.style;
  const lines = tree.classes.map((c) => `${'  '.repeat(c.depth)}${s.bold(c.code.padEnd(7))} ${c.title}${c.total > 0 ? s.dim(`  (${c.total}${c.items !== c.total ? `, ${c.items} here` : ''})`) : ''}`);
  if (tree.classes.length === 0) lines.push(`No formtag starts with ${prefix}.`);
  for (const u of tree.unknown) lines.push(s.yellow(`${u.code}: ${u.items} item${u.items === 1 ? '' : 's'} use this formtag, which codex/formtags.yaml does not have (add it, or retag them)`));
  return { data: tree, text: lines.join('\n') };
};
