import { AgenceError, ExitCode } from '../../core/errors.js';
import { parseDuration } from '../../core/time.js';
import type { Contestant, SequentRecord } from '../../core/tournament.js';
import { readManifest } from '../../shard/manifest.js';
import { listSequents, pickSequent, readSequent, runSequent, type SequentContext } from '../../swarm/sequents.js';
import type { Style } from '../output.js';
import { sessionContext } from '../sessionContext.js';
import type { Handler, Invocation } from '../types.js';

async function context(inv: Invocation): Promise<SequentContext> {
  const { ctx } = await sessionContext(inv);
  return { paths: ctx.shard, env: inv.env, now: inv.now, actor: await ctx.actor(), notify: inv.notify, progress: inv.progress, sessions: ctx, monthlyBudget: readManifest(ctx.shard).budget?.monthly_usd };
}

const str = (value: unknown) => (typeof value === 'string' ? value : null);

export const run: Handler = async (inv) => {
  const agents = str(inv.opts.agents);
  if (agents === null) throw new AgenceError('usage', '^sequent run needs --agents', { fix: 'agence ^sequent run "TASK" --agents aiko,ralph [--judge "npm test"]' });
  const timeout = str(inv.opts.timeout);
  const record = await runSequent(await context(inv), {
    task: inv.args[0] as string,
    agents: agents.split(','),
    judge: str(inv.opts.judge),
    timeoutMs: timeout === null ? 20 * 60_000 : parseDuration(timeout, '--timeout'),
    llmJudge: str(inv.opts['llm-judge']),
  });
  const pick = record.winner ? `\nmerge it with \`agence ^sequent pick ${record.id}\` (or name another tangent)` : '\nno tangent is eligible; see the reasons above';
  return { data: record, text: `${table(record, inv.style)}${pick}`, exit: record.winner ? ExitCode.ok : ExitCode.user };
};

function judged(t: Contestant): string {
  if (!t.judge) return '-';
  const verdict = t.judge.timed_out ? 'timeout' : t.judge.exit === 0 ? 'pass' : `fail(${t.judge.exit})`;
  return t.judge.tests ? `${verdict} ${t.judge.tests.passed}/${t.judge.tests.passed + t.judge.tests.failed}` : verdict;
}

function table(r: SequentRecord, s: Style): string {
  const head = ['agent', 'agent exit', 'judge', 'diff', 'files', 'time', 'cost', 'refused', 'review', 'score'];
  const rows = r.tangents.map((t) => [
    `${t.tangent === r.winner ? '*' : ' '} ${t.agent}`,
    t.lost ? 'lost' : t.error ? 'no start' : t.timed_out ? 'timeout' : String(t.exit),
    judged(t),
    `+${t.diff.insertions} -${t.diff.deletions}`,
    String(t.diff.files),
    `${(t.duration_ms / 1000).toFixed(1)}s`,
    `$${t.cost.toFixed(4)}`,
    String(t.refusals),
    t.review ? (t.review.score === null ? 'failed' : `${t.review.score}/10`) : '-',
    t.score.eligible ? String(t.score.total) : `- (${t.score.reason})`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [
    `${s.bold(`sequent ${r.id}`)}  ${r.task}`,
    `from ${r.branch} at ${r.base.slice(0, 12)}; judge: ${r.judge ? r.judge.join(' ') : '(none)'}; ${r.started} .. ${r.finished}`,
    '',
    line(head),
    ...rows.map(line),
    '',
    `resultant: ${r.winner ?? '(none)'}${r.picked ? `; picked ${r.picked.tangent} (${r.picked.squash ? 'squashed' : 'merged'} ${r.picked.at} by ${r.picked.by})` : ''}`,
  ].join('\n');
}

export const show: Handler = async (inv) => {
  const record = readSequent((await context(inv)).paths, inv.args[0] as string);
  return { data: record, text: table(record, inv.style) };
};

export const list: Handler = async (inv) => {
  const records = listSequents((await context(inv)).paths);
  const lines = records.map((r) => `${r.id}  ${String(r.tangents.length).padStart(2)} tangents  resultant ${(r.winner ?? '(none)').padEnd(20)} ${r.picked ? 'picked' : '      '}  ${r.task}`);
  return { data: records.map((r) => ({ id: r.id, task: r.task, tangents: r.tangents.length, winner: r.winner, picked: r.picked })), text: lines.length === 0 ? 'No sequents. `agence ^sequent run "TASK" --agents a,b` starts one.' : lines.join('\n') };
};

export const pick: Handler = async (inv) => {
  const picked = await pickSequent(await context(inv), inv.args[0] as string, inv.args[1] ?? null, Boolean(inv.opts.squash));
  return {
    data: { id: picked.record.id, tangent: picked.tangent.tangent, agent: picked.tangent.agent, commit: picked.commit, squash: picked.record.picked?.squash ?? false },
    text: `${picked.record.picked?.squash ? 'Squashed' : 'Merged'} ${picked.tangent.agent}'s tangent (${picked.tangent.tangent}) into ${picked.record.branch}: ${picked.commit.slice(0, 12)}`,
  };
};
