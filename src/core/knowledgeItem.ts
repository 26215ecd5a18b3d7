import * as z from './zod.js';
import { AgenceError } from './errors.js';
import { firstIssue } from './schemas.js';

/**
 * Knowledge items (lessons, docs, plans, faults, notes): Markdown with YAML front matter. This
 * module is pure: the YAML parser is passed in, so `core/` stays free of I/O and of heavy imports.
 */

export const ITEM_TYPES = ['lesson', 'doc', 'plan', 'fault', 'note'] as const;
export type ItemType = (typeof ITEM_TYPES)[number];

/** DESIGN §5: the MLS labels, lowest first. */
export const LABELS = ['public', 'internal', 'secret', 'top-secret'] as const;
export type Label = (typeof LABELS)[number];

export const labelRank = (label: Label): number => LABELS.indexOf(label);
export const canRead = (clearance: Label, label: Label): boolean => labelRank(label) <= labelRank(clearance);

/**
 * Item ids: a type letter, the creation time in base 36 (seconds) and 5 random base-32 digits
 * (`l-t5x2k0q-8mzq4`). The time keeps them short and roughly sorted; the random part (25 bits)
 * is what keeps two clones that learn in the same second apart after a merge (one chance in
 * 33 million). A content hash would be stable but would change with every edit. Ids of files
 * written by hand or by a master only need to be safe in paths and refs.
 */
export const ITEM_ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const TYPE_LETTER: Record<ItemType, string> = { lesson: 'l', doc: 'd', plan: 'p', fault: 'f', note: 'n' };
const BASE32 = '0123456789abcdefghjkmnpqrstvwxyz';

export function newItemId(type: ItemType, now: Date, randomBytes: Uint8Array): string {
  const time = Math.floor(now.getTime() / 1000).toString(36);
  let rand = '';
  for (let i = 0; i < 5; i++) rand += BASE32[(randomBytes[i] ?? 0) % 32];
  return `${TYPE_LETTER[type]}-${time}-${rand}`;
}

export function assertItemId(id: string, what = 'item id'): string {
  if (!ITEM_ID_RE.test(id) || id.includes('..')) {
    throw new AgenceError('usage', `${what} "${id}" is not an item id`, { fix: 'ids are lowercase letters, digits, ".", "_" and "-" (see `agence ^recall`)' });
  }
  return id;
}

const FORMTAG_RE = /^\d{1,3}(?:\.\d+)?$/;
const stringList = () => z._default(z.array(z.string()), []);
const optionalText = () => z._default(z.nullable(z.string()), null);

/** Where a promotion was proposed (written by `^promote`). */
const PromotionSchema = z.deferred(() => z.object({ branch: z.string(), master: z.string(), commit: z.string(), at: z.string() }));

/** The one schema for an item's front matter. Unknown keys are kept (a later release may add some). */
export const ItemSchema = z.deferred(() => z.looseObject({
  id: z.string().check(z.regex(ITEM_ID_RE, 'lowercase letters, digits, ".", "_" or "-"')),
  type: z.enum(ITEM_TYPES),
  title: z.string().check(z.minLength(1)),
  formtag: z._default(z.nullable(z.string().check(z.regex(FORMTAG_RE, 'a formtag like 420 or 420.3'))), null),
  tags: stringList(),
  label: z._default(z.enum(LABELS), 'internal'),
  author: z._default(z.string(), 'unknown'),
  session: optionalText(),
  commit: optionalText(),
  /** Files the item is about, `path` or `path:line`, relative to the repository root. */
  files: stringList(),
  related: stringList(),
  supersedes: stringList(),
  superseded_by: optionalText(),
  promoted: z.optional(PromotionSchema),
  created: z.string(),
  updated: z.string(),
}));
export type Item = z.infer<typeof ItemSchema>;

/** Front matter a document brings with it (`^doc add`): any subset of an item's fields, each valid. */
export function itemFieldsFrom(value: unknown, shown: string): Partial<Item> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new AgenceError('usage', `the front matter of ${shown} is not a mapping of fields`, { fix: 'fix it, or remove it' });
  const result = z.safeParse(z.partial(ItemSchema), normaliseDates(value as Record<string, unknown>));
  if (!result.success) throw new AgenceError('usage', `the front matter of ${shown} is not valid: ${firstIssue(result.error)}; nothing was written`, { fix: 'fix it, or remove it' });
  // Only what the document says: the schema's defaults are for whole items.
  return Object.fromEntries(Object.entries(result.data).filter(([key]) => key in value)) as Partial<Item>;
}

