import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { applyGrants, classifyArgv, classifyScript, type GuardContext, type ParseScript, type Verdict } from '../core/commandGuard.js';
import { AgenceError } from '../core/errors.js';
import { type CompiledPolicy, compilePolicy, PolicyRuleError } from '../core/guardPolicy.js';
import type { Tier } from '../core/schemas.js';
import { findRepo, type RepoPaths, type ShardPaths, shardPaths } from '../shard/layout.js';
import { plainWords } from '../core/plainWords.js';
import { loadPolicy } from './policySource.js';

/**
 * The command guard as a service: the effective policy of the shard around `cwd` (the built-in
 * default outside a shard), the bash parser, and who is asking. A policy that cannot be read is
 * an integrity failure: the guard then refuses everything rather than allow anything.
 */

export interface Guard {
  policy: CompiledPolicy;
  /** Where the policy came from, for reasons. */
  sources: string[];
  /** The bash grammar, loaded the first time a line is more than plain words. */
  grammar: ParseScript | null;
  ctx: GuardContext;
  /** The shard, when the guard runs in one (grants and logs live in its NEXUS). */
  shard: ShardPaths | null;
}

export interface GuardDecision extends Verdict {
  command: string;
  actor: string;
  /** Capability tokens that lowered a T2 part to T1. */
  grants: string[];
  policy: string[];
}

export interface GuardOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The text to be classified, so that admin status (git config, trust.yaml) is looked up only when it matters. */
  mentionsCodex: boolean;
}

/** The repository's default branch names: origin's HEAD when known, and main/master. */
function defaultBranches(repo: RepoPaths | null): string[] {
  const names = new Set(['main', 'master']);
  const head = repo ? readIfExists(join(repo.mainRoot, '.git', 'refs', 'remotes', 'origin', 'HEAD')) : null;
  const match = head === null ? null : /^ref: refs\/remotes\/origin\/(.+)$/m.exec(head);
  if (match) names.add((match[1] as string).trim());
  return [...names];
}

/** The branch checked out in this worktree (from its HEAD file), null when detached or unknown. */
function currentBranch(repo: RepoPaths | null): string | null {
  if (!repo) return null;
  const dotGit = join(repo.root, '.git');
  let gitDir = dotGit;
  if (statSync(dotGit).isFile()) {
    const line = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'));
    if (!line) return null;
    gitDir = resolve(repo.root, (line[1] as string).trim());
  }
  const head = readIfExists(join(gitDir, 'HEAD'));
  return head === null ? null : (/^ref: refs\/heads\/(.+)$/m.exec(head)?.[1]?.trim() ?? null);
}

function readIfExists(file: string): string | null {
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

export async function loadGuard(options: GuardOptions): Promise<Guard> {
  const repo = findRepo(options.cwd);
  const shard = repo && existsSync(join(repo.root, '.agence', 'agence.json')) ? shardPaths(repo) : null;
  const { policy, sources } = await loadPolicy(shard, options.env);
  let compiled: CompiledPolicy;
  try {
    compiled = compilePolicy(policy, defaultBranches(repo));
  } catch (error) {
    if (!(error instanceof PolicyRuleError)) throw error;
    throw new AgenceError('corrupt', `${sources.join(' + ')}: ${error.message}`, { fix: 'fix the policy; until then the guard refuses every command' });
  }
  const isAdmin = shard && options.mentionsCodex && !options.env.AGENCE_AGENT ? await actorIsAdmin(shard, options) : false;
  return {
    policy: compiled,
    sources,
    grammar: null,
    ctx: { cwd: options.cwd, repoRoot: repo?.root ?? null, home: options.env.HOME ?? '/', isAdmin, branch: currentBranch(repo) },
    shard,
  };
}

async function actorIsAdmin(shard: ShardPaths, options: GuardOptions): Promise<boolean> {
  const { resolveActor } = await import('../shard/actor.js');
  return (await resolveActor(shard, options.env)).role === 'admin';
}

class ParserNeeded extends Error {}

/**
 * Run a classification, reading plain-word lines directly and loading the bash grammar only when a
 * line (or one handed to `bash -c`, `eval`, ...) needs it; then the classification starts over.
 */
async function withParser(guard: Guard, classify: (parse: ParseScript) => Verdict): Promise<Verdict> {
  for (;;) {
    const { grammar } = guard;
    const parse: ParseScript = (script) => {
      const plain = plainWords(script);
      if (plain) return plain;
      if (!grammar) throw new ParserNeeded();
      return grammar(script);
    };
    try {
      return classify(parse);
    } catch (error) {
      if (!(error instanceof ParserNeeded)) throw error;
      const { bashParser, parseScript } = await import('./bashSyntax.js');
      const parser = await bashParser();
      guard.grammar = (script) => parseScript(parser, script);
    }
  }
}

/** Classify a shell command line; `covers` lowers T2 parts that a capability token covers. */
export async function decide(guard: Guard, command: string, actor: string, covers: ((argv: string[]) => string | null) | null = null): Promise<GuardDecision> {
  const verdict = await withParser(guard, (parse) => classifyScript(command, guard.policy, parse, guard.ctx));
  return finishDecision(verdict, command, actor, covers, guard.sources);
}

/** Classify an argv run without a shell (validated commands), with a tier floor. */
export async function decideArgv(guard: Guard, argv: readonly string[], actor: string, floor: Tier, covers: ((argv: string[]) => string | null) | null = null): Promise<GuardDecision> {
  const floorReason = { tier: floor, rule: 'commands.json', reason: `the command's own tier floor is ${floor}` };
  const verdict = await withParser(guard, (parse) => classifyArgv(argv, guard.policy, parse, guard.ctx, floorReason));
  return finishDecision(verdict, argv.join(' '), actor, covers, guard.sources);
}

function finishDecision(verdict: Verdict, command: string, actor: string, covers: ((argv: string[]) => string | null) | null, sources: string[]): GuardDecision {
  const granted = covers ? applyGrants(verdict, covers) : { ...verdict, grants: [] };
  return { ...granted, command, actor, policy: sources };
}

/** The rules (or findings) that set the decision's tier, for logs and the ledger. */
export function topReasons(d: GuardDecision): string[] {
  return d.reasons.filter((r) => r.tier === d.tier).map((r) => r.rule ?? r.reason);
}
