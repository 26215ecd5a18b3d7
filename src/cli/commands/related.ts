import { relatedItems } from '../../knowledge/knowledgeGraph.js';
import type { Handler } from '../types.js';
import { withKnowledge } from '../knowledgeContext.js';

export const run: Handler = async (inv) => {
  const result = await withKnowledge(inv, (ctx) => relatedItems(ctx, inv.args[0] as string));
  const s = inv.style;
  const lines = result.neighbours.map(
    (n) => `${n.hop === 1 ? '  ' : '    '}${s.bold(n.id)}  ${n.title ?? s.yellow('(no such item: a dangling link)')}${n.via ? s.dim(`  via ${n.via}`) : ''}`,
  );
  lines.unshift(result.neighbours.length === 0 ? `${result.id} links to nothing and nothing links to it.` : `${s.bold(result.id)}`);
  return { data: result, text: lines.join('\n') };
};
