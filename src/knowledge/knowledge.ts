import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import * as z from '../core/zod.js';
import { AgenceError } from '../core/errors.js';
import {
  assertItemId,
  canRead,
  fileRef,
  type Item,
  itemFieldsFrom,
  type ItemType,
  LABELS,
  type Label,
  labelRank,
  newItemId,
  parseItem,
  renderItem,
  splitFrontMatter,
  titleFrom,
  type Yaml,
} from '../core/knowledgeItem.js';
import { contentWords, type FormtagClass, ftsQuery, SIMILAR_THRESHOLD, similarity, suggestFormtag, words } from '../core/knowledgeText.js';
import { NAME_RE } from '../core/schemas.js';
import type { ShardPaths } from '../shard/layout.js';
import { cachedParse, keepParse, shardCache } from '../shard/parsedCache.js';
import { configDir } from '../shard/registry.js';
import { writeFileAtomic } from '../store/atomic.js';
import { childProcess, nodeCrypto } from '../store/lazyBuiltins.js';
import { readJsonFile } from '../store/files.js';
import type { Database } from '../store/sqlite.js';
import {
  anyRowById,
  indexProblems,
  isItemCurrent,
  type Hit,
  type ItemRow,
  MAX_ITEM_BYTES,
  openKnowledgeDb,
  purgeDeleted,
  rowsById,
  search,
  type SearchFilter,
  supersededBy,
  loadYaml,
  refreshIndex,
  type UpdateReport,
  type Visibility,
} from './knowledgeIndex.js';

/**
 * The knowledge service: items written as Markdown files with front matter in the layer they
 * belong to, found again through the index. The files are the record; the index is a cache.
 */

export interface KnowledgeContext {
  shard: ShardPaths;
  shardName: string;
  org: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  notify: (message: string) => void;
  onProgress?: (done: number, total: number) => void;
  /** AGENCE_AGENT (or `@agent`), when an agent acts. */
  agent: string | null;
  /** DESIGN §5: the agent, else the user's git email (asked of git only when needed). */
  actor: () => Promise<string>;
}

const loadGit = () => import('../git/git.js');
/** The effective view (and the YAML parser behind it), loaded by the commands that read the codex. */
const loadView = () => import('../shard/effectiveView.js');

export function indexFile(shard: ShardPaths): string {
  return join(shard.nexus, 'index.db');
}

/** The index, brought up to date with the files. The caller closes it. */
export async function openIndex(ctx: KnowledgeContext, how: { full?: boolean; walk?: boolean } = {}): Promise<{ db: Database; report: UpdateReport }> {
  const db = openKnowledgeDb(indexFile(ctx.shard), ctx.notify);
  try {
    const report = await refreshIndex(db, ctx.shard, { ...how, notify: ctx.notify, ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}) });
    for (const landed of report.landed) await markLanded(ctx, landed);
    return { db, report };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** A promoted item is in base/ now: the local copy is marked superseded by the master's (same id). */
async function markLanded(ctx: KnowledgeContext, landed: { file: string; shown: string }): Promise<void> {
  const yaml = await loadYaml();
  const parsed = parseItem(readFileSync(landed.file, 'utf8'), landed.shown, yaml);
  if (parsed.item.superseded_by) return;
  writeItem(landed.file, landed.shown, { ...parsed.item, superseded_by: parsed.item.id, updated: ctx.now().toISOString() }, parsed.body, yaml);
  ctx.notify(`${parsed.item.id} was merged into the master and is in base/ now: ${landed.shown} is marked superseded (commit that, or remove the file)`);
}

