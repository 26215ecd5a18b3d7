import { resolve } from 'node:path';
import type { CodeContext, IndexStats } from '../../chunk/chunk.js';
import type { ChunkRow, SymbolRow } from '../../chunk/chunkIndex.js';
import { CHUNK_KINDS, type ChunkKind } from '../../core/chunkLanguages.js';
import { AgenceError } from '../../core/errors.js';
import { requireShard } from '../../shard/layout.js';
import { progressBar, type Style } from '../output.js';
import type { Handler, Invocation, Outcome } from '../types.js';

const loadChunk = () => import('../../chunk/chunk.js');

/** What every code command needs: the shard, a way to tell the user things, a progress bar. */
async function withCode<T>(inv: Invocation, fn: (ctx: CodeContext) => Promise<T>): Promise<T> {
  const shard = requireShard(inv.cwd);
  const progress = inv.progress('indexing code');
  let drawn = 0;
  // The bar's label is built at most ten times a second: formatting it per file costs more than parsing small files.
  const onProgress = (done: number, total: number) => {
    const now = Date.now();
    if (done < total && now - drawn < 100) return;
    drawn = now;
    progress.update(progressBar(done, total, 'files parsed'));
  };
  try {
    return await fn({ shard, notify: inv.notify, onProgress });
  } finally {
    progress();
  }
}

/**
 * A grammar that failed to load: the rest was indexed, the command still answers, and it exits
 * non-zero naming the grammar.
 */
function grammarProblem(stats: IndexStats | null): Pick<Outcome, 'exit' | 'problem'> {
  if (!stats || stats.grammarFailures.length === 0) return {};
  const which = stats.grammarFailures.map((f) => `${f.language} (${f.files} file${f.files === 1 ? '' : 's'})`).join(', ');
  return { exit: 1, problem: `grammar failed to load: ${which}; those files are not indexed: reinstall agence (npm install) or run \`npm run build\`` };
}

function statsText(stats: IndexStats): string {
  const languages = Object.entries(stats.languages).map(([l, n]) => `${l} ${n}`).join(', ');
  const skipped = Object.entries(stats.skipped).map(([why, n]) => `${n} ${why}`).join(', ');
  const lines = [
    stats.parsed === 0 && stats.removed === 0
      ? `Code index up to date: ${stats.files} files, ${stats.chunks} chunks, ${stats.symbols} symbols (nothing parsed, ${stats.seconds}s).`
      : `Indexed ${stats.parsed} of ${stats.files} files (${(stats.bytes / 1024 / 1024).toFixed(1)} MB) in ${stats.seconds}s: ${stats.chunks} chunks, ${stats.symbols} symbols.`,
  ];
  if (languages) lines.push(`  languages: ${languages}`);
  if (stats.removed > 0) lines.push(`  removed: ${stats.removed} files no longer tracked or selected`);
  if (skipped) lines.push(`  not chunked: ${skipped}`);
  if (stats.errors > 0) lines.push(`  syntax errors: ${stats.errors} (what parsed is indexed)`);
  return lines.join('\n');
}

/** `^chunk index [--full]`. */
export const index: Handler = async (inv) => {
  // Nothing staged or committed since the last run: answered from the stamp, without loading
  // the index, git or tree-sitter (the common case, so the cheap path comes first).
  if (inv.opts.full !== true) {
    const started = performance.now();
    const [{ codeSettings }, { unchangedStats, unchangedTotals }] = await Promise.all([import('../../chunk/codeSettings.js'), import('../../chunk/codeStamp.js')]);
    const shard = requireShard(inv.cwd);
    const totals = unchangedTotals(shard, codeSettings(shard));
    if (totals) {
      const stats = unchangedStats(totals, started);
      return { data: stats, text: statsText(stats) };
    }
  }
  const { stats, problem } = await indexCodeFor(inv, inv.opts.full === true);
  return { data: stats, text: statsText(stats), ...problem };
};

/** The code index brought up to date (`full`: every file re-chunked), for `^chunk index` and `^reindex`. */
export async function indexCodeFor(inv: Invocation, full: boolean): Promise<{ stats: IndexStats; problem: Pick<Outcome, 'exit' | 'problem'> }> {
  const { indexCode } = await loadChunk();
  const stats = await withCode(inv, (ctx) => indexCode(ctx, { full }));
  return { stats, problem: grammarProblem(stats) };
}

