import { runTaskMergeDriver } from '../../swarm/taskMergeDriver.js';
import type { Handler } from '../types.js';

/** `^merge-driver %O %A %B %P`, run by git for task files: exit 0 with the result in %A, or 1 (a conflict). */
export const run: Handler = async (inv) => {
  const [base, ours, theirs, path] = inv.args as [string, string, string, string | undefined];
  const result = runTaskMergeDriver(base, ours, theirs);
  if (result.merged) return { data: { merged: true, path: path ?? null }, text: '' };
  return {
    data: { merged: false, path: path ?? null, reason: result.reason },
    text: '',
    problem: `cannot merge ${path ?? ours} field by field: ${result.reason}; left as a conflict for you to resolve`,
    exit: 1,
  };
};
