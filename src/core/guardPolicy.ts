import { maxTier, type Policy } from './layering.js';
import { TIERS, type Tier } from './schemas.js';

/**
 * AIPOLICY.yaml compiled for matching (the semantics are in the file's header). A rule matches a
 * resolved argv when its command name is argv[0], its subcommand words follow in order (options
 * and their values may sit between: `git -C dir push`), at least one argument matches one of
 * `args_any` (when given) and, for every list in `args_all` (when given), at least one argument
 * matches one of its patterns. `*` matches any run of characters; `{default_branch}` stands for
 * each of the repository's default branch names.
 */

export interface GuardRule {
  id: string;
  name: string;
  subcommands: string[];
  tier: Tier;
  reason: string;
  /** The argument patterns, compiled the first time the rule's subcommand words match. */
  patterns: () => { argsAny: RegExp[] | null; argsAll: RegExp[][] };
}

export interface CompiledPolicy {
  defaultTier: Tier;
  /**
   * Rules by command name (argv[0]), for a lookup per part rather than a scan. Every rule is
   * checked when the policy is compiled; the rules of a command name are built the first time it
   * is looked up, and their patterns become regular expressions the first time they are needed
   * (a hook run looks up a few names of some 200).
   */
  byName: Map<string, PolicyRule[]>;
  compiled: Map<string, GuardRule[]>;
  defaultBranches: readonly string[];
}

/** A checked rule of the policy file. */
interface PolicyRule {
  id: string;
  command: string;
  tier: Tier;
  reason?: string;
  args_any?: string[];
  args_all?: string[][];
}

/** A rule that cannot be compiled; the caller names the file and line. */
export class PolicyRuleError extends Error {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(message);
  }
}

const isTier = (t: unknown): t is Tier => typeof t === 'string' && (TIERS as readonly string[]).includes(t);

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export function patternRegex(pattern: string, defaultBranches: readonly string[]): RegExp {
  const branches = `(?:${defaultBranches.map(escapeRegex).join('|')})`;
  const body = pattern
    .split('{default_branch}')
    .map((piece) => piece.split('*').map(escapeRegex).join('.*'))
    .join(branches);
  return new RegExp(`^${body}$`, 's');
}

function stringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** Check the shape of one rule; returns what is wrong, or null. */
export function ruleProblem(rule: unknown): string | null {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) return 'a rule must be a mapping';
  const r = rule as Record<string, unknown>;
  if (typeof r.id !== 'string' || r.id === '') return 'a rule needs an id';
  if (typeof r.command !== 'string' || r.command.trim() === '') return `rule ${r.id} needs a command`;
  if (!isTier(r.tier)) return `rule ${r.id} needs a tier T0..T4`;
  if (r.reason !== undefined && typeof r.reason !== 'string') return `rule ${r.id}: reason must be text`;
  if (r.args_any !== undefined && !stringList(r.args_any)) return `rule ${r.id}: args_any must be a list of patterns`;
  if (r.args_all !== undefined && !(Array.isArray(r.args_all) && r.args_all.every(stringList))) {
    return `rule ${r.id}: args_all must be a list of lists of patterns`;
  }
  return null;
}

export function compilePolicy(policy: Policy, defaultBranches: readonly string[]): CompiledPolicy {
  const defaultTier = policy.default_tier ?? 'T2';
  if (!isTier(defaultTier)) throw new PolicyRuleError(-1, `default_tier "${String(defaultTier)}" is not a tier`);
  const byName = new Map<string, PolicyRule[]>();
  const rules = policy.rules ?? [];
  for (let index = 0; index < rules.length; index++) {
    const raw = rules[index];
    const problem = ruleProblem(raw);
    if (problem) throw new PolicyRuleError(index, problem);
    const rule = raw as PolicyRule;
    const name = (rule.command.match(/\S+/) as RegExpMatchArray)[0];
    const list = byName.get(name);
    if (list) list.push(rule);
    else byName.set(name, [rule]);
  }
  return { defaultTier, byName, compiled: new Map(), defaultBranches };
}

function compileRule(raw: PolicyRule, defaultBranches: readonly string[]): GuardRule {
  const [name = '', ...subcommands] = raw.command.trim().split(/\s+/);
  const compile = (list: string[]) => list.map((p) => patternRegex(p, defaultBranches));
  let compiled: ReturnType<GuardRule['patterns']> | null = null;
  return {
    id: raw.id,
    name,
    subcommands,
    tier: raw.tier,
    reason: typeof raw.reason === 'string' ? raw.reason : '',
    patterns: () => (compiled ??= { argsAny: raw.args_any ? compile(raw.args_any) : null, argsAll: (raw.args_all ?? []).map(compile) }),
  };
}

/** The rules for one command name, compiled on first use. */
function rulesFor(policy: CompiledPolicy, name: string): GuardRule[] {
  let rules = policy.compiled.get(name);
  if (!rules) {
    rules = (policy.byName.get(name) ?? []).map((raw) => compileRule(raw, policy.defaultBranches));
    policy.compiled.set(name, rules);
  }
  return rules;
}

/** The subcommand words appear in order; only options and the value after an option may come between. */
function hasSubcommands(args: readonly string[], words: readonly string[]): boolean {
  let at = 0;
  for (const word of words) {
    let afterOption = false;
    for (;;) {
      const arg = args[at];
      if (arg === undefined) return false;
      at += 1;
      if (arg === word) break;
      if (arg.startsWith('-')) afterOption = !arg.includes('=');
      else if (afterOption) afterOption = false;
      else return false;
    }
  }
  return true;
}

const anyMatches = (patterns: readonly RegExp[], args: readonly string[]) => args.some((a) => patterns.some((p) => p.test(a)));

export function ruleMatches(rule: GuardRule, args: readonly string[]): boolean {
  if (!hasSubcommands(args, rule.subcommands)) return false;
  const { argsAny, argsAll } = rule.patterns();
  if (argsAny && !anyMatches(argsAny, args)) return false;
  return argsAll.every((group) => anyMatches(group, args));
}

/** Every rule matching `name args`; the tier is the highest of them (the policy is monotonic). */
export function matchPolicy(policy: CompiledPolicy, name: string, args: readonly string[]): GuardRule[] {
  return rulesFor(policy, name).filter((rule) => ruleMatches(rule, args));
}

export function highestTier(tiers: readonly Tier[], floor: Tier = 'T0'): Tier {
  return tiers.reduce((acc, t) => maxTier(acc, t), floor);
}