async function withIndex<T>(ctx: KnowledgeContext, fn: (db: Database) => T | Promise<T>): Promise<T> {
  const { db } = await openIndex(ctx);
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

const UserSettingsSchema = z.deferred(() => z.looseObject({ clearance: z.optional(z.enum(LABELS)) }));

/**
 * How far up the labels the actor may read (DESIGN §5). An agent: the `clearance` of its persona
 * in the effective codex (`internal` when the persona says none). A person: `internal`, unless
 * `~/.config/agence/knowledge.json` says `{"clearance": "secret"}` (their own machine, their call).
 */
export async function clearance(ctx: KnowledgeContext): Promise<Label> {
  if (ctx.agent) {
    if (!NAME_RE.test(ctx.agent)) throw new AgenceError('usage', `agent "${ctx.agent}" (AGENCE_AGENT or @agent) is not an agent name`, { fix: 'use a persona name from codex/agents/, e.g. sonya' });
    let persona: string;
    try {
      persona = (await loadView()).readEffective(ctx.shard, 'codex', `agents/${ctx.agent}.md`).content;
    } catch (error) {
      if (error instanceof AgenceError && error.code === 'not_found') return 'internal';
      throw error;
    }
    // Read before every chat call and every recall by an agent: its YAML is parsed once per text.
    const cache = shardCache(ctx.shard, `clearance-${ctx.agent}`);
    const known = cachedParse<Label>(cache, [persona]);
    if (known !== undefined) return known;
    const split = splitFrontMatter(persona);
    let value: unknown;
    try {
      value = split ? ((await loadYaml()).parse(split.yaml) as Record<string, unknown> | null)?.clearance : undefined;
    } catch (error) {
      throw new AgenceError('corrupt', `the front matter of codex/agents/${ctx.agent}.md is not YAML (${(error as Error).message.split('\n')[0]})`, { fix: 'fix the persona file' });
    }
    return keepParse<Label>(cache, [persona], (LABELS as readonly unknown[]).includes(value) ? (value as Label) : 'internal');
  }
  const file = join(configDir(ctx.env), 'knowledge.json');
  return readJsonFile(file, UserSettingsSchema, { fix: 'fix it: {"clearance": "public|internal|secret|top-secret"}' })?.clearance ?? 'internal';
}

export async function visibility(ctx: KnowledgeContext, opts: { private?: boolean; all?: boolean } = {}): Promise<Visibility> {
  return { clearance: await clearance(ctx), private: opts.private ?? false, all: opts.all ?? false };
}

/** The formtag taxonomy of the effective codex (a master defines it, shards extend it). */
export async function formtagClasses(shard: ShardPaths): Promise<FormtagClass[]> {
  let content: string;
  try {
    content = (await loadView()).readEffective(shard, 'codex', 'formtags.yaml').content;
  } catch (error) {
    if (error instanceof AgenceError && error.code === 'not_found') return [];
    throw error;
  }
  const classes = (((await loadYaml()).parse(content) as { classes?: Record<string, { title?: unknown; keywords?: unknown }> } | null)?.classes ?? {}) as Record<string, { title?: unknown; keywords?: unknown }>;
  return Object.entries(classes)
    .map(([code, c]) => ({ code, title: typeof c?.title === 'string' ? c.title : code, keywords: Array.isArray(c?.keywords) ? c.keywords.map(String) : [] }))
    .sort((a, b) => a.code.localeCompare(b.code, 'en', { numeric: true }));
}

async function checkFormtag(shard: ShardPaths, code: string): Promise<void> {
  const classes = await formtagClasses(shard);
  if (!classes.some((c) => c.code === code)) {
    throw new AgenceError('usage', `--formtag "${code}" is not in the taxonomy (codex/formtags.yaml)`, {
      fix: 'pick one from `agence ^formtags`, or add the class to .agence/codex/formtags.yaml',
    });
  }
}

function checkLabel(label: string): Label {
  if (!(LABELS as readonly string[]).includes(label)) throw new AgenceError('usage', `--label "${label}" is not a label`, { fix: `use one of: ${LABELS.join(', ')}` });
  return label as Label;
}

/** Where each kind of item is written. */
export type Destination = 'synthetic' | 'hermetic' | 'nexus';
const FOLDERS: Record<ItemType, string> = { lesson: 'lessons', doc: 'docs', plan: 'plans', fault: 'faults', note: 'notes' };

function folderFor(shard: ShardPaths, where: Destination, type: ItemType): { dir: string; shown: string } {
  const sub = where === 'synthetic' && type === 'note' ? 'lessons' : FOLDERS[type];
  switch (where) {
    case 'synthetic':
      return { dir: join(shard.agence, 'synthetic', sub), shown: `.agence/synthetic/${sub}` };
    case 'hermetic':
      return { dir: join(shard.hermetic, sub), shown: `.agence/hermetic/${sub}` };
    case 'nexus':
      return { dir: join(shard.nexus, sub), shown: `.agence/nexus/${sub}` };
  }
}

export interface NewItem {
  type: ItemType;
  where: Destination;
  text: string;
  title?: string | undefined;
  tags?: string[];
  formtag?: string | undefined;
  label?: string | undefined;
  files?: string[];
  /** Front matter fields to keep (a document brought in with its own). */
  keep?: Partial<Item>;
}

export interface Similar {
  id: string;
  title: string;
  path: string;
  similarity: number;
}

export interface Created {
  item: Item;
  path: string;
  similar: Similar[];
  /** The formtag suggested from the text when none was given. */
  suggested: { code: string; title: string; matched: string[] } | null;
}

/** `files:` entries given on the command line, checked and made relative to the repository root. */
function repoFiles(ctx: KnowledgeContext, entries: readonly string[]): string[] {
  return entries.map((entry) => {
    const { path, line } = fileRef(entry);
    const full = resolve(ctx.cwd, path);
    if (!existsSync(full)) throw new AgenceError('usage', `--file ${entry}: ${path} does not exist`, { fix: 'give a path (optionally path:line) of a file in this repository' });
    const rel = relative(ctx.shard.root, full);
    if (rel.startsWith('..')) throw new AgenceError('usage', `--file ${entry} is outside this repository`, { fix: 'reference files of this repository only' });
    return line === null ? rel : `${rel}:${line}`;
  });
}

/** Items already known that say much the same (top 3 above the threshold): a hint, never a block. */
function similarItems(db: Database, text: string, v: Visibility): Similar[] {
  const mine = contentWords(text);
  const match = ftsQuery([...mine].slice(0, 30).join(' '), 'any');
  if (!match) return [];
  const body = db.prepare('SELECT title, body FROM k_fts WHERE rowid = ?');
  // One read transaction, so one snapshot: another process bringing the index up to date between
  // the search and the reads (it re-inserts the rows of changed files) would leave a hit without its row.
  const hits = db.transaction(() => search(db, match, { limit: 20 }, v).map((hit) => ({ hit, row: body.get(hit.rowid) as { title: string; body: string } })))();
  return hits
    .map(({ hit, row }) => ({ id: hit.id, title: hit.title, path: hit.path, similarity: similarity(mine, contentWords(`${row.title}\n${row.body}`)) }))
    .filter((s) => s.similarity >= SIMILAR_THRESHOLD)
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, 3)
    .map((s) => ({ ...s, similarity: Math.round(s.similarity * 100) / 100 }));
}

