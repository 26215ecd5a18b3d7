import type { KnowledgeContext } from '../knowledge/knowledge.js';
import { requireShard } from '../shard/layout.js';
import { readManifest } from '../shard/manifest.js';
import { progressBar } from './output.js';
import type { Invocation } from './types.js';

/** The knowledge context of an invocation: the shard, who acts (and so what they may read). */
export function knowledgeContext(inv: Invocation, onProgress?: KnowledgeContext['onProgress']): KnowledgeContext {
  const shard = requireShard(inv.cwd);
  const manifest = readManifest(shard);
  const agent = inv.agent?.agent ?? (inv.env.AGENCE_AGENT || null);
  // DESIGN §5: the actor is AGENCE_AGENT when set, else the user (git user.email).
  const actor = async () => agent || (await (await import('../git/git.js')).configGet(shard.root, 'user.email')) || 'unknown';
  return { shard, shardName: manifest.shard.name, org: manifest.shard.org, cwd: inv.cwd, env: inv.env, now: inv.now, notify: inv.notify, ...(onProgress ? { onProgress } : {}), agent, actor };
}

/** What every knowledge command needs: the knowledge context, with a progress bar while the index is brought up to date. */
export async function withKnowledge<T>(inv: Invocation, fn: (ctx: KnowledgeContext) => T | Promise<T>): Promise<T> {
  const progress = inv.progress('reading the knowledge index');
  try {
    return await fn(knowledgeContext(inv, (done, total) => progress.update(progressBar(done, total, 'files indexed'))));
  } finally {
    progress();
  }
}

/** Repeatable string options arrive as a list. */
export const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : []);
export const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
