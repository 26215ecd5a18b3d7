import { initMaster } from '../../shard/master.js';
import type { Handler } from '../types.js';

export const run: Handler = async (inv) => {
  const result = await initMaster(inv.cwd, inv.args[0] as string);
  return {
    data: result,
    text: `Created master repository ${result.path} (${result.files} files, commit ${result.commit.slice(0, 12)}).\nUse it from a shard: ${inv.style.cyan(`agence ^init --master ${result.path}`)}, then ${inv.style.cyan('agence ^pull')}.`,
  };
};