export interface Yaml {
  parse: (text: string) => unknown;
  stringify: (value: unknown) => string;
}

export interface ParsedItem {
  item: Item;
  body: string;
  /** 1-based line of the body's first line in the file. */
  bodyLine: number;
}

/** Split `---\n...\n---\n` front matter from the body; null when the text has none. */
export function splitFrontMatter(text: string): { yaml: string; body: string; bodyLine: number } | null {
  const src = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (!/^---\r?\n/.test(src)) return null;
  const end = /\r?\n---[ \t]*(?:\r?\n|$)/.exec(src.slice(3));
  if (!end) return null;
  const yaml = src.slice(src.indexOf('\n') + 1, 3 + end.index);
  const rest = src.slice(3 + end.index + end[0].length);
  const bodyLine = src.slice(0, 3 + end.index + end[0].length).split('\n').length;
  return { yaml, body: rest, bodyLine: end[0].endsWith('\n') ? bodyLine : bodyLine + 1 };
}

/** Parse an item file; every problem is an AgenceError naming `shown` and how to fix it. */
export function parseItem(text: string, shown: string, yaml: Yaml): ParsedItem {
  const fix = `fix the front matter of ${shown} (\`agence ^edit <id>\`), or restore it with \`git checkout -- ${shown}\``;
  const split = splitFrontMatter(text);
  if (!split) {
    throw new AgenceError('corrupt', `${shown} has no front matter (a --- block of YAML at the top)`, {
      file: shown,
      fix: 'add one, or bring the file in with `agence ^doc add FILE`, which writes it',
    });
  }
  let value: unknown;
  try {
    value = yaml.parse(split.yaml);
  } catch (error) {
    throw new AgenceError('corrupt', `the front matter of ${shown} is not YAML (${(error as Error).message.split('\n')[0]})`, { file: shown, fix });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AgenceError('corrupt', `the front matter of ${shown} is not a mapping of fields`, { file: shown, fix });
  }
  const result = z.safeParse(ItemSchema, normaliseDates(value as Record<string, unknown>));
  if (!result.success) throw new AgenceError('corrupt', `the front matter of ${shown} is not valid: ${firstIssue(result.error)}`, { file: shown, fix });
  return { item: result.data, body: split.body, bodyLine: split.bodyLine };
}

/** YAML reads an unquoted timestamp as a Date; the schema wants the text. */
function normaliseDates(value: Record<string, unknown>): Record<string, unknown> {
  const out = { ...value };
  for (const key of ['created', 'updated']) if (out[key] instanceof Date) out[key] = (out[key] as Date).toISOString();
  // A formtag written as a number (420.3) is meant as the code.
  if (typeof out.formtag === 'number') out.formtag = String(out.formtag);
  return out;
}

const FIELD_ORDER = ['id', 'type', 'title', 'formtag', 'tags', 'label', 'author', 'session', 'commit', 'files', 'related', 'supersedes', 'superseded_by', 'promoted', 'created', 'updated'];

/** An item file: front matter in a fixed field order (diffs stay small), then the body. */
export function renderItem(item: Item, body: string, yaml: Yaml): string {
  const ordered: Record<string, unknown> = {};
  for (const key of FIELD_ORDER) if ((item as Record<string, unknown>)[key] !== undefined) ordered[key] = (item as Record<string, unknown>)[key];
  for (const [key, value] of Object.entries(item)) if (!(key in ordered) && value !== undefined) ordered[key] = value;
  const text = body.endsWith('\n') || body === '' ? body : `${body}\n`;
  return `---\n${yaml.stringify(ordered)}---\n${text}`;
}

/** A title from the first line of a text, when none is given. */
export function titleFrom(text: string): string {
  const first = text.split('\n').map((l) => l.replace(/^#+\s*/, '').trim()).find((l) => l !== '') ?? 'untitled';
  return first.length > 80 ? `${first.slice(0, 77)}...` : first;
}

/** `[[id]]` links in a body. */
export function linksIn(body: string): string[] {
  const out = new Set<string>();
  for (const match of body.matchAll(/\[\[([a-z0-9][a-z0-9._-]{0,63})\]\]/g)) out.add(match[1] as string);
  return [...out];
}

/** `path` or `path:line` of an item's `files:` entry. */
export function fileRef(entry: string): { path: string; line: number | null } {
  const m = /^(.*?):(\d+)$/.exec(entry);
  return m ? { path: m[1] as string, line: Number(m[2]) } : { path: entry, line: null };
}
