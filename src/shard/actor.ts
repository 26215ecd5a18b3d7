import { actorOf, type Actor } from '../core/access.js';
import { configGet } from '../git/git.js';
import type { ShardPaths } from './layout.js';
import { readTrust } from './trust.js';

/**
 * Who is acting, with their role (DESIGN §5): AGENCE_AGENT when set, else git user.email, an
 * admin when trust.yaml lists that email. `imported` is whether the session being worked on came
 * from another shard (its lineage names a from_shard); the caller knows that.
 */
export async function resolveActor(paths: ShardPaths, env: NodeJS.ProcessEnv, imported = false): Promise<Actor> {
  const agent = env.AGENCE_AGENT || null;
  const email = agent ? null : await configGet(paths.root, 'user.email');
  const admins = agent ? [] : readTrust(paths).admins.map((a) => a.email);
  return actorOf({ agent, email, admins, imported });
}
