import { parse } from 'yaml';
import type { Policy } from '../core/layering.js';
import { readEffectivePolicy } from '../shard/effectiveView.js';
import type { ShardPaths } from '../shard/layout.js';
import { readTemplate } from '../shard/templates.js';
import type { PolicySource } from './policySource.js';

/** The policy read from its YAML: the shard's effective view, or the built-in default outside a shard. */
export function readPolicyFiles(shard: ShardPaths | null): PolicySource {
  if (shard) {
    const { policy, sources } = readEffectivePolicy(shard);
    return { policy, sources };
  }
  return { policy: parse(readTemplate('codex/AIPOLICY.yaml')) as Policy, sources: ['built-in codex/AIPOLICY.yaml'] };
}
