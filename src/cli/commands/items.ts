import { editItem, forgetItem, shareItem, showItem, supersedeItem } from '../../knowledge/knowledge.js';
import type { Handler } from '../types.js';
import { withKnowledge } from '../knowledgeContext.js';

/** `^show`, `^edit`, `^forget`, `^share`, `^supersede`: one item by id. */

export const show: Handler = async (inv) => {
  const shown = await withKnowledge(inv, (ctx) => showItem(ctx, inv.args[0] as string));
  const { item, row } = shown;
  const s = inv.style;
  const lines = [
    `${s.bold(item.id)}  ${item.title}`,
    `${item.type} · ${row.origin === 'base' ? `base/${row.layer}` : row.layer} · ${item.label}${item.formtag ? ` · formtag ${item.formtag}` : ''}${item.tags.length ? ` · tags ${item.tags.join(', ')}` : ''}`,
    `${row.path}`,
    `by ${item.author}, ${item.created.slice(0, 16).replace('T', ' ')}${item.session ? `, session ${item.session}` : ''}${item.commit ? `, at ${item.commit.slice(0, 12)}` : ''}`,
  ];
  if (item.files.length) lines.push(`files: ${item.files.join(', ')}`);
  if (item.related.length) lines.push(`related: ${item.related.join(', ')}`);
  if (item.supersedes.length) lines.push(`supersedes: ${item.supersedes.join(', ')}`);
  if (shown.supersededBy.length) lines.push(s.yellow(`superseded by: ${shown.supersededBy.join(', ')}`));
  if (item.promoted) lines.push(`promoted: branch ${item.promoted.branch} of ${item.promoted.master}`);
  if (shown.duplicates.length) lines.push(s.yellow(`the same id is also used by: ${shown.duplicates.join(', ')}`));
  lines.push('', shown.body.trim());
  return { data: shown, text: lines.join('\n') };
};

export const edit: Handler = async (inv) => {
  const result = await withKnowledge(inv, (ctx) => editItem(ctx, inv.args[0] as string));
  return { data: { ok: true, ...result }, text: result.changed ? `Edited ${result.id} (${result.path})` : `No change to ${result.id}` };
};

export const forget: Handler = async (inv) => {
  const result = await withKnowledge(inv, (ctx) => forgetItem(ctx, inv.args[0] as string));
  return { data: { ok: true, ...result }, text: `Forgot ${result.id}: removed ${result.path} and its index entries (git history keeps committed versions)` };
};

export const share: Handler = async (inv) => {
  const result = await withKnowledge(inv, (ctx) => shareItem(ctx, inv.args[0] as string));
  return { data: { ok: true, ...result }, text: `Shared ${result.id}: ${result.from} -> ${result.to} (commit it to share it with the team)` };
};

export const supersede: Handler = async (inv) => {
  const result = await withKnowledge(inv, (ctx) => supersedeItem(ctx, inv.args[0] as string, inv.args[1] as string));
  return { data: { ok: true, ...result }, text: `${result.new} supersedes ${result.old} (updated ${result.marked.join(', ')}); ${result.old} is hidden from recall unless --all` };
};
