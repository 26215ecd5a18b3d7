import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument, parse as parseYaml } from 'yaml';
import { AgenceError } from '../core/errors.js';
import { TrustSchema, type Trust } from '../core/governanceSchemas.js';
import { firstIssue } from '../core/schemas.js';
import { writeFileAtomic } from '../store/atomic.js';
import { withFileLock } from '../store/lockFile.js';
import { readEffective } from './effectiveView.js';
import { sshFingerprint } from './keys.js';
import type { ShardPaths } from './layout.js';
import { isTrusted, type TrustedShard } from './trustedKeys.js';

/**
 * `codex/trust.yaml` through the effective view (base + local, merged by name): the admins who
 * may change CODEX and the shard keys whose signatures are accepted. A shard with no trust.yaml
 * trusts nobody; a malformed one is corrupt data, never read as "no admins".
 */
export function readTrust(paths: ShardPaths): Trust {
  let content: string;
  try {
    content = readEffective(paths, 'codex', 'trust.yaml').content;
  } catch (error) {
    if (error instanceof AgenceError && error.code === 'not_found') return { version: 1, admins: [], shards: [] };
    throw error;
  }
  const parsed = TrustSchema.safeParse(parseYaml(content) ?? {});
  if (!parsed.success) {
    throw new AgenceError('corrupt', `codex/trust.yaml is malformed (${firstIssue(parsed.error)})`, { file: '.agence/codex/trust.yaml', fix: 'fix the entry (admins: [{name, email, keys: ["ssh-ed25519 AAAA..."]}])' });
  }
  return parsed.data;
}

/** The trusted shards: trust.yaml lists a shard's first key as `key:` and any others as `keys:`. */
export function trustedShards(paths: ShardPaths): TrustedShard[] {
  return readTrust(paths).shards.map((s) => {
    const more = Array.isArray(s.keys) ? (s.keys as unknown[]).filter((k): k is string => typeof k === 'string') : [];
    return { id: s.id, name: s.name ?? s.id, keys: [...new Set([s.key, ...more])] };
  });
}

const NEW_TRUST = `# Trust: which keys sign handoffs and ledger roots (see the master's codex/trust.yaml).
version: 1
shards: []
`;

/**
 * Add `key` for shard `id` to the shard's own `codex/trust.yaml` (comments kept). An entry the
 * effective view already has for `id` (from the master, say) is carried over with its keys, since
 * a local entry replaces the base one. Returns false when the key was already listed.
 */
export function addTrustedKey(paths: ShardPaths, shard: { id: string; name: string }, key: string): boolean {
  // Read-modify-write of a shared file: two ^trust at once must not drop a key. The lock lives in
  // NEXUS, never beside the versioned file.
  return withFileLock(join(paths.nexus, 'trust.yaml.lock'), () => addTrustedKeyLocked(paths, shard, key));
}

function addTrustedKeyLocked(paths: ShardPaths, shard: { id: string; name: string }, key: string): boolean {
  const trusted = trustedShards(paths);
  if (isTrusted(trusted, shard.id, sshFingerprint(key))) return false;
  const file = join(paths.agence, 'codex', 'trust.yaml');
  const doc = parseDocument(existsSync(file) ? readFileSync(file, 'utf8') : NEW_TRUST);
  if (doc.errors[0]) throw new AgenceError('corrupt', `.agence/codex/trust.yaml is not valid YAML (${doc.errors[0].message.split('\n')[0]})`, { file, fix: 'fix the YAML, or restore it with `git checkout -- .agence/codex/trust.yaml`' });
  const local = doc.toJS() as { shards?: unknown } | null;
  const entries = (Array.isArray(local?.shards) ? local.shards : []) as Record<string, unknown>[];
  const known = trusted.find((t) => t.id === shard.id);
  const [first, ...more] = [...new Set([...(known?.keys ?? []), key])];
  const entry = { id: shard.id, name: known?.name ?? shard.name, key: first, ...(more.length > 0 ? { keys: more } : {}) };
  doc.set('shards', doc.createNode([...entries.filter((e) => e?.id !== shard.id), entry]));
  writeFileAtomic(file, doc.toString({ lineWidth: 0 }));
  return true;
}
