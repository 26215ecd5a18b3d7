import { AgenceError } from '../../core/errors.js';
import { nearest } from '../../core/suggest.js';
import { readEffective } from '../../shard/effectiveView.js';
import { listLayer } from '../../shard/layerFiles.js';
import { requireShard } from '../../shard/layout.js';
import type { Handler } from '../types.js';

export const run: Handler = async (inv) => {
  const paths = requireShard(inv.cwd);
  const files = listLayer(paths, 'codex');
  const s = inv.style;
  const file = inv.args[0];
  if (file === undefined) {
    if (inv.opts.explain) throw new AgenceError('usage', '--explain needs a FILE', { fix: 'e.g. `agence ^codex --explain LAWS.md`' });
    const text = files.map((f) => `${f.path.padEnd(32)} ${f.origin === 'both' ? s.cyan(`base + local (${f.merge})`) : f.origin}`).join('\n');
    return { data: { files }, text: text || 'The codex is empty.' };
  }
  let effective;
  try {
    effective = readEffective(paths, 'codex', file);
  } catch (error) {
    if (error instanceof AgenceError && error.code === 'not_found') {
      const guess = nearest(file, files.map((f) => f.path));
      throw new AgenceError('not_found', `codex has no ${file}`, { fix: guess ? `did you mean ${guess}?` : 'run `agence ^codex` to list the files' });
    }
    throw error;
  }
  if (!inv.opts.explain) return { data: effective, text: effective.content.trimEnd() };
  const label = (origin: string, note?: string) => {
    const tag = `[${origin}${note ? `: ${note}` : ''}]`;
    return origin === 'local' ? s.cyan(tag) : s.dim(tag);
  };
  const lines = [
    `${s.bold(`codex/${effective.path}`)}  merge rule: ${effective.merge}; from ${effective.sources.join(' + ')}`,
    ...effective.parts.map((p) => `${label(p.origin, p.note)} ${p.text.replace(/\n/g, '\n    ')}`),
    ...effective.findings.map((f) => s.yellow(`! ${f.message}`)),
  ];
  return { data: effective, text: lines.join('\n') };
};
