import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { applyGrants, classifyArgv, classifyScript, type GuardContext, type ParseScript, type Verdict } from '../core/commandGuard.js';
import { AgenceError } from '../core/errors.js';
import { type CompiledPolicy, compilePolicy, PolicyRuleError } from '../core/guardPolicy.js';
import type { Policy } from '../core/layering.js';
import type { Tier } from '../core/schemas.js';
import { findRepo, type ShardPaths, shardPaths } from '../shard/layout.js';
import { bashParser, parseScript } from './bashSyntax.js';

/**
 * The command guard as a service: the effective policy of the shard around `cwd` (the built-in
 * default outside a shard), the bash parser, and who is asking. A policy that cannot be read is
 * an integrity failure: the guard then refuses everything rather than allow anything.
 */

export interface Guard {
  policy: CompiledPolicy;
  /** Where the policy came from, for reasons. */
  sources: string[];
  parse: ParseScript;
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
  actorEmail?: () => Promise<string | null>;
}

/** The repository's default branch names: origin's HEAD when known, and main/master. */
function defaultBranches(root: string | null): string[] {
  const names = new Set(['main', 'master']);
  if (root) {
    const head = join(root, '.git', 'refs', 'remotes', 'origin', 'HEAD');
    if (existsSync(head)) {
      const match = /^ref: refs\/remotes\/origin\/(.+)$/m.exec(readFileSync(head, 'utf8'));
      if (match) names.add((match[1] as string).trim());
    }
  }
  return [...names];
}

async function builtInPolicy(): Promise<{ policy: Policy; sources: string[] }> {
  const { readTemplate } = await import('../shard/templates.js');
  return { policy: parse(readTemplate('codex/AIPOLICY.yaml')) as Policy, sources: ['built-in codex/AIPOLICY.yaml'] };
}

async function shardPolicy(paths: ShardPaths): Promise<{ policy: Policy; sources: string[] }> {
  const { settledBase } = await import('../shard/manifest.js');
  if (!settledBase(paths)) await (await import('../shard/master.js')).ensureBase(paths);
  const { readEffectivePolicy } = await import('../shard/effectiveView.js');
  return readEffectivePolicy(paths);
}

export async function loadGuard(options: GuardOptions): Promise<Guard> {
  const repo = findRepo(options.cwd);
  const shard = repo && existsSync(join(repo.root, '.agence', 'agence.json')) ? shardPaths(repo) : null;
  const [{ policy, sources }, parser] = await Promise.all([shard ? shardPolicy(shard) : builtInPolicy(), bashParser()]);
  let compiled: CompiledPolicy;
  try {
    compiled = compilePolicy(policy, defaultBranches(repo?.root ?? null));
  } catch (error) {
    if (!(error instanceof PolicyRuleError)) throw error;
    throw new AgenceError('corrupt', `${sources.join(' + ')}: ${error.message}`, { fix: 'fix the policy; until then the guard refuses every command' });
  }
  const isAdmin = shard && options.mentionsCodex && !options.env.AGENCE_AGENT ? await actorIsAdmin(shard, options) : false;
  return {
    policy: compiled,
    sources,
    parse: (script) => parseScript(parser, script),
    ctx: { cwd: options.cwd, repoRoot: repo?.root ?? null, home: options.env.HOME ?? '/', isAdmin },
    shard,
  };
}

async function actorIsAdmin(shard: ShardPaths, options: GuardOptions): Promise<boolean> {
  const email = options.actorEmail ? await options.actorEmail() : await (await import('../git/git.js')).configGet(shard.root, 'user.email');
  if (!email) return false;
  const { admins } = await import('./admins.js');
  return admins(shard).includes(email.toLowerCase());
}

/** Classify a shell command line; `grantsFor` lowers T2 parts that a capability token covers. */
export function decide(guard: Guard, command: string, actor: string, covers: ((argv: string[]) => string | null) | null = null): GuardDecision {
  const verdict = classifyScript(command, guard.policy, guard.parse, guard.ctx);
  return finishDecision(verdict, command, actor, covers, guard.sources);
}

/** Classify an argv run without a shell (validated commands), with a tier floor. */
export function decideArgv(guard: Guard, argv: readonly string[], actor: string, floor: Tier, covers: ((argv: string[]) => string | null) | null = null): GuardDecision {
  const verdict = classifyArgv(argv, guard.policy, guard.parse, guard.ctx, { tier: floor, rule: 'commands.json', reason: `the command's own tier floor is ${floor}` });
  return finishDecision(verdict, argv.join(' '), actor, covers, guard.sources);
}

function finishDecision(verdict: Verdict, command: string, actor: string, covers: ((argv: string[]) => string | null) | null, sources: string[]): GuardDecision {
  const granted = covers ? applyGrants(verdict, covers) : { ...verdict, grants: [] };
  return { ...granted, command, actor, policy: sources };
}