/** Write an item file and read it back: only then is it saved. */
function writeItem(file: string, shown: string, item: Item, body: string, yaml: Yaml): void {
  const text = renderItem(item, body, yaml);
  // Checked before anything is written, so a bad value never leaves a broken item behind.
  try {
    parseItem(text, shown, yaml);
  } catch (error) {
    if (error instanceof AgenceError) throw new AgenceError('usage', `${error.message}; nothing was written`, { fix: 'check the values given (title, tags, formtag, label)' });
    throw error;
  }
  writeFileAtomic(file, text);
  const back = parseItem(readFileSync(file, 'utf8'), shown, yaml);
  if (back.item.id !== item.id) throw new AgenceError('corrupt', `${shown} did not read back as written`, { file, fix: 'check the disk, then try again' });
}

/** `^learn`, `~learn`, `^fault`, `~note`, `^doc add`: one item, with its provenance. */
export async function createItem(ctx: KnowledgeContext, input: NewItem): Promise<Created> {
  if (input.text.trim() === '') throw new AgenceError('usage', 'the text is empty', { fix: 'say what was learned, e.g. agence ^learn "retry DNS lookups: the resolver drops packets under load"' });
  if (input.formtag) await checkFormtag(ctx.shard, input.formtag);
  const label = input.label === undefined ? (input.keep?.label ?? 'internal') : checkLabel(input.label);
  const files = repoFiles(ctx, input.files ?? []);
  const now = ctx.now();
  const title = input.title ?? input.keep?.title ?? titleFrom(input.text);
  const suggested = input.formtag || input.keep?.formtag ? null : suggestFormtag(`${title}\n${input.text}`, await formtagClasses(ctx.shard));
  const { currentSessionId } = await import('../sessions/sessions.js');
  const { resolveCommit } = await loadGit();
  const id = newItemId(input.type, now, nodeCrypto().randomBytes(5));
  const item: Item = {
    ...input.keep,
    id,
    type: input.type,
    title,
    formtag: input.formtag ?? input.keep?.formtag ?? suggested?.code ?? null,
    tags: [...new Set([...(input.keep?.tags ?? []), ...(input.tags ?? [])])],
    label,
    author: await ctx.actor(),
    session: currentSessionId(ctx),
    commit: await resolveCommit(ctx.shard.root, 'HEAD'),
    files: [...new Set([...(input.keep?.files ?? []), ...files])],
    related: input.keep?.related ?? [],
    supersedes: input.keep?.supersedes ?? [],
    superseded_by: null,
    created: now.toISOString(),
    updated: now.toISOString(),
  };
  // Synthetic is pushed with the repository: secret and above never leave the machine (DESIGN §5).
  if (input.where === 'synthetic' && !canRead('internal', label)) {
    throw new AgenceError('refused', `an item labelled ${label} cannot go to synthetic/, which is shared through git: secret and above never leave this machine`, {
      fix: 'keep it private with `agence ~learn ... --label ' + label + '` (hermetic/), or lower the label',
    });
  }
  const v = await visibility(ctx, { private: input.where === 'hermetic' });
  if (!canRead(v.clearance, label)) {
    throw new AgenceError('refused', `--label ${label} is above the clearance of the actor (${v.clearance}): the item could not be read back`, {
      fix: ctx.agent ? `the persona of ${ctx.agent} sets its clearance` : 'a person sets theirs in ~/.config/agence/knowledge.json: {"clearance": "secret"}',
    });
  }
  const similar = await withIndex(ctx, (db) => similarItems(db, `${title}\n${input.text}`, v));
  const folder = folderFor(ctx.shard, input.where, input.type);
  const file = join(folder.dir, `${id}.md`);
  const shown = `${folder.shown}/${id}.md`;
  const body = input.type === 'doc' ? input.text : `${input.text.trim()}\n`;
  writeItem(file, shown, item, body, await loadYaml());
  await withIndex(ctx, () => undefined);
  return { item, path: shown, similar, suggested };
}

