import { instructionInput, regenerate, targetsOf } from '../../agents/instructionFiles.js';
import { readManifest } from '../../shard/manifest.js';
import type { Handler } from '../types.js';
import { withKnowledge } from '../knowledgeContext.js';

const WHY = { missing: 'no agence block yet', stale: 'the codex or lessons changed', edited: 'edited by hand inside the block', current: 'up to date' } as const;

/** `^regen [--check]`: write the instruction files; with --check, exit 1 naming those out of date (for CI). */
export const run: Handler = async (inv) => {
  const check = inv.opts.check === true;
  const results = await withKnowledge(inv, async (ctx) => {
    const manifest = readManifest(ctx.shard);
    return regenerate(ctx.shard.root, targetsOf(manifest), await instructionInput(ctx, manifest), check);
  });
  const stale = results.filter((r) => r.state !== 'current');
  const data = { check, files: results.map((r) => ({ target: r.target, state: r.state, written: r.written })) };
  if (check) {
    if (stale.length === 0) return { data, text: `up to date: ${results.map((r) => r.target).join(', ')}` };
    return {
      data,
      text: stale.map((r) => `out of date: ${r.target} (${WHY[r.state]})`).join('\n'),
      exit: 1,
      problem: `${stale.length} instruction file${stale.length === 1 ? ' is' : 's are'} out of date: ${stale.map((r) => r.target).join(', ')}; run \`agence ^regen\` and commit them`,
    };
  }
  return { data, text: results.map((r) => (r.written ? `wrote ${r.target} (${WHY[r.state]})` : `unchanged ${r.target}`)).join('\n') };
};
