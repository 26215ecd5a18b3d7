import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { firstIssue } from '../core/schemas.js';
import { nextSessionId, type Session, SessionSchema, type SessionStatus } from '../core/session.js';
import { writeFileAtomic } from '../store/atomic.js';
import { appendLine, type LineLocation, readLineAt, scanJsonl, type ScanResult } from '../store/jsonl.js';
import { withFileLock } from '../store/lockFile.js';

/**
 * The session store in `nexus/sessions/` (DESIGN §2): JSON Lines tier files that are only
 * appended to. Every change of a session appends its whole record with the next `rev`; the
 * record with the highest rev is the session. A status change appends to the file of the new
 * tier; compaction rewrites the files with only the live records.
 */

export const TIERS = ['active', 'saved', 'completed'] as const;
export type Tier = (typeof TIERS)[number];

export function tierFor(status: SessionStatus): Tier | 'archive' {
  switch (status) {
    case 'ACTIVE':
      return 'active';
    case 'CREATED':
    case 'SAVED':
      return 'saved';
    case 'COMPLETED':
    case 'TRANSFERRED':
      return 'completed';
    case 'ARCHIVED':
      return 'archive';
  }
}

export interface SessionPaths {
  dir: string;
  archive: string;
  lock: string;
  lastId: string;
  current: string;
  indexMd: string;
  db: string;
}

export function sessionPaths(nexus: string): SessionPaths {
  const dir = join(nexus, 'sessions');
  return {
    dir,
    archive: join(dir, 'archive'),
    lock: join(dir, 'store'),
    lastId: join(dir, 'last-id'),
    current: join(dir, 'current'),
    indexMd: join(dir, 'INDEX.md'),
    db: join(nexus, 'index.db'),
  };
}

export function tierFile(paths: SessionPaths, tier: Tier): string {
  return join(paths.dir, `session-${tier}.jsonl`);
}

export function decodeSession(value: unknown): Session {
  const parsed = SessionSchema.safeParse(value);
  if (!parsed.success) throw new Error(`not a session record (${firstIssue(parsed.error)})`);
  return parsed.data;
}

export interface StoredAt extends LineLocation {
  /** A tier file, or `archive/YYYY-MM` for a line of that month's archive. */
  tier: Tier | `archive/${string}`;
}

/** Serialise writers of the store across processes. */
export function withStoreLock<T>(paths: SessionPaths, fn: () => T): T {
  mkdirSync(paths.dir, { recursive: true });
  return withFileLock(paths.lock, fn);
}

/** Allocate the id of a new session (caller holds the store lock). */
export function allocateId(paths: SessionPaths, now: Date): string {
  const last = existsSync(paths.lastId) ? readFileSync(paths.lastId, 'utf8').trim() : null;
  const id = nextSessionId(now, last && /^[0-9a-f]{8}$/.test(last) ? last : highestStoredId(paths));
  writeFileAtomic(paths.lastId, `${id}\n`);
  return id;
}

/** Without the last-id file (lost, or an old store), the highest id in the tier files. */
function highestStoredId(paths: SessionPaths): string | null {
  let highest: string | null = null;
  for (const tier of TIERS) {
    for (const line of scanTier(paths, tier).lines) if (highest === null || line.value.session_id > highest) highest = line.value.session_id;
  }
  return highest;
}

/** Append one revision of a session to its tier (caller holds the store lock). */
export function appendRevision(paths: SessionPaths, session: Session, now: Date): StoredAt & { tier: Tier; quarantined: string | null } {
  const tier = tierFor(session.status);
  if (tier === 'archive') throw new AgenceError('usage', 'archived sessions are written by archiving, not appended');
  const checked = SessionSchema.parse(session);
  const at = appendLine(tierFile(paths, tier), JSON.stringify(checked), now);
  return { tier, ...at };
}

export function scanTier(paths: SessionPaths, tier: Tier, from = 0): ScanResult<Session> {
  return scanJsonl(tierFile(paths, tier), decodeSession, from);
}

/** One record of a tier file by its location; null when it no longer holds a whole valid line. */
export function readAt(paths: SessionPaths, at: LineLocation & { tier: Tier }): Session | null {
  const text = readLineAt(tierFile(paths, at.tier), at);
  if (text === null) return null;
  try {
    return decodeSession(JSON.parse(text));
  } catch {
    return null;
  }
}

/**
 * Rewrite each tier file with only the live revisions (the highest rev of each session, in the
 * tier of its status): new files, fsynced, renamed into place. Bad lines and torn tails are kept
 * in `<file>.quarantine-<time>` so compaction never drops what it could not read. Caller holds
 * the store lock.
 */
export function compact(paths: SessionPaths, now: Date, drop: ReadonlySet<string> = new Set()): { live: number; removed: number } {
  const scans = TIERS.map((tier) => ({ tier, scan: scanTier(paths, tier) }));
  const latest = new Map<string, Session>();
  for (const { scan } of scans) {
    for (const { value } of scan.lines) {
      const seen = latest.get(value.session_id);
      if (!seen || value.rev > seen.rev) latest.set(value.session_id, value);
    }
  }
  let removed = 0;
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  for (const { tier, scan } of scans) {
    const keep = scan.lines.filter(({ value }) => latest.get(value.session_id) === value && tierFor(value.status) === tier && !drop.has(value.session_id));
    removed += scan.lines.length - keep.length;
    const file = tierFile(paths, tier);
    if (scan.bad.length > 0 || scan.partialTail) {
      const raw = readFileSync(file);
      const pieces = [...scan.bad, ...(scan.partialTail ? [scan.partialTail] : [])].map((b) => raw.subarray(b.offset, b.offset + b.length));
      writeFileAtomic(`${file}.quarantine-${stamp}`, Buffer.concat(pieces.flatMap((p) => [p, Buffer.from('\n')])));
    }
    if (keep.length === scan.lines.length && scan.bad.length === 0 && !scan.partialTail) continue;
    writeFileAtomic(file, keep.map(({ value }) => `${JSON.stringify(value)}\n`).join(''));
  }
  return { live: [...latest.keys()].filter((id) => !drop.has(id)).length, removed };
}

/** Files a crash or a bad write left behind, for `^doctor`. */
export function quarantined(paths: SessionPaths): string[] {
  if (!existsSync(paths.dir)) return [];
  return readdirSync(paths.dir).filter((name) => /\.(partial|quarantine)-/.test(name));
}