/** `^doc add FILE`: the file's text becomes a doc item in synthetic/docs (its own front matter kept). */
export async function addDoc(ctx: KnowledgeContext, file: string, input: Omit<NewItem, 'type' | 'where' | 'text'>): Promise<Created> {
  const full = resolve(ctx.cwd, file);
  if (!existsSync(full) || !statSync(full).isFile()) throw new AgenceError('not_found', `${file} is not a file`, { fix: 'give the path of a Markdown or text file' });
  if (statSync(full).size > MAX_ITEM_BYTES) throw new AgenceError('usage', `${file} is larger than 1 MB, the limit of a knowledge item`, { fix: 'split it into smaller documents' });
  const bytes = readFileSync(full);
  if (bytes.subarray(0, 8000).includes(0)) throw new AgenceError('usage', `${file} is a binary file`, { fix: 'add Markdown or text documents only' });
  const text = bytes.toString('utf8');
  const own = splitFrontMatter(text);
  let keep: Partial<Item> = {};
  let body = text;
  if (own) {
    let value: unknown;
    try {
      value = (await loadYaml()).parse(own.yaml);
    } catch (error) {
      throw new AgenceError('usage', `the front matter of ${file} is not YAML (${(error as Error).message.split('\n')[0]}); nothing was written`, { fix: 'fix it, or remove it' });
    }
    keep = itemFieldsFrom(value, file);
    body = own.body;
  }
  delete keep.id;
  delete keep.type;
  return createItem(ctx, { ...input, type: 'doc', where: 'synthetic', text: body, keep: { title: keep.title ?? titleFrom(body.trim() === '' ? basename(file) : body), ...keep } });
}

export interface Shown {
  row: ItemRow;
  item: Item;
  body: string;
  supersededBy: string[];
  /** Other files with the same id (a merge duplicated it). */
  duplicates: string[];
}

