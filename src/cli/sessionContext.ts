import type { WorkTreeState } from '../git/git.js';
import { requireShard } from '../shard/layout.js';
import { readManifest } from '../shard/manifest.js';
import type { SessionContext } from '../sessions/sessions.js';
import type { Invocation } from './types.js';

const loadGit = () => import('../git/git.js');

/** What every session command needs: the shard, who acts, the default agent, and git. */
export async function sessionContext(inv: Invocation): Promise<{ ctx: SessionContext; shardName: string }> {
  const shard = requireShard(inv.cwd);
  const manifest = readManifest(shard);
  const agent = inv.agent?.agent ?? inv.env.AGENCE_AGENT;
  // DESIGN §5: the actor is AGENCE_AGENT when set, else the user (git user.email). The front
  // door may have asked git already (`inv.early`); without an answer, ask it now.
  const actor = async () =>
    inv.env.AGENCE_AGENT || (await inv.early.userEmail)?.trim() || (await (await loadGit()).configGet(shard.root, 'user.email')) || 'unknown';
  const workTree = async (cwd: string): Promise<WorkTreeState> => {
    const { parseStatusV2, workTreeState } = await loadGit();
    const early = cwd === inv.cwd ? await inv.early.workTree : undefined;
    return typeof early === 'string' ? parseStatusV2(early) : workTreeState(cwd);
  };
  return {
    shardName: manifest.shard.name,
    ctx: { shard, shardName: manifest.shard.name, cwd: inv.cwd, env: inv.env, now: inv.now, defaultAgent: agent || manifest.default_agent, actor, workTree, notify: inv.notify },
  };
}
