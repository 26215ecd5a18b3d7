import { type Block, normaliseItemText, parseItems, renderBlocks } from './codexItems.js';
import { TIERS, type Tier } from './schemas.js';

/**
 * The effective-view rules of DESIGN §3, as pure functions over already-read content.
 * `shard/effectiveView.ts` reads the files and calls these; nothing else merges layers.
 */

export type Origin = 'base' | 'local';

/** How a file is combined across layers, decided by its path inside the layer. */
export type MergeKind = 'override' | 'laws' | 'items' | 'policy' | 'by-name';

export function mergeKindFor(layer: string, relPath: string): MergeKind {
  if (layer !== 'codex') return 'override';
  switch (relPath) {
    case 'LAWS.md':
      return 'laws';
    case 'PRINCIPLES.md':
    case 'RULES.md':
      return 'items';
    case 'AIPOLICY.yaml':
      return 'policy';
    case 'formtags.yaml':
    case 'commands.json':
    case 'trust.yaml':
    case 'models.yaml':
      return 'by-name';
    default:
      // agents/*.md and skills/*.md are one file per name: replacing the file is merging by name.
      return 'override';
  }
}

export interface Part {
  origin: Origin;
  /** Why this part is here when it is not plain: "replaces base", "local edit ignored", ... */
  note?: string;
  /** The item id or key this part is about, when it has one. */
  key?: string;
  text: string;
}

export type FindingKind =
  | 'law-edited'
  | 'law-dropped'
  | 'item-problem'
  | 'policy-loosened'
  | 'policy-changed';

/** Something a shard did that the rules do not allow; reported by `^doctor`, ignored by readers. */
export interface LayerFinding {
  kind: FindingKind;
  key: string;
  message: string;
}

export interface MergedText {
  content: string;
  parts: Part[];
  findings: LayerFinding[];
}

/** Any file: the local file with the same path replaces the base one. */
export function mergeOverride(base: string | null, local: string | null): MergedText {
  const origin: Origin = local !== null ? 'local' : 'base';
  const content = local ?? base ?? '';
  const note = local !== null && base !== null ? 'replaces base' : undefined;
  return { content, parts: [{ origin, ...(note ? { note } : {}), text: content }], findings: [] };
}

function problemsAsFindings(doc: ReturnType<typeof parseItems>, origin: Origin): LayerFinding[] {
  return doc.problems.map((p) => ({
    kind: 'item-problem' as const,
    key: `${origin}:${p.line}`,
    message: `${origin} line ${p.line}: ${p.message}`,
  }));
}

/** Local blocks to show after the base ones: the local title is dropped when a base exists. */
function localExtras(blocks: Block[]): Block[] {
  const first = blocks[0];
  if (first && first.kind === 'text' && /^# /.test(first.text)) {
    const rest = first.text.split('\n').slice(1).join('\n').trim();
    return rest === '' ? blocks.slice(1) : [{ kind: 'text', text: rest }, ...blocks.slice(1)];
  }
  return blocks;
}

/**
 * PRINCIPLES.md and RULES.md: base first, then local additions; a local item whose id matches a
 * base item's id replaces it in place.
 */
export function mergeItems(base: string | null, local: string | null): MergedText {
  if (base === null || local === null) return mergeOverride(base, local);
  const b = parseItems(base);
  const l = parseItems(local);
  const localById = new Map<string, Block & { kind: 'item' }>();
  for (const block of l.blocks) if (block.kind === 'item' && !localById.has(block.id)) localById.set(block.id, block);

  const parts: Part[] = [];
  const blocks: Block[] = [];
  const used = new Set<string>();
  for (const block of b.blocks) {
    const replacement = block.kind === 'item' ? localById.get(block.id) : undefined;
    if (block.kind === 'item' && replacement) {
      used.add(block.id);
      blocks.push(replacement);
      parts.push({ origin: 'local', note: 'replaces base', key: block.id, text: replacement.text });
    } else {
      blocks.push(block);
      parts.push({ origin: 'base', ...(block.kind === 'item' ? { key: block.id } : {}), text: block.text });
    }
  }
  const seen = new Set(used);
  for (const block of localExtras(l.blocks)) {
    if (block.kind === 'item') {
      if (seen.has(block.id)) continue;
      seen.add(block.id);
    }
    blocks.push(block);
    parts.push({ origin: 'local', ...(block.kind === 'item' ? { key: block.id } : {}), text: block.text });
  }
  return {
    content: renderBlocks(blocks),
    parts,
    findings: [...problemsAsFindings(b, 'base'), ...problemsAsFindings(l, 'local')],
  };
}

/**
 * LAWS.md is monotonic: every base law stays, verbatim; a shard may only add laws. A local law
 * with a base id but other words is ignored and reported. A local file that restates a base law
 * word for word is taken as a full copy, so base laws missing from it are reported as dropped
 * (and still apply).
 */
