import { resolve } from 'node:path';
import { exportSession } from '../../handoff/handoffs.js';
import { handoffContext } from '../sessionContext.js';
import type { Handler } from '../types.js';
import { bundleSummary } from './handoff.js';

export const run: Handler = async (inv) => {
  const ctx = await handoffContext(inv);
  const out = typeof inv.opts.out === 'string' ? resolve(inv.cwd, inv.opts.out) : null;
  const result = await exportSession(ctx, inv.args[0] as string, out);
  const { bundle } = result;
  if (out === null) {
    // The bundle itself goes to stdout (what was signed, byte for byte); the summary to stderr.
    for (const line of [`Exported session ${bundle.session.session_id} as bundle ${bundle.bundle_id}`, ...bundleSummary(bundle)]) inv.notify(line.trim());
    return { data: bundle, text: result.text.trimEnd() };
  }
  return {
    data: { ok: true, file: out, bundle_id: bundle.bundle_id, redactions: bundle.redactions },
    text: [`Exported session ${bundle.session.session_id} to ${out} (bundle ${bundle.bundle_id})`, ...bundleSummary(bundle)].join('\n'),
  };
};
