import { assertItemId } from '../core/knowledgeItem.js';
import { formtagMatches, formtagParent, formtagSubtree } from '../core/knowledgeText.js';
import { formtagClasses, type KnowledgeContext, openIndex, resolveItem, visibility } from './knowledge.js';
import { formtagCounts, neighbours, rowsById } from './knowledgeIndex.js';

/** The two structures over items: the formtag tree, and the graph of links. */

export interface FormtagNode {
  code: string;
  title: string;
  depth: number;
  /** Items tagged with exactly this code, and with this code or any below it. */
  items: number;
  total: number;
}

export interface FormtagTree {
  prefix: string | null;
  classes: FormtagNode[];
  /** Codes items use that the taxonomy does not have. */
  unknown: { code: string; items: number }[];
}

function depthOf(code: string): number {
  let depth = 0;
  for (let up = formtagParent(code); up !== null; up = formtagParent(up)) depth++;
  return depth;
}

/** `^formtags [PREFIX]`: the taxonomy of the effective codex, with visible item counts. */
export async function formtagTree(ctx: KnowledgeContext, prefix: string | null): Promise<FormtagTree> {
  const classes = await formtagClasses(ctx.shard);
  const v = await visibility(ctx);
  const { db } = await openIndex(ctx);
  let counts: Map<string, number>;
  try {
    counts = formtagCounts(db, v);
  } finally {
    db.close();
  }
  const known = new Set(classes.map((c) => c.code));
  const nodes = classes
    .filter((c) => prefix === null || formtagMatches(prefix, c.code))
    .map((c) => ({
      code: c.code,
      title: c.title,
      depth: depthOf(c.code),
      items: counts.get(c.code) ?? 0,
      total: [...counts].reduce((n, [code, k]) => n + (formtagMatches(formtagSubtree(c.code), code) ? k : 0), 0),
    }));
  const unknown = [...counts]
    .filter(([code]) => !known.has(code) && (prefix === null || formtagMatches(prefix, code)))
    .map(([code, items]) => ({ code, items }))
    .sort((a, b) => a.code.localeCompare(b.code));
  return { prefix, classes: nodes, unknown };
}

export interface Neighbour {
  id: string;
  hop: 1 | 2;
  /** The item it was reached through (for hop 2). */
  via: string | null;
  title: string | null;
  path: string | null;
}

/** `^related <id>`: items linked (`[[id]]` in a body, `related:` in front matter) one and two hops out. */
export async function relatedItems(ctx: KnowledgeContext, id: string): Promise<{ id: string; neighbours: Neighbour[] }> {
  assertItemId(id);
  const v = await visibility(ctx, { private: true, all: true });
  const { db } = await openIndex(ctx);
  try {
    resolveItem(db, id, v); // an item the actor may not see: its links are not shown either
    const describe = (target: string) => {
      const [row] = rowsById(db, target, v);
      return { title: row?.title ?? null, path: row?.path ?? null };
    };
    // An item the actor may not see is not shown, and not walked through either.
    const allowed = (target: string) => rowsById(db, target, v).length > 0 || !db.prepare('SELECT 1 FROM k_items WHERE id = ?').get(target);
    const out: Neighbour[] = [];
    const seen = new Set([id]);
    const first = neighbours(db, id).filter((n) => !seen.has(n) && allowed(n)).sort();
    for (const n of first) {
      seen.add(n);
      out.push({ id: n, hop: 1, via: null, ...describe(n) });
    }
    for (const n of first) {
      for (const m of neighbours(db, n).sort()) {
        if (seen.has(m) || !allowed(m)) continue;
        seen.add(m);
        out.push({ id: m, hop: 2, via: n, ...describe(m) });
      }
    }
    return { id, neighbours: out };
  } finally {
    db.close();
  }
}