export function mergeLaws(base: string | null, local: string | null): MergedText {
  if (base === null || local === null) return mergeOverride(base, local);
  const b = parseItems(base);
  const l = parseItems(local);
  const baseById = new Map<string, string>();
  for (const block of b.blocks) if (block.kind === 'item' && !baseById.has(block.id)) baseById.set(block.id, block.text);

  const findings: LayerFinding[] = [...problemsAsFindings(b, 'base'), ...problemsAsFindings(l, 'local')];
  const localIds = new Set<string>();
  let restates = false;
  const extras: Block[] = [];
  const extraParts: Part[] = [];
  for (const block of localExtras(l.blocks)) {
    if (block.kind !== 'item') {
      extras.push(block);
      extraParts.push({ origin: 'local', text: block.text });
      continue;
    }
    if (localIds.has(block.id)) continue;
    localIds.add(block.id);
    const baseText = baseById.get(block.id);
    if (baseText === undefined) {
      extras.push(block);
      extraParts.push({ origin: 'local', key: block.id, text: block.text });
    } else if (normaliseItemText(baseText) === normaliseItemText(block.text)) {
      restates = true;
    } else {
      findings.push({
        kind: 'law-edited',
        key: block.id,
        message: `local LAWS.md changes base law [${block.id}]; the base law applies and the local edit is ignored`,
      });
    }
  }
  const parts: Part[] = [];
  const blocks: Block[] = [];
  for (const block of b.blocks) {
    blocks.push(block);
    if (block.kind !== 'item') {
      parts.push({ origin: 'base', text: block.text });
      continue;
    }
    const edited = findings.some((f) => f.kind === 'law-edited' && f.key === block.id);
    if (restates && !localIds.has(block.id)) {
      findings.push({
        kind: 'law-dropped',
        key: block.id,
        message: `local LAWS.md drops base law [${block.id}]; a shard cannot remove a base law, so it still applies`,
      });
    }
    parts.push({ origin: 'base', key: block.id, ...(edited ? { note: 'local edit ignored' } : {}), text: block.text });
  }
  return { content: renderBlocks([...blocks, ...extras]), parts: [...parts, ...extraParts], findings };
}

export function tierRank(tier: Tier): number {
  return TIERS.indexOf(tier);
}

export function maxTier(a: Tier, b: Tier): Tier {
  return tierRank(a) >= tierRank(b) ? a : b;
}

export interface PolicyRule {
  id: string;
  command: string;
  tier: Tier;
  [key: string]: unknown;
}

export interface Policy {
  default_tier?: Tier;
  rules?: PolicyRule[];
  [key: string]: unknown;
}

export interface MergedPolicy {
  policy: Policy;
  parts: Part[];
  findings: LayerFinding[];
}

/** `git push` is covered by a base rule for `git` or for `git push`, never by one for `git pull`. */
function covers(baseCommand: string, command: string): boolean {
  const b = baseCommand.trim().split(/\s+/);
  const c = command.trim().split(/\s+/);
  return b.length <= c.length && b.every((word, i) => word === c[i]);
}

function describeRule(rule: PolicyRule): string {
  return `${rule.id}: ${rule.command} -> ${rule.tier}`;
}

/**
 * AIPOLICY.yaml may only tighten down the layers: a tier can rise, never fall. A local rule with a
 * base id may raise its tier and nothing else; a new local rule never falls below the tier of a
 * base rule covering the same command; the default tier never falls.
 */
