import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as z from '../core/zod.js';
import { canonicalJson } from '../core/canonicalJson.js';
import { AgenceError } from '../core/errors.js';
import { patternRegex } from '../core/guardPolicy.js';
import { formatJson, writeFileAtomic } from '../store/atomic.js';
import { readJsonFile } from '../store/files.js';
import { nodeCrypto } from '../store/lazyBuiltins.js';
import { withFileLock } from '../store/lockFile.js';
import { signBytes, signingKey, verifyBytes } from '../shard/keys.js';
import type { ShardPaths } from '../shard/layout.js';

/**
 * Capability tokens (`^grant`): an admin lets one agent run commands matching a pattern at T1
 * instead of T2, for a while or a number of uses. The token is signed with the shard key and kept
 * in `nexus/grants/<id>.json`; how often it was used and whether it was revoked live beside it in
 * `<id>.state.json`, so the signed part never changes. A token whose signature does not verify
 * counts for nothing.
 */

export const GRANT_ID_RE = /^g-[0-9a-f]{12}$/;
const AGENT_RE = /^[a-z][a-z0-9_-]{0,63}$/;

const TokenSchema = z.deferred(() => z.object({
  schema: z.literal(1),
  id: z.string().check(z.regex(GRANT_ID_RE)),
  agent: z.string(),
  pattern: z.string(),
  issued_by: z.string(),
  issued_at: z.string(),
  expires_at: z.nullable(z.string()),
  uses: z.nullable(z.number()),
}));
export type Token = z.infer<typeof TokenSchema>;

const SignedTokenSchema = z.deferred(() => z.object({ token: TokenSchema, key: z.string(), signature: z.string() }));
const StateSchema = z.deferred(() => z.object({ used: z.number(), revoked_at: z.nullable(z.string()), revoked_by: z.nullable(z.string()) }));
type State = z.infer<typeof StateSchema>;

const dir = (paths: ShardPaths) => join(paths.nexus, 'grants');

function tokenFile(paths: ShardPaths, id: string): string {
  if (!GRANT_ID_RE.test(id)) throw new AgenceError('usage', `"${id}" is not a token id`, { fix: 'use the id `agence ^grant` printed (g- and 12 hex digits)' });
  return join(dir(paths), `${id}.json`);
}

function readState(paths: ShardPaths, id: string): State {
  const file = join(dir(paths), `${id}.state.json`);
  return readJsonFile(file, StateSchema, { fix: `move ${file} aside; the token then counts as unused` }) ?? { used: 0, revoked_at: null, revoked_by: null };
}

export interface GrantRequest {
  agent: string;
  pattern: string;
  issuedBy: string;
  ttlMs: number | null;
  uses: number | null;
}

export function issueGrant(paths: ShardPaths, request: GrantRequest, now: Date): Token {
  if (!AGENT_RE.test(request.agent)) throw new AgenceError('usage', `"${request.agent}" is not an agent name`, { fix: 'name the agent as AGENCE_AGENT does (lower case letters, digits, - and _)' });
  if (request.pattern.trim() === '') throw new AgenceError('usage', 'the command pattern is empty', { fix: 'give a pattern like "git push origin *"' });
  if (request.uses !== null && (!Number.isInteger(request.uses) || request.uses < 1)) throw new AgenceError('usage', `--uses must be a whole number of at least 1`, { fix: 'e.g. --uses 3' });
  const token: Token = {
    schema: 1,
    id: `g-${nodeCrypto().randomBytes(6).toString('hex')}`,
    agent: request.agent,
    pattern: request.pattern.trim(),
    issued_by: request.issuedBy,
    issued_at: now.toISOString(),
    expires_at: request.ttlMs === null ? null : new Date(now.getTime() + request.ttlMs).toISOString(),
    uses: request.uses,
  };
  const key = signingKey(paths);
  const file = tokenFile(paths, token.id);
  writeFileAtomic(file, formatJson({ token, key: key.fingerprint, signature: signBytes(key, canonicalJson(token)) }));
  if (!status(paths, token.id, now)?.valid) throw new AgenceError('corrupt', `${file} did not read back as a valid token`, { file, fix: 'check the disk and issue the grant again' });
  return token;
}

export interface GrantStatus {
  token: Token;
  used: number;
  valid: boolean;
  why: string;
}

function status(paths: ShardPaths, id: string, now: Date): GrantStatus | null {
  const file = tokenFile(paths, id);
  const signed = readJsonFile(file, SignedTokenSchema, { fix: `move ${file} aside and issue the grant again` });
  if (!signed) return null;
  const state = readState(paths, id);
  const key = signingKey(paths);
  const base = { token: signed.token, used: state.used };
  if (!verifyBytes(key.publicKey, canonicalJson(signed.token), signed.signature)) return { ...base, valid: false, why: 'signature does not verify' };
  if (state.revoked_at) return { ...base, valid: false, why: `revoked by ${state.revoked_by ?? 'someone'}` };
  if (signed.token.expires_at && Date.parse(signed.token.expires_at) <= now.getTime()) return { ...base, valid: false, why: 'expired' };
  if (signed.token.uses !== null && state.used >= signed.token.uses) return { ...base, valid: false, why: 'used up' };
  return { ...base, valid: true, why: 'valid' };
}

export function listGrants(paths: ShardPaths, now: Date): GrantStatus[] {
  if (!existsSync(dir(paths))) return [];
  return readdirSync(dir(paths))
    .filter((name) => GRANT_ID_RE.test(name.replace(/\.json$/, '')) && name.endsWith('.json'))
    .map((name) => status(paths, name.slice(0, -5), now) as GrantStatus)
    .sort((a, b) => a.token.issued_at.localeCompare(b.token.issued_at));
}

/** The valid token of `agent` whose pattern covers `argv`, if any. */
export function grantCovering(paths: ShardPaths, agent: string, now: Date): (argv: string[]) => string | null {
  const tokens = listGrants(paths, now).filter((g) => g.valid && g.token.agent === agent);
  const compiled = tokens.map((g) => ({ id: g.token.id, re: patternRegex(g.token.pattern, []) }));
  return (argv) => compiled.find((t) => t.re.test(argv.join(' ')))?.id ?? null;
}

/** Count one use of each token; a token that ran out meanwhile is refused. */
export function useGrants(paths: ShardPaths, ids: readonly string[], now: Date): void {
  for (const id of ids) {
    withFileLock(join(dir(paths), `${id}.state.json`), () => {
      const s = status(paths, id, now);
      if (!s?.valid) throw new AgenceError('refused', `capability token ${id} is no longer valid (${s?.why ?? 'missing'})`, { fix: 'ask an admin for a new grant' });
      const state = readState(paths, id);
      writeFileAtomic(join(dir(paths), `${id}.state.json`), formatJson({ ...state, used: state.used + 1 }));
    });
  }
}

export function revokeGrant(paths: ShardPaths, id: string, by: string, now: Date): GrantStatus {
  const file = tokenFile(paths, id);
  return withFileLock(join(dir(paths), `${id}.state.json`), () => {
    if (!existsSync(file)) throw new AgenceError('not_found', `no capability token ${id}`, { fix: 'list tokens with `agence ^grant --list`' });
    const state = readState(paths, id);
    if (state.revoked_at) throw new AgenceError('conflict', `token ${id} was already revoked by ${state.revoked_by ?? 'someone'}`);
    writeFileAtomic(join(dir(paths), `${id}.state.json`), formatJson({ ...state, revoked_at: now.toISOString(), revoked_by: by }));
    return status(paths, id, now) as GrantStatus;
  });
}
