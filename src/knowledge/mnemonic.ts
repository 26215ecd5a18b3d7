import { join } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { ftsQuery, words } from '../core/knowledgeText.js';
import { shardPaths } from '../shard/layout.js';
import { isMissing, readRegistry } from '../shard/registry.js';
import { hitsFrom, type KnowledgeContext, type RecallHit, type RecallOptions, visibility } from './knowledge.js';
import { openKnowledgeDb, search, type SearchFilter, updateIndex } from './knowledgeIndex.js';

/**
 * The mnemonic (DESIGN §1): recall across every registered shard of the same org, each through
 * its own index (brought up to date first), merged by BM25 score. Hermetic items are never part
 * of it, and another org's shards are never opened.
 */

export interface OrgRecall {
  org: string;
  query: string;
  shards: string[];
  vanished: { name: string; path: string }[];
  hits: RecallHit[];
}

export async function recallOrg(ctx: KnowledgeContext, query: string, options: RecallOptions): Promise<OrgRecall> {
  const all = ftsQuery(query, 'all');
  const any = ftsQuery(query, 'any');
  if (!all || !any) throw new AgenceError('usage', `the query "${query}" has no words to search for`, { fix: 'give some words, e.g. agence ^recall "dns timeout" --shards org' });
  // The actor's clearance applies in every shard; hermetic is out whatever was asked.
  const v = { ...visibility(ctx, { all: options.all ?? false }), private: false };
  const filter: SearchFilter = { type: options.type, formtag: options.formtag, tag: options.tag, layer: options.layer, limit: options.limit ?? 10 };
  const entries = readRegistry(ctx.env).shards.filter((s) => s.org === ctx.org);
  const result: OrgRecall = { org: ctx.org, query, shards: [], vanished: [], hits: [] };
  const hits: RecallHit[] = [];
  for (const entry of entries) {
    if (isMissing(entry)) {
      result.vanished.push({ name: entry.name, path: entry.path });
      ctx.notify(`shard ${entry.name} is registered at ${entry.path}, which is gone: skipped (\`agence ^shards --prune\` forgets it)`);
      continue;
    }
    const paths = shardPaths({ root: entry.path, mainRoot: entry.path });
    const db = openKnowledgeDb(join(paths.nexus, 'index.db'), ctx.notify);
    try {
      updateIndex(db, paths, { notify: (m) => ctx.notify(`${entry.name}: ${m}`) });
      let found = search(db, all, filter, v);
      if (found.length === 0) found = search(db, any, filter, v);
      hits.push(...hitsFrom(found, entry.name, () => entry.path, words(query)));
      result.shards.push(entry.name);
    } finally {
      db.close();
    }
  }
  result.hits = hits.sort((a, b) => b.score - a.score).slice(0, filter.limit);
  return result;
}
