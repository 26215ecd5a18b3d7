import { resolve } from 'node:path';
import { AgenceError } from '../../core/errors.js';
import type { Bundle } from '../../core/handoff.js';
import { exportSession } from '../../handoff/handoffs.js';
import { writeFd } from '../output.js';
import { handoffContext } from '../sessionContext.js';
import type { Handler } from '../types.js';
import { bundleSummary } from './handoff.js';

export const run: Handler = async (inv) => {
  const ctx = await handoffContext(inv);
  const out = typeof inv.opts.out === 'string' ? resolve(inv.cwd, inv.opts.out) : null;
  // Without --out the bundle itself goes to stdout (what was signed, byte for byte), before the
  // session is marked TRANSFERRED; the summary goes to stderr.
  const toStdout = {
    deliver: (bundle: Bundle, text: string) => {
      try {
        writeFd(1, inv.json ? `${JSON.stringify(bundle)}\n` : text);
      } catch (error) {
        throw new AgenceError('conflict', `the bundle could not be written to stdout (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); session ${bundle.session.session_id} was not marked transferred`, { fix: 'export it to a file with --out FILE' });
      }
    },
  };
  const result = await exportSession(ctx, inv.args[0] as string, out ?? toStdout);
  const { bundle } = result;
  if (out === null) {
    for (const line of [`Exported session ${bundle.session.session_id} as bundle ${bundle.bundle_id}`, ...bundleSummary(bundle)]) inv.notify(line.trim());
    return { data: bundle, text: result.text.trimEnd(), printed: true };
  }
  return {
    data: { ok: true, file: out, bundle_id: bundle.bundle_id, redactions: bundle.redactions },
    text: [`Exported session ${bundle.session.session_id} to ${out} (bundle ${bundle.bundle_id})`, ...bundleSummary(bundle)].join('\n'),
  };
};
