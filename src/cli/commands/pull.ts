import { AgenceError, ExitCode } from '../../core/errors.js';
import { requireShard } from '../../shard/layout.js';
import { pull } from '../../shard/master.js';
import type { Handler } from '../types.js';

export const run: Handler = async (inv) => {
  if (inv.opts.check && inv.opts.locked) throw new AgenceError('usage', '--check and --locked cannot be used together', { fix: 'pick one' });
  const mode = inv.opts.check ? 'check' : inv.opts.locked ? 'locked' : 'update';
  const paths = requireShard(inv.cwd);
  const stop = inv.progress('fetching the master');
  const result = await pull(paths, mode).finally(stop);
  const short = (c: string | null) => (c ? c.slice(0, 12) : 'none');
  const s = inv.style;
  if (mode === 'check') {
    const text = result.upToDate
      ? `Up to date: the lock pins ${short(result.latest)}, the master's ${result.ref}.`
      : result.previous === null
        ? `Not pulled yet: the master is at ${short(result.latest)}; run ${s.cyan('agence ^pull')}.`
        : `The master moved past the lock: locked ${short(result.previous)}, master ${short(result.latest)}; run ${s.cyan('agence ^pull')}.`;
    return { data: result, text, exit: result.upToDate ? ExitCode.ok : ExitCode.user };
  }
  const files = `${result.base?.files ?? 0} files in ${result.base?.layers.join(', ')}`;
  let text: string;
  if (mode === 'locked') text = `Materialised the locked master commit ${short(result.locked)} into .agence/base/ (${files}).`;
  else if (result.previous === result.latest) text = `Already at the master's ${result.ref} (${short(result.latest)}); .agence/base/ refreshed (${files}).`;
  else {
    text = `Pinned master ${result.url} at ${short(result.latest)}${result.previous ? ` (was ${short(result.previous)})` : ''} in .agence/agence.lock; .agence/base/ has ${files}.\nCommit .agence/agence.lock so teammates get the same base.`;
  }
  return { data: result, text };
};
