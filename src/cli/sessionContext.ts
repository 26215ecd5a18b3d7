import { readGitConfigValue } from '../git/configFile.js';
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
  // DESIGN §5: the actor is AGENCE_AGENT when set, else the user (git user.email), read from
  // git's config files when they are plain, else asked of git.
  let known: Promise<string> | undefined; // found once per command
  const actor = () =>
    (known ??= (async () => {
      if (inv.env.AGENCE_AGENT) return inv.env.AGENCE_AGENT;
      const fromFiles = readGitConfigValue(shard.root, 'user.email', inv.env);
      const email = fromFiles === undefined ? await (await loadGit()).configGet(shard.root, 'user.email') : fromFiles;
      return email || 'unknown';
    })());
  // The front door may have started `git status` already (`inv.early`).
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

/** What handoff commands need: the session context and the shard's manifest. */
export async function handoffContext(inv: Invocation): Promise<import('../handoff/handoffs.js').HandoffContext> {
  const { ctx } = await sessionContext(inv);
  return { sessions: ctx, manifest: readManifest(ctx.shard) };
}
