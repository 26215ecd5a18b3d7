import { AgenceError } from '../../core/errors.js';
import { readManifest } from '../../shard/manifest.js';
import { withKnowledge } from '../knowledgeContext.js';
import { isTerminal, writeFd } from '../output.js';
import { sessionContext } from '../sessionContext.js';
import type { Handler, Invocation, Outcome } from '../types.js';

/** What every model-calling command needs: sessions, knowledge and the shard's budget. */
export async function chatContext<T>(inv: Invocation, fn: (ctx: import('../../agents/chat.js').ChatContext) => Promise<T>): Promise<T> {
  const { ctx: sessions } = await sessionContext(inv);
  const monthlyBudget = readManifest(sessions.shard).budget?.monthly_usd;
  // The knowledge context without its progress bar: the bar must not draw over a streamed answer.
  const { onProgress: _bar, ...knowledge } = await withKnowledge(inv, async (k) => k);
  return fn({ sessions, knowledge, monthlyBudget });
}

/** `agence [@agent[.model]] "question"`: chat, streamed on a terminal; `--json` gives the whole answer with usage. */
export const run: Handler = async (inv) => {
  const question = inv.args.join(' ').trim();
  if (question === '') throw new AgenceError('usage', 'ask what? the question is empty', { fix: 'agence "How do I configure TLS?"' });
  const { stream, onText } = streamTo(inv);
  if (inv.agent && !inv.agent.model) {
    const { loadPersona } = await import('../../agents/agentRegistry.js');
    const { requireShard } = await import('../../shard/layout.js');
    if (loadPersona(requireShard(inv.cwd), inv.agent.agent).peers) return peers(inv, question);
  }
  const { chat } = await import('../../agents/chat.js');
  const result = await chatContext(inv, (ctx) =>
    chat(ctx, {
      question,
      ref: inv.agent,
      fresh: inv.opts.new === true,
      overBudget: inv.opts['over-budget'] === true,
      ...(onText ? { onText } : {}),
    }),
  );
  return answerOutcome(inv, result, stream);
};

/** `agence @peers "question" [--judge]`: three models in parallel, a weighted consensus. */
async function peers(inv: Invocation, question: string): Promise<Outcome> {
  const { askPeers } = await import('../../agents/peers.js');
  const result = await chatContext(inv, (ctx) =>
    askPeers(ctx, { agent: (inv.agent as { agent: string }).agent, question, judge: inv.opts.judge === true, fresh: inv.opts.new === true, overBudget: inv.opts['over-budget'] === true }),
  );
  const s = inv.style;
  const c = result.consensus;
  const verdictColour = c.verdict === 'agree' ? s.green : c.verdict === 'majority' ? s.yellow : s.red;
  const lines = [
    `${s.bold('verdict')}    ${verdictColour(c.verdict)} (${c.supporters.join(', ')}; ${Math.round(c.agreement * 100)}% of the weighted confidence)`,
    `${s.bold('consensus')}  ${c.answer}`,
    '',
    ...result.peers.map((p) =>
      p.answer
        ? `${s.bold(p.model)} (weight ${p.weight}, confidence ${p.answer.confidence}): ${p.answer.answer}
  ${s.dim(p.answer.reasoning)}`
        : `${s.bold(p.model)} ${s.red('failed')}: ${p.error}`,
    ),
    ...(result.judge ? ['', `${s.bold(`judge (${result.judge.model})`)}`, result.judge.text] : []),
  ];
  return { data: result, text: lines.join('\n') };
}

/** Streamed on a terminal (so only the end of line is left to print), else the whole answer; a footer on a terminal's stderr. */
export function answerOutcome(inv: Invocation, result: import('../../agents/chat.js').ChatResult, streamed: boolean): Outcome {
  if (streamed && !result.answer.endsWith('\n')) writeFd(1, '\n');
  if (isTerminal(2)) {
    inv.notify(inv.style.dim(`@${result.agent} (${result.model.alias}) · ${result.usage.input_tokens} in, ${result.usage.output_tokens} out · $${result.cost.toFixed(4)} · session ${result.session}`));
  }
  return { data: result, text: streamed ? '' : result.answer };
}

/** Pieces of the answer written to stdout as they come, when it is a terminal and not --json. */
export function streamTo(inv: Invocation): { stream: boolean; onText?: (delta: string) => void } {
  const stream = !inv.json && isTerminal(1);
  return stream ? { stream, onText: (delta) => writeFd(1, delta) } : { stream };
}
