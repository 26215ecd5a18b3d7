import * as z from './zod.js';
import { AgenceError } from './errors.js';
import { commitId } from './schemas.js';

/**
 * Tangents (DESIGN §1): one agent working one task in its own git worktree, on branch
 * `agence/tangent/<name>`. The name is used as a ref component and as a folder name, so it is
 * checked against both before it touches either. Pure.
 */

export const TANGENT_BRANCH_PREFIX = 'agence/tangent/';

// Lowercase letters, digits, '.', '_', '-'; no '..', no trailing '.' or '.lock' (git refuses those as ref components).
const TANGENT_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function checkTangentName(name: string): string {
  if (!TANGENT_NAME_RE.test(name) || name.includes('..') || name.endsWith('.') || name.endsWith('.lock')) {
    throw new AgenceError('usage', `"${name}" is not a tangent name`, {
      fix: 'use 1-64 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit (no "..", not ending in "." or ".lock")',
    });
  }
  return name;
}

export function tangentBranch(name: string): string {
  return `${TANGENT_BRANCH_PREFIX}${checkTangentName(name)}`;
}

/** The tangent of a branch name (`agence/tangent/x` -> `x`), or null for any other branch. */
export function tangentOfBranch(branch: string): string | null {
  const bare = branch.startsWith('refs/heads/') ? branch.slice('refs/heads/'.length) : branch;
  return bare.startsWith(TANGENT_BRANCH_PREFIX) ? bare.slice(TANGENT_BRANCH_PREFIX.length) : null;
}


/** `nexus/tangents/<name>.json`: where a tangent started and who works in it. */
export const TangentRecordSchema = z.deferred(() => z.object({
  schema: z.literal(1),
  name: z.string().check(z.regex(TANGENT_NAME_RE)),
  branch: z.string(),
  /** The commit it started from, and the branch that commit was on (null: a detached start). */
  base: commitId(),
  from: z.nullable(z.string()),
  agent: z.nullable(z.string()),
  task: z.nullable(z.string()),
  /** The session the agent works in (AGENCE_SESSION), when an agent was given. */
  session: z.nullable(z.string()),
  /** The tmux window (session:window) its agent was started in, if any. */
  window: z._default(z.nullable(z.string()), null),
  /** The sequent it belongs to, if any. */
  sequent: z.nullable(z.string()),
  created: z.string(),
}));
export type TangentRecord = z.infer<typeof TangentRecordSchema>;