function chunkHeading(chunk: ChunkRow, style: Style): string {
  const what = [chunk.kind, chunk.name ?? '(module code)'].join(' ');
  const where = [chunk.language ?? 'text', ...(chunk.scope ? [`in ${chunk.scope}`] : []), ...(chunk.part ? [`part ${chunk.part}/${chunk.parts}`] : []), ...(chunk.origin === 'base' ? ['base'] : [])];
  return `${style.bold(`${chunk.path}:${chunk.start_line}-${chunk.end_line}`)}  ${what}  ${style.dim(`[${where.join(' · ')}]`)}`;
}

/** `^chunk show PATH:LINE`: the enclosing chunk, with line numbers; `^chunk show PATH`: the file's outline. */
export const show: Handler = async (inv) => {
  const { parseLocation, showChunks } = await loadChunk();
  const location = parseLocation(requireShard(inv.cwd).root, inv.cwd, inv.args[0] as string);
  const shown = await withCode(inv, (ctx) => showChunks(ctx, location));
  const s = inv.style;
  const problem = grammarProblem(shown.stats);
  if (location.line === null) {
    const outline = shown.chunks.map(({ text: _text, ...rest }) => rest);
    const lines = outline.map((c) => `${s.dim(`${String(c.start_line).padStart(5)}-${String(c.end_line).padEnd(5)}`)} ${c.kind.padEnd(9)} ${c.scope ? `${c.scope}.` : ''}${c.name ?? '(module code)'}${c.part ? s.dim(` part ${c.part}/${c.parts}`) : ''}`);
    if (lines.length === 0) lines.push('No chunks: the file is empty.');
    return { data: { chunks: outline, index: shown.stats }, text: lines.join('\n'), ...problem };
  }
  const chunk = shown.chunks[0] as ChunkRow;
  const width = String(chunk.end_line).length;
  const lines = [chunkHeading(chunk, s)];
  if (chunk.signature) lines.push(s.dim(`  ${chunk.signature}`));
  if (chunk.doc) lines.push(...chunk.doc.split('\n').map((l) => s.dim(`  ${l}`)));
  lines.push(...chunk.text.split('\n').map((l, i) => `${s.dim(String(chunk.start_line + i).padStart(width))}  ${l}`));
  return { data: { chunk, index: shown.stats }, text: lines.join('\n'), ...problem };
};

function symbolLine(sym: SymbolRow, style: Style): string {
  const name = sym.scope ? `${sym.scope}.${sym.name}` : sym.name;
  return `${sym.kind.padEnd(9)} ${style.bold(name)}  ${style.dim(`${sym.path}:${sym.start_line}`)}${sym.signature ? `  ${style.dim(sym.signature)}` : ''}`;
}

/** `^symbols [--kind K] [PATTERN]`: declarations, by file and line. */
export const symbols: Handler = async (inv) => {
  const kind = typeof inv.opts.kind === 'string' ? inv.opts.kind : undefined;
  if (kind !== undefined && !(CHUNK_KINDS as readonly string[]).includes(kind)) {
    throw new AgenceError('usage', `--kind "${kind}" is not a kind of declaration`, { fix: `use one of: ${CHUNK_KINDS.filter((k) => k !== 'block' && k !== 'window').join(', ')}` });
  }
  const limitText = typeof inv.opts.limit === 'string' ? inv.opts.limit : '200';
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new AgenceError('usage', `--limit "${limitText}" is not a number from 1 to 100000`);
  const { listSymbols } = await loadChunk();
  const found = await withCode(inv, (ctx) => listSymbols(ctx, { kind: kind as ChunkKind | undefined, pattern: inv.args[0], limit }));
  const lines = found.symbols.map((sym) => symbolLine(sym, inv.style));
  if (lines.length === 0) lines.push(inv.args[0] ? `No declaration matches "${inv.args[0]}".` : 'No declarations indexed.');
  return { data: { symbols: found.symbols, index: found.stats }, text: lines.join('\n'), ...grammarProblem(found.stats) };
};

/** `^chunk export FILE`: the shard's chunks as a `*.chunks.jsonl` export for a master's objectcode/. */
export const exportFile: Handler = async (inv) => {
  const { exportChunks } = await loadChunk();
  const file = resolve(inv.cwd, inv.args[0] as string);
  const done = await withCode(inv, (ctx) => exportChunks(ctx, file));
  return { data: done, text: `Exported ${done.chunks} chunks of ${done.files} files to ${done.file}.`, ...grammarProblem(done.stats) };
};
