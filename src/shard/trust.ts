import { parse as parseYaml } from 'yaml';
import { AgenceError } from '../core/errors.js';
import { TrustSchema, firstIssue, type Trust } from '../core/schemas.js';
import { readEffective } from './effectiveView.js';
import type { ShardPaths } from './layout.js';

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