/** The one item an id names for the actor: missing, above clearance and duplicated ids each say so. */
export function resolveItem(db: Database, id: string, v: Visibility): { row: ItemRow; duplicates: string[] } {
  assertItemId(id);
  const rows = rowsById(db, id, v);
  if (rows.length === 0) {
    const hidden = anyRowById(db, id);
    if (hidden && !canRead(v.clearance, hidden.label)) {
      throw new AgenceError('refused', `item ${id} is labelled ${hidden.label}, above the clearance of the actor (${v.clearance})`, { fix: 'ask someone cleared for it' });
    }
    if (hidden?.layer === 'hermetic') throw new AgenceError('not_found', `item ${id} is private (hermetic)`, { fix: `use \`agence ~recall\` or the private commands to reach it` });
    throw new AgenceError('not_found', `no item ${id} in this shard`, { fix: 'find it with `agence ^recall "words"`' });
  }
  const [row] = rows as [ItemRow];
  return { row, duplicates: rows.slice(1).filter((r) => r.origin === row.origin).map((r) => r.path) };
}

function fullPath(shard: ShardPaths, row: ItemRow): string {
  return row.layer === 'hermetic' || row.layer === 'nexus' ? join(shard.mainRoot, row.path) : join(shard.root, row.path);
}

export async function showItem(ctx: KnowledgeContext, id: string, opts: { private?: boolean } = {}): Promise<Shown> {
  const v = await visibility(ctx, { private: opts.private ?? true, all: true });
  const read = (db: Database): { shown: Shown; current: boolean } => {
    const { row, duplicates } = resolveItem(db, id, v);
    const body = (db.prepare('SELECT body FROM k_fts WHERE rowid = ?').pluck().get(row.rowid) as string | undefined) ?? '';
    return { shown: { row, item: JSON.parse(row.front) as Item, body, supersededBy: supersededBy(db, id), duplicates }, current: isItemCurrent(db, row, fullPath(ctx.shard, row)) };
  };
  const first = await withIndex(ctx, read);
  if (first.current) return first.shown;
  // Its file was edited in place since it was indexed: walk (re-reading what changed), then show.
  const { db } = await openIndex(ctx, { walk: true });
  try {
    return read(db).shown;
  } finally {
    db.close();
  }
}

/** An item this shard may change: its own (not the master's, not the codex). */
async function writable(ctx: KnowledgeContext, db: Database, id: string, what: string): Promise<{ row: ItemRow; file: string }> {
  const { row, duplicates } = resolveItem(db, id, await visibility(ctx, { private: true, all: true }));
  if (duplicates.length > 0) {
    throw new AgenceError('conflict', `id ${id} is used by ${duplicates.length + 1} files (${[row.path, ...duplicates].join(', ')})`, { fix: 'give one of them a new id in its front matter first' });
  }
  if (row.origin === 'base') throw new AgenceError('conflict', `item ${id} comes from the master (${row.path}); it cannot be ${what} here`, { fix: 'change it in the master repository, or write a local item that supersedes it (`agence ^supersede`)' });
  if (row.layer === 'codex' || row.layer === 'globalcache') throw new AgenceError('conflict', `${row.path} is not a knowledge item agence writes (${row.layer})`, { fix: 'edit the file itself' });
  return { row, file: fullPath(ctx.shard, row) };
}

function readItemFile(file: string, shown: string, yaml: Yaml) {
  return parseItem(readFileSync(file, 'utf8'), shown, yaml);
}

/** `^forget <id>`: the file goes (git keeps its history), and so does everything the index had of it. */
export async function forgetItem(ctx: KnowledgeContext, id: string): Promise<{ id: string; path: string }> {
  const { row, file } = await withIndex(ctx, (db) => writable(ctx, db, id, 'forgotten'));
  rmSync(file);
  const left = await withIndex(ctx, (db) => {
    purgeDeleted(db);
    return db.prepare('SELECT count(*) FROM k_items WHERE key = ?').pluck().get(row.key) as number;
  });
  if (left !== 0) throw new AgenceError('corrupt', `the index still holds ${id} after ${row.path} was removed`, { fix: 'run `agence ^reindex --full`' });
  const { forgetInOrgIndex } = await import('./mnemonic.js');
  forgetInOrgIndex(ctx.env, ctx.org, ctx.shard.root, id);
  return { id, path: row.path };
}

