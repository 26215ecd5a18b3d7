import { AgenceError } from '../../core/errors.js';
import { ITEM_TYPES } from '../../core/knowledgeItem.js';
import { assertFormtagPrefix } from '../../core/knowledgeText.js';
import { recall as recallItems, type RecallHit, type RecallOptions } from '../../knowledge/knowledge.js';
import { MARK_CLOSE, MARK_OPEN } from '../../knowledge/knowledgeIndex.js';
import { KNOWLEDGE_LAYERS } from '../../knowledge/knowledgeSources.js';
import type { Handler, Invocation } from '../types.js';
import { text, withKnowledge } from '../knowledgeContext.js';

function options(inv: Invocation, privateMode: boolean): RecallOptions {
  const type = text(inv.opts.type);
  if (type !== undefined && !(ITEM_TYPES as readonly string[]).includes(type)) throw new AgenceError('usage', `--type "${type}" is not an item type`, { fix: `use one of: ${ITEM_TYPES.join(', ')}` });
  const layer = text(inv.opts.layer);
  const layers = [...KNOWLEDGE_LAYERS, 'objectcode'];
  if (layer !== undefined && !layers.includes(layer)) throw new AgenceError('usage', `--layer "${layer}" is not a layer`, { fix: `use one of: ${layers.join(', ')}` });
  const formtag = text(inv.opts.formtag);
  const limitText = text(inv.opts.limit) ?? '10';
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new AgenceError('usage', `--limit "${limitText}" is not a number from 1 to 1000`);
  return {
    type,
    layer,
    formtag: formtag === undefined ? undefined : assertFormtagPrefix(formtag, '--formtag'),
    tag: text(inv.opts.tag),
    limit,
    private: privateMode || inv.opts.private === true || layer === 'hermetic',
    all: inv.opts.all === true,
    code: inv.opts.code === true ? 'only' : 'mixed',
  };
}

export function formatHit(inv: Invocation, hit: RecallHit, showShard: boolean): string[] {
  const s = inv.style;
  const mark = (t: string) => t.split(MARK_OPEN).join(s.enabled ? '\u001b[1;33m' : '**').split(MARK_CLOSE).join(s.enabled ? '\u001b[22;39m' : '**');
  const where = [hit.layer, ...(showShard ? [`shard ${hit.shard}`] : []), ...(hit.formtag ? [`formtag ${hit.formtag}`] : []), ...(hit.label !== 'internal' ? [hit.label] : [])];
  const lines = [`${s.bold(hit.id)}  ${hit.title}  ${s.dim(`[${where.join(' · ')}]`)}`, `  ${hit.path}:${hit.line}`, `  ${mark(hit.snippet)}`];
  if (hit.stale === null) lines.push(s.dim('  (its commit is not in this clone: cannot tell whether its files changed)'));
  else if (hit.stale.length > 0) lines.push(s.yellow(`  possibly stale: ${hit.stale.join(', ')} changed since the item was written`));
  return lines;
}

const recallHandler = (privateMode: boolean): Handler => async (inv) => {
  const query = inv.args.join(' ');
  const opts = options(inv, privateMode);
  if (inv.opts.shards !== undefined) {
    if (inv.opts.shards !== 'org') throw new AgenceError('usage', `--shards "${String(inv.opts.shards)}" is not supported`, { fix: 'use --shards org (every registered shard of this org)' });
    if (opts.private) throw new AgenceError('refused', 'private (hermetic) items are never searched across shards', { fix: 'drop --private, or recall in the shard itself' });
    const { recallOrg } = await import('../../knowledge/mnemonic.js');
    const result = await withKnowledge(inv, (ctx) => recallOrg(ctx, query, opts));
    const lines = result.hits.flatMap((h) => formatHit(inv, h, true));
    if (result.hits.length === 0) lines.push(`Nothing in the shards of org ${result.org} matches "${query}".`);
    for (const v of result.vanished) lines.push(inv.style.yellow(`skipped shard ${v.name}: ${v.path} is gone (\`agence ^shards --prune\` forgets it)`));
    return { data: result, text: lines.join('\n') };
  }
  const result = await withKnowledge(inv, (ctx) => recallItems(ctx, query, opts));
  const lines = result.hits.flatMap((h) => formatHit(inv, h, false));
  if (result.hits.length === 0) lines.push(`Nothing matches "${query}".`);
  else if (result.matched === 'any') lines.unshift(inv.style.dim('(no item has every word; these have some)'));
  // A grammar that failed to load: the rest of the code was searched, and the command says so.
  const failed = result.code_index?.grammarFailures ?? [];
  const problem = failed.length > 0 ? { exit: 1, problem: `grammar failed to load: ${failed.map((f) => f.language).join(', ')}; those files are not in the code index: reinstall agence (npm install)` } : {};
  return { data: result, text: lines.join('\n'), ...problem };
};

export const recall = recallHandler(false);
export const recallPrivate = recallHandler(true);
