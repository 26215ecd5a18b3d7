import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as z from '../core/zod.js';
import { AgenceError } from '../core/errors.js';
import { firstIssue } from '../core/schemas.js';
import { formatJson, writeFileAtomic } from '../store/atomic.js';
import { readJsonFile } from '../store/files.js';
import { withFileLock } from '../store/lockFile.js';
import type { ShardPaths } from '../shard/layout.js';

/**
 * Pending approvals, one JSON file each in `nexus/approvals/`. Anything that needs a person's
 * yes before it goes on (a T2 command, a cross-shard handoff started by an agent) files a request
 * here; `^approve <id>` / `^deny <id>` decide it, and the service that filed it acts on the
 * decision. The id is the subject's own id where it has one (a handoff's bundle id), so a user
 * approves what they were shown.
 */
export const APPROVAL_ID_RE = /^[a-z0-9][a-z0-9-]{3,63}$/;
export const APPROVAL_KINDS = ['command', 'handoff'] as const;
export type ApprovalKind = (typeof APPROVAL_KINDS)[number];

export const ApprovalSchema = z.deferred(() => z.object({
  schema: z.literal(1),
  id: z.string().check(z.regex(APPROVAL_ID_RE)),
  kind: z.enum(APPROVAL_KINDS),
  /** What is to be approved, in one line: the command, or "handoff <bundle> to <shard>". */
  subject: z.string(),
  /** Who asked (the actor of DESIGN §5). */
  requested_by: z.string(),
  created: z.string(),
  status: z.enum(['pending', 'approved', 'denied']),
  decided_by: z.optional(z.string()),
  decided_at: z.optional(z.string()),
  /** When an approved request was acted on; an approval is good for one use. */
  used_at: z.optional(z.string()),
  /** Whatever the filing service needs to act on the decision. */
  data: z.record(z.string(), z.unknown()),
}));
export type Approval = z.infer<typeof ApprovalSchema>;

function approvalsDir(paths: ShardPaths): string {
  return join(paths.nexus, 'approvals');
}

function approvalFile(paths: ShardPaths, id: string): string {
  if (!APPROVAL_ID_RE.test(id)) {
    throw new AgenceError('usage', `"${id}" is not an approval id`, { fix: 'use the id the refused command or handoff printed (see `agence ^approve --list`)' });
  }
  return join(approvalsDir(paths), `${id}.json`);
}

export interface ApprovalRequest {
  id: string;
  kind: ApprovalKind;
  subject: string;
  requestedBy: string;
  data: Record<string, unknown>;
}

/** File a request; filing the same id again returns the request already there. */
export function requestApproval(paths: ShardPaths, request: ApprovalRequest, now: Date): Approval {
  const file = approvalFile(paths, request.id);
  return withFileLock(join(approvalsDir(paths), '.lock'), () => {
    const existing = readApproval(paths, request.id);
    if (existing) return existing;
    const approval: Approval = {
      schema: 1,
      id: request.id,
      kind: request.kind,
      subject: request.subject,
      requested_by: request.requestedBy,
      created: now.toISOString(),
      status: 'pending',
      data: request.data,
    };
    writeFileAtomic(file, formatJson(approval));
    return approval;
  });
}

export function readApproval(paths: ShardPaths, id: string): Approval | null {
  const file = approvalFile(paths, id);
  if (!existsSync(file)) return null;
  return readJsonFile(file, ApprovalSchema, { fix: `move ${file} aside and ask for the approval again` });
}

/** Record a person's decision. A request is decided once; deciding it again is a conflict. */
export function decideApproval(paths: ShardPaths, id: string, decision: 'approved' | 'denied', by: string, now: Date): Approval {
  const file = approvalFile(paths, id);
  return withFileLock(join(approvalsDir(paths), '.lock'), () => {
    const approval = readApproval(paths, id);
    if (!approval) throw new AgenceError('not_found', `no approval request ${id}`, { fix: 'list pending requests with `agence ^approve --list`' });
    if (approval.status !== 'pending') {
      throw new AgenceError('conflict', `approval ${id} was already ${approval.status} by ${approval.decided_by ?? 'someone'}`, { fix: 'ask for a new approval' });
    }
    const decided: Approval = { ...approval, status: decision, decided_by: by, decided_at: now.toISOString() };
    const checked = ApprovalSchema.safeParse(decided);
    if (!checked.success) throw new AgenceError('corrupt', `approval ${id}: ${firstIssue(checked.error)}`, { file });
    writeFileAtomic(file, formatJson(decided));
    return decided;
  });
}

export function listApprovals(paths: ShardPaths, status?: Approval['status']): Approval[] {
  const dir = approvalsDir(paths);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json') && APPROVAL_ID_RE.test(name.slice(0, -5)))
    .map((name) => readApproval(paths, name.slice(0, -5)) as Approval)
    .filter((approval) => status === undefined || approval.status === status)
    .sort((a, b) => a.created.localeCompare(b.created));
}

/** Take an approved request for its one use; false when it is not approved or already used. */
export function useApproval(paths: ShardPaths, id: string, now: Date): boolean {
  const file = approvalFile(paths, id);
  return withFileLock(join(approvalsDir(paths), '.lock'), () => {
    const approval = readApproval(paths, id);
    if (!approval || approval.status !== 'approved' || approval.used_at) return false;
    writeFileAtomic(file, formatJson({ ...approval, used_at: now.toISOString() }));
    return true;
  });
}
