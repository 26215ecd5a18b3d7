import { requireShard } from '../shard/layout.js';
import { type BaseState, settledBase } from '../shard/manifest.js';
import type { Invocation } from './types.js';

/** The shard at `cwd`, with base/ in line with agence.lock (for a mode that needs a shard only for some of its inputs). */
export async function bringBaseInLine(cwd: string, notify: Invocation['notify'], progress: Invocation['progress']): Promise<BaseState> {
  const paths = requireShard(cwd);
  const settled = settledBase(paths);
  if (settled) return settled;
  const { ensureBase } = await import('../shard/master.js');
  const state = await ensureBase(paths).finally(progress('bringing .agence/base/ in line with agence.lock'));
  if (state.state === 'materialised') {
    notify(`materialised .agence/base/ from master commit ${state.commit.slice(0, 12)} pinned in agence.lock${state.fetched ? ' (fetched from the master)' : ''}`);
  }
  return state;
}