/** `^share <id>`: a private item into synthetic, where git shares it; refused above `internal`. */
export async function shareItem(ctx: KnowledgeContext, id: string): Promise<{ id: string; from: string; to: string }> {
  const { row, file } = await withIndex(ctx, (db) => writable(ctx, db, id, 'shared'));
  if (row.layer !== 'hermetic') throw new AgenceError('conflict', `item ${id} is not private (it is in ${row.path})`, { fix: 'only hermetic items are shared' });
  if (labelRank(row.label) > labelRank('internal')) {
    throw new AgenceError('refused', `item ${id} is labelled ${row.label}: nothing above internal leaves this machine`, { fix: 'relabel it (`agence ^edit`) only if it really is not secret' });
  }
  const yaml = await loadYaml();
  const parsed = readItemFile(file, row.path, yaml);
  // The label of what moves, not of what the index last saw: the file may have been edited since.
  if (labelRank(parsed.item.label) > labelRank('internal')) {
    throw new AgenceError('refused', `item ${id} is labelled ${parsed.item.label} in ${row.path}: nothing above internal leaves this machine`, { fix: 'relabel it (`agence ^edit`) only if it really is not secret' });
  }
  const folder = folderFor(ctx.shard, 'synthetic', parsed.item.type);
  const target = join(folder.dir, basename(file));
  const shown = `${folder.shown}/${basename(file)}`;
  if (existsSync(target)) throw new AgenceError('conflict', `${shown} already exists`, { fix: 'give the private item a new id first' });
  writeItem(target, shown, { ...parsed.item, updated: ctx.now().toISOString() }, parsed.body, yaml);
  rmSync(file);
  await withIndex(ctx, () => undefined);
  return { id, from: row.path, to: shown };
}

/** `^supersede <old> <new>`: the new item records it replaces the old; the old one, when local, says by what. */
export async function supersedeItem(ctx: KnowledgeContext, oldId: string, newId: string): Promise<{ old: string; new: string; marked: string[] }> {
  if (oldId === newId) throw new AgenceError('usage', 'an item cannot supersede itself', { fix: 'give the old id, then the new one' });
  const v = await visibility(ctx, { private: true, all: true });
  const yaml = await loadYaml();
  return withIndex(ctx, async (db) => {
    const old = resolveItem(db, oldId, v).row;
    const fresh = await writable(ctx, db, newId, 'changed');
    const now = ctx.now().toISOString();
    const marked: string[] = [];
    const newParsed = readItemFile(fresh.file, fresh.row.path, yaml);
    writeItem(fresh.file, fresh.row.path, { ...newParsed.item, supersedes: [...new Set([...newParsed.item.supersedes, oldId])], updated: now }, newParsed.body, yaml);
    marked.push(fresh.row.path);
    if (old.origin === 'local' && (old.layer === 'synthetic' || old.layer === 'hermetic' || old.layer === 'nexus')) {
      const oldFile = fullPath(ctx.shard, old);
      const oldParsed = readItemFile(oldFile, old.path, yaml);
      writeItem(oldFile, old.path, { ...oldParsed.item, superseded_by: newId, updated: now }, oldParsed.body, yaml);
      marked.push(old.path);
    }
    return { old: oldId, new: newId, marked };
  });
}

/** `^edit <id>`: $VISUAL or $EDITOR (argv, no shell) on the file; the result must still be an item. */
export async function editItem(ctx: KnowledgeContext, id: string): Promise<{ id: string; path: string; changed: boolean }> {
  const { row, file } = await withIndex(ctx, (db) => writable(ctx, db, id, 'edited'));
  const { spawnSync } = childProcess();
  const before = readFileSync(file, 'utf8');
  const editor = (ctx.env.VISUAL || ctx.env.EDITOR || 'vi').trim().split(/\s+/);
  const result = spawnSync(editor[0] as string, [...editor.slice(1), file], { stdio: 'inherit', env: ctx.env });
  if (result.error) throw new AgenceError('usage', `cannot run the editor "${editor[0]}": ${result.error.message}`, { fix: 'set EDITOR to an editor on your PATH' });
  if (result.status !== 0) throw new AgenceError('usage', `the editor exited with ${result.status}; ${row.path} is as the editor left it`, { fix: 'run `agence ^edit` again' });
  const after = readFileSync(file, 'utf8');
  // A broken edit is reported and the file left as it is: nothing is thrown away.
  const yaml = await loadYaml();
  const parsed = readItemFile(file, row.path, yaml);
  const changed = after !== before;
  if (changed) writeItem(file, row.path, { ...parsed.item, updated: ctx.now().toISOString() }, parsed.body, yaml);
  await withIndex(ctx, () => undefined);
  return { id: parsed.item.id, path: row.path, changed };
}