export function mergePolicy(base: Policy | null, local: Policy | null): MergedPolicy {
  if (base === null || local === null) {
    const policy = local ?? base ?? {};
    const origin: Origin = local !== null ? 'local' : 'base';
    return { policy, parts: (policy.rules ?? []).map((r) => ({ origin, key: r.id, text: describeRule(r) })), findings: [] };
  }
  const findings: LayerFinding[] = [];
  const parts: Part[] = [];
  const baseDefault = base.default_tier ?? 'T2';
  let defaultTier = baseDefault;
  if (local.default_tier !== undefined) {
    if (tierRank(local.default_tier) < tierRank(baseDefault)) {
      findings.push({
        kind: 'policy-loosened',
        key: 'default_tier',
        message: `local AIPOLICY.yaml lowers default_tier from ${baseDefault} to ${local.default_tier}; ignored`,
      });
    } else defaultTier = local.default_tier;
  }

  const baseRules = base.rules ?? [];
  const localRules = local.rules ?? [];
  const localById = new Map(localRules.map((r) => [r.id, r]));
  const rules: PolicyRule[] = baseRules.map((rule) => {
    const mine = localById.get(rule.id);
    if (!mine) {
      parts.push({ origin: 'base', key: rule.id, text: describeRule(rule) });
      return rule;
    }
    if (matchOf(rule) !== matchOf(mine)) {
      findings.push({
        kind: 'policy-changed',
        key: rule.id,
        message: `local AIPOLICY.yaml changes what base rule ${rule.id} matches; only its tier may be raised, so the base match applies`,
      });
    }
    if (tierRank(mine.tier) < tierRank(rule.tier)) {
      findings.push({
        kind: 'policy-loosened',
        key: rule.id,
        message: `local AIPOLICY.yaml lowers rule ${rule.id} from ${rule.tier} to ${mine.tier}; ignored`,
      });
      parts.push({ origin: 'base', key: rule.id, note: 'local loosening ignored', text: describeRule(rule) });
      return rule;
    }
    if (mine.tier === rule.tier) {
      parts.push({ origin: 'base', key: rule.id, text: describeRule(rule) });
      return rule;
    }
    const raised = { ...rule, tier: mine.tier };
    parts.push({ origin: 'local', key: rule.id, note: `raises base ${rule.tier}`, text: describeRule(raised) });
    return raised;
  });

  const baseIds = new Set(baseRules.map((r) => r.id));
  for (const rule of localRules) {
    if (baseIds.has(rule.id)) continue;
    // What the base says of this command: its covering rules, or the default tier when none does.
    const floor = baseRules
      .filter((b) => covers(b.command, rule.command))
      .reduce<Tier | null>((acc, b) => (acc === null ? b.tier : maxTier(acc, b.tier)), null) ?? baseDefault;
    if (tierRank(rule.tier) < tierRank(floor)) {
      findings.push({
        kind: 'policy-loosened',
        key: rule.id,
        message: `local AIPOLICY.yaml rule ${rule.id} would put "${rule.command}" at ${rule.tier}, below the base ${floor}; raised to ${floor}`,
      });
      const raised = { ...rule, tier: floor };
      rules.push(raised);
      parts.push({ origin: 'local', key: rule.id, note: `raised to base floor ${floor}`, text: describeRule(raised) });
      continue;
    }
    rules.push(rule);
    parts.push({ origin: 'local', key: rule.id, text: describeRule(rule) });
  }

  const policy: Policy = { ...local, ...base, default_tier: defaultTier, rules };
  return { policy, parts, findings };
}

/** What a rule matches (its command and argument patterns); its reason is only words. */
function matchOf(rule: PolicyRule): string {
  return JSON.stringify([rule.command.trim().split(/\s+/), rule.args_any ?? null, rule.args_all ?? null]);
}

export interface MergedRecord {
  value: Record<string, unknown>;
  parts: Part[];
}

type Entry = Record<string, unknown>;
const isRecord = (v: unknown): v is Entry => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The field that names an entry of a list: `id`, else `email`, else `name`. */
function entryKey(entry: unknown): string | null {
  if (!isRecord(entry)) return null;
  for (const field of ['id', 'email', 'name']) {
    const v = entry[field];
    if (typeof v === 'string' && v !== '') return `${field}=${v}`;
  }
  return null;
}

/**
 * formtags.yaml, commands.json, trust.yaml: collections merged by name, local wins. A map merges
 * by key; a list of records merges by its `id`/`email`/`name`; anything else is replaced.
 */
export function mergeByName(base: Entry | null, local: Entry | null): MergedRecord {
  if (base === null || local === null) {
    const value = local ?? base ?? {};
    const origin: Origin = local !== null ? 'local' : 'base';
    return { value, parts: Object.keys(value).map((key) => ({ origin, key, text: key })) };
  }
  const value: Entry = {};
  const parts: Part[] = [];
  for (const key of new Set([...Object.keys(base), ...Object.keys(local)])) {
    const b = base[key];
    const l = local[key];
    if (l === undefined) {
      value[key] = b;
      parts.push({ origin: 'base', key, text: key });
      continue;
    }
    if (isRecord(b) && isRecord(l)) {
      const merged: Entry = { ...b, ...l };
      value[key] = merged;
      for (const name of Object.keys(merged)) {
        const origin: Origin = name in l ? 'local' : 'base';
        parts.push({ origin, key: `${key}.${name}`, ...(name in l && name in b ? { note: 'replaces base' } : {}), text: `${key}.${name}` });
      }
      continue;
    }
    if (Array.isArray(b) && Array.isArray(l) && [...b, ...l].every((e) => entryKey(e) !== null)) {
      const byKey = new Map<string, { entry: unknown; origin: Origin; replaced: boolean }>();
      for (const e of b) byKey.set(entryKey(e) as string, { entry: e, origin: 'base', replaced: false });
      for (const e of l) {
        const k = entryKey(e) as string;
        byKey.set(k, { entry: e, origin: 'local', replaced: byKey.has(k) });
      }
      value[key] = [...byKey.values()].map((v) => v.entry);
      for (const [k, v] of byKey) parts.push({ origin: v.origin, key: `${key}[${k}]`, ...(v.replaced ? { note: 'replaces base' } : {}), text: `${key}[${k}]` });
      continue;
    }
    value[key] = l;
    parts.push({ origin: 'local', key, ...(b !== undefined ? { note: 'replaces base' } : {}), text: key });
  }
  return { value, parts };
}
