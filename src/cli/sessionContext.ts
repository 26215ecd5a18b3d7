import { requireShard } from '../shard/layout.js';
import { readManifest } from '../shard/manifest.js';
import type { SessionContext } from '../sessions/sessions.js';
import type { Invocation } from './types.js';

/** What every session command needs: the shard, who acts, and the default agent. */
export async function sessionContext(inv: Invocation): Promise<{ ctx: SessionContext; shardName: string }> {
  const shard = requireShard(inv.cwd);
  const manifest = readManifest(shard);
  const agent = inv.agent?.agent ?? inv.env.AGENCE_AGENT;
  // DESIGN §5: the actor is AGENCE_AGENT when set, else the user (git user.email).
  let known: Promise<string> | undefined; // asked of git once per command
  const actor = () => (known ??= (async () => inv.env.AGENCE_AGENT || (await (await import('../git/git.js')).configGet(shard.root, 'user.email')) || 'unknown')());
  return {
    shardName: manifest.shard.name,
    ctx: { shard, shardName: manifest.shard.name, cwd: inv.cwd, env: inv.env, now: inv.now, defaultAgent: agent || manifest.default_agent, actor, notify: inv.notify },
  };
}

/** What handoff commands need: the session context and the shard's manifest. */
export async function handoffContext(inv: Invocation): Promise<import('../handoff/handoffs.js').HandoffContext> {
  const { ctx } = await sessionContext(inv);
  return { sessions: ctx, manifest: readManifest(ctx.shard) };
}