export interface RecallOptions extends Omit<SearchFilter, 'limit'> {
  limit?: number;
  private?: boolean;
  all?: boolean;
  /** Code chunks (OBJECTCODE): mixed with the items (the default), only them (`--code`), or none. */
  code?: 'mixed' | 'only' | 'none';
}

export interface RecallHit {
  id: string;
  title: string;
  type: string;
  layer: string;
  origin: 'local' | 'base';
  shard: string;
  path: string;
  line: number;
  formtag: string | null;
  label: Label;
  tags: string[];
  snippet: string;
  score: number;
  /** Files the item references that changed since the item's commit (null: its commit is unknown here). */
  stale: string[] | null;
  /** For a code chunk: the declaration and the lines it spans. */
  chunk?: { kind: string; name: string | null; scope: string | null; language: string | null; start: number; end: number; signature: string; text: string };
}

export interface RecallResult {
  query: string;
  /** Whether every word matched, or (when nothing did) any word. */
  matched: 'all' | 'any' | 'none';
  hits: RecallHit[];
  /** What bringing the code index up to date did, when recall searched code and it had changed. */
  code_index?: import('../chunk/codeIndex.js').IndexStats | null;
}

/** The first line of the item (from its body) that has a query word: where to look. */
function matchLine(file: string, bodyLine: number, query: readonly string[]): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return bodyLine;
  }
  const lines = text.split('\n');
  for (let i = Math.max(0, bodyLine - 1); i < lines.length; i++) {
    const lower = (lines[i] as string).toLowerCase();
    if (query.some((w) => lower.includes(w))) return i + 1;
  }
  return bodyLine;
}

export function hitsFrom(hits: Hit[], shardName: string, root: (row: ItemRow) => string, query: readonly string[]): RecallHit[] {
  return hits.map((h) => ({
    id: h.id,
    title: h.title,
    type: h.type,
    layer: h.origin === 'base' ? `base/${h.layer}` : h.layer,
    origin: h.origin,
    shard: shardName,
    path: h.path,
    line: h.layer === 'codex' ? 1 : matchLine(join(root(h), h.path), h.body_line, query),
    formtag: h.formtag,
    label: h.label,
    tags: JSON.parse(h.tags) as string[],
    snippet: h.snippet.replace(/\s+/g, ' ').trim(),
    score: Math.round(-h.score * 1000) / 1000,
    stale: [],
  }));
}

/** Mark hits whose referenced files changed since the item's commit (one git diff per commit). */
async function markStale(ctx: KnowledgeContext, hits: RecallHit[], rows: Map<string, ItemRow>): Promise<void> {
  const checks = hits.flatMap((hit) => {
    const row = rows.get(hit.path);
    const files = row ? (JSON.parse(row.files) as string[]).map((f) => fileRef(f).path) : [];
    return row?.commit_sha && files.length > 0 ? [{ hit, commit: row.commit_sha, files }] : [];
  });
  if (checks.length === 0) return; // git (and child_process) only when some hit references files
  const { changedSinceCommit } = await loadGit();
  for (const check of checks) check.hit.stale = await changedSinceCommit(ctx.shard.root, check.commit, check.files);
}

/**
 * Which code chunks a recall searches: none when a filter only items have is given (type,
 * formtag, tag, a knowledge layer) or the reader may not see internal material; the shard's own
 * with `--layer objectcode`; the master's with `--layer base`.
 */
function codeScope(options: RecallOptions, clearanceLabel: Label): { origin?: 'local' | 'base' } | null {
  const itemFilter = options.type ?? options.formtag ?? options.tag ?? (options.layer !== undefined && options.layer !== 'base' && options.layer !== 'objectcode' ? options.layer : undefined);
  if (options.code === 'only' && itemFilter !== undefined) {
    throw new AgenceError('usage', '--code searches code chunks, which have no type, formtag, tag or knowledge layer', { fix: 'drop --code, or the item filters' });
  }
  if (options.code === 'none' || itemFilter !== undefined || !canRead(clearanceLabel, 'internal')) return null;
  if (options.layer === 'base') return { origin: 'base' };
  if (options.layer === 'objectcode') return { origin: 'local' };
  return {};
}

