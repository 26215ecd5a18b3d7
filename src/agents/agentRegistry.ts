import * as yaml from 'yaml';
import { modelFor, ModelsFileSchema, type ModelsFile, parsePersona, parseSkill, type Persona, type ResolvedModel, type Skill } from '../core/agents.js';
import { AgenceError } from '../core/errors.js';
import { firstIssue } from '../core/schemas.js';
import { nearest } from '../core/suggest.js';
import { layerTexts, readEffective } from '../shard/effectiveView.js';
import { listLayer } from '../shard/layerFiles.js';
import type { ShardPaths } from '../shard/layout.js';
import { readManifest } from '../shard/manifest.js';
import { parsedOnce, shardCache } from '../shard/parsedCache.js';

/**
 * The agent registry: personas from the effective `codex/agents/*.md`, skills from
 * `codex/skills/*.md`, and model aliases from `codex/models.yaml` (base + local, merged by name).
 */

const YAML = { parse: (text: string) => yaml.parse(text) };

/** Names of the one-file-per-name entries of a codex folder (agents/, skills/). */
export function codexNames(paths: ShardPaths, folder: 'agents' | 'skills'): string[] {
  const re = new RegExp(`^${folder}/([^/]+)\\.md$`);
  return listLayer(paths, 'codex')
    .map((f) => re.exec(f.path)?.[1])
    .filter((n): n is string => n !== undefined)
    .sort();
}

/** One file of a codex folder in the effective view, or a clear error with the nearest name. */
export function codexEntry(paths: ShardPaths, folder: 'agents' | 'skills', name: string): { content: string; shown: string } {
  const names = codexNames(paths, folder);
  if (!names.includes(name)) {
    const guess = nearest(name, names);
    const what = folder === 'agents' ? { one: `agent @${name}`, guess: `@${guess}`, list: '`agence ^agents`' } : { one: `skill ${name}`, guess: `^${guess}`, list: '`agence ^skills`' };
    throw new AgenceError('not_found', `no ${what.one} in this shard's codex`, { fix: `${guess ? `did you mean ${what.guess}? ` : ''}${what.list} lists them (${names.join(', ')})` });
  }
  const file = readEffective(paths, 'codex', `${folder}/${name}.md`);
  return { content: file.content, shown: file.sources[file.sources.length - 1] as string };
}


/** A persona, parsed once per text (nexus/cache/, shard/parsedCache.ts): chat reads it before every call. */
export function loadPersona(paths: ShardPaths, name: string): Persona {
  const { content, shown } = codexEntry(paths, 'agents', name);
  return parsedOnce(shardCache(paths, `persona-${name}`), [content, shown], () => parsePersona(content, shown, name, YAML));
}

export function listPersonas(paths: ShardPaths): Persona[] {
  return codexNames(paths, 'agents').map((name) => loadPersona(paths, name));
}

export function loadSkill(paths: ShardPaths, name: string): Skill {
  const { content, shown } = codexEntry(paths, 'skills', name);
  return parseSkill(content, shown, name, YAML);
}

export function listSkills(paths: ShardPaths): Skill[] {
  return codexNames(paths, 'skills').map((name) => loadSkill(paths, name));
}

/** The effective model table, parsed once per pair of layer texts (as personas are). */
export function loadModels(paths: ShardPaths): ModelsFile {
  const texts = layerTexts(paths, 'codex', 'models.yaml');
  return parsedOnce(shardCache(paths, 'models'), [texts.base, texts.local], () => parseModels(paths, texts));
}

function parseModels(paths: ShardPaths, texts: ReturnType<typeof layerTexts>): ModelsFile {
  let file;
  try {
    file = readEffective(paths, 'codex', 'models.yaml', texts);
  } catch (error) {
    if (error instanceof AgenceError && error.code === 'not_found') {
      throw new AgenceError('not_found', 'this shard has no codex/models.yaml (model aliases and prices)', {
        fix: 'run `agence ^init` to add the default one, or write .agence/codex/models.yaml',
      });
    }
    throw error;
  }
  const parsed = ModelsFileSchema.safeParse(yaml.parse(file.content));
  const shown = file.sources.join(' + ');
  if (!parsed.success) throw new AgenceError('corrupt', `${shown} is not a model table (${firstIssue(parsed.error)})`, { file: shown, fix: 'fix it (see the comments of the default, templates/codex/models.yaml)' });
  return parsed.data;
}

/** Who answers: `@agent[.model]`, else AGENCE_AGENT, else the shard's default agent. */
export interface Routed {
  persona: Persona;
  /** Null for a consensus persona (`peers:`): each peer has its own model. */
  model: ResolvedModel | null;
  models: ModelsFile;
}

export function routeAgent(paths: ShardPaths, ref: { agent: string; model: string | null } | null, env: NodeJS.ProcessEnv): Routed {
  const name = ref?.agent ?? (env.AGENCE_AGENT || readManifest(paths).default_agent);
  const persona = loadPersona(paths, name);
  const models = loadModels(paths);
  return { persona, models, model: persona.peers && !ref?.model ? null : modelFor(persona, ref?.model ?? null, models) };
}
