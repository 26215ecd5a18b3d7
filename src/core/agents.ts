import * as z from './zod.js';
import { AgenceError } from './errors.js';
import { LABELS, splitFrontMatter } from './knowledgeItem.js';
import { firstIssue, NAME_RE } from './schemas.js';
import { nearest } from './suggest.js';

/**
 * Agents (personas) and model aliases: the records of `codex/agents/*.md` and `codex/models.yaml`,
 * and how an `@agent[.model]` reference resolves to a provider and a model id. Pure.
 */

/** A peer of a consensus persona: a model alias, with its weight and its own temperature. */
export const PeerSchema = z.deferred(() => z.object({
  model: z.string().check(z.minLength(1)),
  weight: z._default(z.number().check(z.positive()), 1),
  temperature: z.optional(z.number().check(z.gte(0), z.lte(2))),
}));
export type Peer = z.infer<typeof PeerSchema>;

export const PersonaSchema = z.deferred(() => z.looseObject({
  name: z.string().check(z.regex(NAME_RE, 'lowercase letters, digits, ".", "_" or "-"')),
  model: z.string().check(z.minLength(1)),
  provider: z.string().check(z.minLength(1)),
  capabilities: z._default(z.array(z.string()), []),
  context_window: z._default(z.int().check(z.positive()), 128000),
  handoff_rules: z._default(z.array(z.string()), []),
  constraints: z._default(z.array(z.string()), []),
  clearance: z._default(z.enum(LABELS), 'internal'),
  launch: z.optional(z.string()),
  /** The non-interactive command a sequent runs (`claude -p {task}`): plain words, or a list of words. */
  batch: z.optional(z.union([z.string(), z.array(z.string())])),
  /** For a consensus persona: the peers asked, as aliases or `{model, weight, temperature}`. */
  peers: z.optional(z.array(z.union([z.string(), PeerSchema]))),
  /** For a consensus persona: the model alias that reconciles the peers with --judge (default: the first peer). */
  judge: z.optional(z.string()),
}));
export type PersonaFields = z.infer<typeof PersonaSchema>;

export interface Persona extends PersonaFields {
  /** The persona prompt: the Markdown body. */
  prompt: string;
  /** Where it came from, relative to the shard root. */
  source: string;
}

export const ModelEntrySchema = z.deferred(() => z.object({
  provider: z.string().check(z.minLength(1)),
  /** The provider's own model id. */
  id: z.string().check(z.minLength(1)),
  context_window: z._default(z.int().check(z.positive()), 128000),
  /** US dollars per million tokens. */
  price: z._default(z.object({ input: z.number().check(z.gte(0)), output: z.number().check(z.gte(0)) }), { input: 0, output: 0 }),
}));
export type ModelEntry = z.infer<typeof ModelEntrySchema>;

export const ModelsFileSchema = z.deferred(() => z.object({
  version: z.literal(1),
  models: z.record(z.string(), ModelEntrySchema),
}));
export type ModelsFile = z.infer<typeof ModelsFileSchema>;

export interface YamlParser {
  parse(text: string): unknown;
}

/**
 * A one-file-per-name codex entry (persona, skill): front matter checked against `schema` and its
 * `name:` against the file name, the body as the prompt. Every problem names the file and the fix.
 */
