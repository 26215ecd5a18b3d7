import { join, normalize } from 'node:path';
import { parseDocument, stringify as stringifyYaml } from 'yaml';
import { AgenceError } from '../core/errors.js';
import {
  type LayerFinding,
  type MergeKind,
  mergeByName,
  mergeItems,
  mergeKindFor,
  mergeLaws,
  mergeOverride,
  mergePolicy,
  type Part,
  type Policy,
} from '../core/layering.js';
import { ruleProblem } from '../core/guardPolicy.js';
import { type MasterLayer, TIERS } from '../core/schemas.js';
import { readTextFile } from '../store/files.js';
import { layerDirs } from './layerFiles.js';
import type { ShardPaths } from './layout.js';

/**
 * The effective view (DESIGN §3): base layer (the master at the locked commit, in base/) plus
 * the shard's local layer. Every reader of layered content goes through this module.
 */

export interface EffectiveFile {
  layer: MasterLayer;
  path: string;
  merge: MergeKind;
  content: string;
  parts: Part[];
  findings: LayerFinding[];
  /** Files the content came from, relative to the shard root. */
  sources: string[];
}

export function safeLayerPath(relPath: string): string {
  const clean = normalize(relPath).replace(/^\.\/+/, '');
  if (clean === '' || clean.startsWith('..') || clean.startsWith('/') || clean.includes('\0')) {
    throw new AgenceError('usage', `"${relPath}" is not a path inside the layer`, { fix: 'give a path like LAWS.md or agents/claudia.md' });
  }
  return clean;
}

function parseStructured(text: string | null, file: string, shown: string): unknown {
  if (text === null) return null;
  if (file.endsWith('.json')) {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new AgenceError('corrupt', `${shown} is not valid JSON (${(error as Error).message})`, { file, fix: 'fix the file, or restore it with `git checkout -- <file>`' });
    }
  }
  const doc = parseDocument(text, { prettyErrors: true });
  const problem = doc.errors[0];
  if (problem) {
    const line = problem.linePos?.[0]?.line;
    throw new AgenceError('corrupt', `${shown}${line ? ` line ${line}` : ''} is not valid YAML (${problem.message.split('\n')[0]})`, {
      file,
      fix: 'fix the YAML, or restore it with `git checkout -- <file>`',
    });
  }
  return doc.toJS();
}

function asRecord(value: unknown, file: string, shown: string): Record<string, unknown> | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new AgenceError('corrupt', `${shown} must hold a mapping at the top level`, { file, fix: 'fix the file, or restore it with `git checkout -- <file>`' });
  }
  return value as Record<string, unknown>;
}

/** The line of `rules[index]` in a policy file, for errors that name it. */
function ruleLine(text: string, index: number): number | null {
  const doc = parseDocument(text, { keepSourceTokens: false });
  const node = doc.getIn(['rules', index], true) as { range?: [number, number, number] } | undefined;
  if (!node?.range) return null;
  return text.slice(0, node.range[0]).split('\n').length;
}

function asPolicy(value: Record<string, unknown> | null, text: string | null, file: string, shown: string): Policy | null {
  if (value === null) return null;
  const bad = (what: string, line: number | null = null) =>
    new AgenceError('corrupt', `${shown}${line ? ` line ${line}` : ''}: ${what}`, { file, fix: 'fix the policy (tiers are T0..T4, every rule needs id, command and tier); until then the guard refuses every command' });
  const isTier = (t: unknown) => typeof t === 'string' && (TIERS as readonly string[]).includes(t);
  if (value.default_tier !== undefined && !isTier(value.default_tier)) throw bad(`default_tier "${String(value.default_tier)}" is not a tier`);
  if (value.rules !== undefined && !Array.isArray(value.rules)) throw bad('rules must be a list');
  for (const [i, rule] of ((value.rules as unknown[]) ?? []).entries()) {
    const problem = ruleProblem(rule);
    if (problem) throw bad(`rule ${i + 1}: ${problem}`, text === null ? null : ruleLine(text, i));
  }
  return value as Policy;
}

/** The effective AIPOLICY.yaml as data: base tightened by local (DESIGN §3). */
export function readEffectivePolicy(paths: ShardPaths): { policy: Policy; parts: Part[]; findings: LayerFinding[]; sources: string[] } {
  const dirs = layerDirs(paths, 'codex');
  const read = (dir: string, shown: string) => {
    const file = join(dir, 'AIPOLICY.yaml');
    const text = readTextFile(file, shown);
    return { text, policy: asPolicy(asRecord(parseStructured(text, file, shown), file, shown), text, file, shown) };
  };
  const base = read(dirs.base, '.agence/base/codex/AIPOLICY.yaml');
  const local = read(dirs.local, '.agence/codex/AIPOLICY.yaml');
  if (base.text === null && local.text === null) {
    throw new AgenceError('not_found', 'codex/AIPOLICY.yaml exists in neither the shard nor its master', { fix: 'restore it with `git checkout -- .agence/codex/AIPOLICY.yaml`, or run `agence ^init` to recreate the default' });
  }
  const merged = mergePolicy(base.policy, local.policy);
  const sources = [...(base.text !== null ? ['.agence/base/codex/AIPOLICY.yaml'] : []), ...(local.text !== null ? ['.agence/codex/AIPOLICY.yaml'] : [])];
  return { ...merged, sources };
}

/** The two layers' texts of one file (null where a layer has none): what its effective content is made of. */
export function layerTexts(paths: ShardPaths, layer: MasterLayer, relPath: string): { base: string | null; local: string | null } {
  const path = safeLayerPath(relPath);
  const dirs = layerDirs(paths, layer);
  return { base: readTextFile(join(dirs.base, path), `.agence/base/${layer}/${path}`), local: readTextFile(join(dirs.local, path), `.agence/${layer}/${path}`) };
}

/** The effective content of one file of a layer, with the part each layer gave (from `texts` when the caller has read them). */
export function readEffective(paths: ShardPaths, layer: MasterLayer, relPath: string, texts = layerTexts(paths, layer, relPath)): EffectiveFile {
  const path = safeLayerPath(relPath);
  const dirs = layerDirs(paths, layer);
  const baseFile = join(dirs.base, path);
  const localFile = join(dirs.local, path);
  const shownBase = `.agence/base/${layer}/${path}`;
  const shownLocal = `.agence/${layer}/${path}`;
  const { base, local } = texts;
  if (base === null && local === null) {
    throw new AgenceError('not_found', `${layer}/${path} exists in neither the shard nor its master`, { fix: `list what there is with \`agence ^codex\`` });
  }
  const sources = [...(base !== null ? [shownBase] : []), ...(local !== null ? [shownLocal] : [])];
  const merge = mergeKindFor(layer, path);
  const common = { layer, path, merge, sources };
  switch (merge) {
    case 'laws':
      return { ...common, ...mergeLaws(base, local) };
    case 'items':
      return { ...common, ...mergeItems(base, local) };
    case 'policy': {
      const merged = readEffectivePolicy(paths);
      return { ...common, content: stringifyYaml(merged.policy), parts: merged.parts, findings: merged.findings };
    }
    case 'by-name': {
      const merged = mergeByName(
        asRecord(parseStructured(base, baseFile, shownBase), baseFile, shownBase),
        asRecord(parseStructured(local, localFile, shownLocal), localFile, shownLocal),
      );
      const content = path.endsWith('.json') ? `${JSON.stringify(merged.value, null, 2)}\n` : stringifyYaml(merged.value);
      return { ...common, content, parts: merged.parts, findings: [] };
    }
    case 'override':
      return { ...common, ...mergeOverride(base, local) };
  }
}