function codeHitsFrom(hits: import('../chunk/codeRecall.js').CodeRecallHit[], shardName: string): RecallHit[] {
  return hits.map((h) => ({
    id: `${h.path}:${h.start}-${h.end}`,
    title: `${h.kind} ${[h.scope, h.name].filter((n) => n !== null).join('.') || '(module code)'}`,
    type: 'code',
    layer: h.origin === 'base' ? 'base/objectcode' : 'objectcode',
    origin: h.origin,
    shard: shardName,
    path: h.path,
    line: h.line,
    formtag: null,
    label: 'internal',
    tags: [h.language ?? 'text', h.kind],
    snippet: h.snippet,
    score: h.score,
    stale: [],
    chunk: { kind: h.kind, name: h.name, scope: h.scope, language: h.language, start: h.start, end: h.end, signature: h.signature, text: h.text },
  }));
}

/**
 * `^recall`: BM25 over the index, every word first, any word when that finds nothing; code
 * chunks (the code index, brought up to date first) ranked with the items by the same BM25.
 */
export async function recall(ctx: KnowledgeContext, query: string, options: RecallOptions): Promise<RecallResult> {
  const all = ftsQuery(query, 'all');
  if (!all) throw new AgenceError('usage', `the query "${query}" has no words to search for`, { fix: 'give some words, e.g. agence ^recall "dns timeout"' });
  const v = await visibility(ctx, options);
  const limit = options.limit ?? 10;
  const code = codeScope(options, v.clearance);
  const onlyCode = options.code === 'only' || options.layer === 'objectcode';
  const filter: SearchFilter = { type: options.type, formtag: options.formtag, tag: options.tag, layer: options.layer, limit };
  const found = onlyCode
    ? { matched: 'none' as const, hits: [] }
    : await withIndex(ctx, (db) => {
        const first = search(db, all, filter, v);
        if (first.length > 0) return { matched: 'all' as const, hits: first };
        const any = search(db, ftsQuery(query, 'any') as string, filter, v);
        return { matched: any.length > 0 ? ('any' as const) : ('none' as const), hits: any };
      });
  const rows = new Map(found.hits.map((h) => [h.path, h as ItemRow]));
  const hits = hitsFrom(found.hits, ctx.shardName, (row) => (row.layer === 'hermetic' || row.layer === 'nexus' ? ctx.shard.mainRoot : ctx.shard.root), words(query));
  await markStale(ctx, hits, rows);
  if (!code) return { query, matched: found.matched, hits };
  const { recallCode } = await import('../chunk/codeRecall.js');
  const coded = await recallCode({ shard: ctx.shard, notify: ctx.notify, ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}) }, query, { limit, origin: code.origin });
  // Hits with every word of the query first (items and chunks by score), then those with some.
  const tiered = [
    ...hits.map((hit) => ({ hit, every: found.matched === 'all' })),
    ...codeHitsFrom(coded.hits, ctx.shardName).map((hit, i) => ({ hit, every: coded.hits[i]?.every === true })),
  ];
  tiered.sort((a, b) => Number(b.every) - Number(a.every) || b.hit.score - a.hit.score);
  const matched = tiered.some((t) => t.every) ? 'all' : tiered.length > 0 ? 'any' : 'none';
  return { query, matched, hits: tiered.slice(0, limit).map((t) => t.hit), code_index: coded.stats };
}

/** `^reindex`: the knowledge tables brought up to date by a stat walk (`full`: rebuilt from nothing). */
export async function reindexKnowledge(ctx: KnowledgeContext, full: boolean): Promise<UpdateReport & { items: number; notIndexed: { path: string; problem: string }[] }> {
  const { db, report } = await openIndex(ctx, { full, walk: true });
  try {
    return { ...report, items: db.prepare('SELECT count(*) FROM k_items').pluck().get() as number, notIndexed: indexProblems(db) };
  } finally {
    db.close();
  }
}