function parseNamedEntry<S extends z.ZodMiniType<{ name: string }>>(text: string, shown: string, expectedName: string, yaml: YamlParser, schema: S, what: string): { data: z.infer<S>; prompt: string } {
  const fix = `fix the front matter of ${shown}, or restore it with \`git checkout -- ${shown}\``;
  const split = splitFrontMatter(text);
  if (!split) throw new AgenceError('corrupt', `${shown} has no front matter (a --- block of YAML at the top)`, { file: shown, fix });
  let value: unknown;
  try {
    value = yaml.parse(split.yaml);
  } catch (error) {
    throw new AgenceError('corrupt', `the front matter of ${shown} is not YAML (${(error as Error).message.split('\n')[0]})`, { file: shown, fix });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AgenceError('corrupt', `the front matter of ${shown} is not ${what} (${firstIssue(parsed.error)})`, { file: shown, fix });
  const data = parsed.data as z.infer<S>;
  if (data.name !== expectedName) throw new AgenceError('corrupt', `${shown} says name: ${data.name}, but its file name says ${expectedName}`, { file: shown, fix: `make them agree (name: ${expectedName})` });
  return { data, prompt: split.body.trim() };
}

export function parsePersona(text: string, shown: string, expectedName: string, yaml: YamlParser): Persona {
  const { data, prompt } = parseNamedEntry(text, shown, expectedName, yaml, PersonaSchema, 'a persona');
  return { ...data, prompt, source: shown };
}

/** What one call goes to: the provider, the provider's model id, and what it costs. */
export interface ResolvedModel {
  alias: string;
  provider: string;
  id: string;
  contextWindow: number;
  price: { input: number; output: number };
}

/** A model alias of `codex/models.yaml`, or a clear error with the nearest alias. */
export function resolveAlias(alias: string, models: ModelsFile, where: string): ResolvedModel {
  const entry = models.models[alias];
  if (!entry) {
    const guess = nearest(alias, Object.keys(models.models));
    throw new AgenceError('not_found', `unknown model alias "${alias}" (${where})`, {
      fix: `${guess ? `did you mean ${guess}? ` : ''}aliases are in codex/models.yaml: ${Object.keys(models.models).join(', ')}`,
    });
  }
  return { alias, provider: entry.provider, id: entry.id, contextWindow: entry.context_window, price: entry.price };
}

/** The model a persona answers with: `@agent.model` wins over the persona's own. */
export function modelFor(persona: Persona, override: string | null, models: ModelsFile): ResolvedModel {
  if (override) return resolveAlias(override, models, `@${persona.name}.${override}`);
  return resolveAlias(persona.model, models, `model of ${persona.source}`);
}

/** The peers of a consensus persona, each as `{model, weight, temperature}`. */
export function peersOf(persona: Persona): Peer[] {
  return (persona.peers ?? []).map((p) => (typeof p === 'string' ? { model: p, weight: 1 } : p));
}

/** Price of a call in US dollars (prices are per million tokens). */
export function callCost(price: { input: number; output: number }, inputTokens: number, outputTokens: number): number {
  // price x tokens is in millionths of a dollar; keep whole millionths.
  return Math.round(price.input * inputTokens + price.output * outputTokens) / 1e6;
}

/**
 * A conversation turn. Chat keeps the turns in the session's `runstate.memory_state.conversation`,
 * so `^save`, `^resume` and `^handoff` carry them without a new session field.
 */
export const TurnSchema = z.deferred(() => z.object({
  at: z.string(),
  role: z.enum(['user', 'assistant']),
  agent: z.string(),
  /** The model alias that answered (assistant turns). */
  model: z.optional(z.string()),
  text: z.string(),
  /**
   * Items labelled secret or above the answer was made from (in its context, or in the turns
   * before it): a turn that carries them goes, like them, only to a local provider.
   */
  secret: z.optional(z.array(z.string())),
}));
export type Turn = z.infer<typeof TurnSchema>;
const ConversationSchema = z.deferred(() => z.array(TurnSchema));

/** The turns of a session's memory; a value that is not a conversation is corrupt data, named. */
export function conversationOf(memory: Record<string, unknown>, session: string): Turn[] {
  if (memory.conversation === undefined) return [];
  const parsed = ConversationSchema.safeParse(memory.conversation);
  if (!parsed.success) {
    throw new AgenceError('corrupt', `session ${session} has a damaged conversation (${firstIssue(parsed.error)})`, { fix: 'start a fresh one with --new' });
  }
  return parsed.data;
}

export function withTurns(memory: Record<string, unknown>, session: string, turns: readonly Turn[]): Record<string, unknown> {
  return { ...memory, conversation: [...conversationOf(memory, session), ...turns] };
}

/**
 * The turns that fit: the newest first, until `budget` tokens (estimated by `measure`) are used.
 * Old turns are dropped in pairs so the history never starts with an answer.
 */
export function fitTurns(turns: readonly Turn[], budget: number, measure: (text: string) => number): Turn[] {
  const kept: Turn[] = [];
  let used = 0;
  for (let i = turns.length - 1; i >= 0; i--) {
    const turn = turns[i] as Turn;
    used += measure(turn.text);
    if (used > budget) break;
    kept.unshift(turn);
  }
  while (kept[0]?.role === 'assistant') kept.shift();
  return kept;
}

/** What a skill puts before its prompt: a read-only git command's output, or files. */
export const SkillContextSchema = z.deferred(() => z.union([
  z.strictObject({ git: z.string().check(z.minLength(1)) }),
  /** `args`: the files named on the command line; else one path inside the repository. */
  z.strictObject({ files: z.string().check(z.minLength(1)) }),
]));
export type SkillContext = z.infer<typeof SkillContextSchema>;

export const SkillSchema = z.deferred(() => z.looseObject({
  name: z.string().check(z.regex(NAME_RE)),
  description: z.string(),
  /** Who runs it (default: the chat's agent). */
  agent: z.optional(z.string()),
  inputs: z._default(z.array(z.object({ name: z.string(), description: z._default(z.string(), ''), required: z._default(z.boolean(), false) })), []),
  context: z._default(z.array(SkillContextSchema), []),
  triggers: z.optional(z.array(z.string())),
}));
export type SkillFields = z.infer<typeof SkillSchema>;

export interface Skill extends SkillFields {
  /** A prompt workflow (it names an agent, inputs or context) or a guide for agents to read. */
  kind: 'workflow' | 'guide';
  prompt: string;
  source: string;
}

/** git subcommands a skill may run for context: they read, never change anything. */
export const SKILL_GIT_COMMANDS = ['diff', 'log', 'show', 'status', 'blame', 'ls-files', 'shortlog'] as const;

export function parseSkill(text: string, shown: string, expectedName: string, yaml: YamlParser): Skill {
  const { data, prompt } = parseNamedEntry(text, shown, expectedName, yaml, SkillSchema, 'a skill');
  for (const c of data.context) {
    if ('git' in c && !(SKILL_GIT_COMMANDS as readonly string[]).includes(c.git.trim().split(/\s+/)[0] as string)) {
      throw new AgenceError('corrupt', `${shown}: context git "${c.git}" is not a read-only git command`, { file: shown, fix: `use one of git ${SKILL_GIT_COMMANDS.join(', ')}` });
    }
  }
  const workflow = data.agent !== undefined || data.inputs.length > 0 || data.context.length > 0;
  return { ...data, kind: workflow ? 'workflow' : 'guide', prompt, source: shown };
}

/** The skill's prompt with `{{input}}` (all arguments) and `{{name}}` (its inputs, in order) filled in. */
export function renderSkill(skill: Skill, args: readonly string[]): string {
  const missing = skill.inputs.filter((input, i) => input.required && (args[i] === undefined || args[i] === ''));
  if (missing.length > 0) {
    throw new AgenceError('usage', `^${skill.name} needs ${missing.map((m) => m.name).join(', ')}`, { fix: `usage: agence ^${skill.name} ${skill.inputs.map((i) => (i.required ? i.name.toUpperCase() : `[${i.name.toUpperCase()}]`)).join(' ')}` });
  }
  const values = new Map(skill.inputs.map((input, i) => [input.name, args[i] ?? ''] as const));
  return skill.prompt.replace(/\{\{\s*([a-z_][a-z0-9_-]*)\s*\}\}/gi, (whole, name: string) => (name === 'input' ? args.join(' ') : (values.get(name) ?? whole)));
}
