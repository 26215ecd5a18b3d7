import * as z from '../core/zod.js';
import { type Peer, peersOf, resolveAlias, type ResolvedModel } from '../core/agents.js';
import { AgenceError } from '../core/errors.js';
import { firstIssue } from '../core/schemas.js';
import { type CallRequest, callModel, prepareModel, usageOf } from '../llm/modelCall.js';
import { generateText, jsonSchema, NoObjectGeneratedError, Output } from '../llm/sdk.js';
import { routeAgent } from './agentRegistry.js';
import { buildPrompt, type ChatContext, callScope, keepTurns, openSession, secretOf } from './chat.js';

/**
 * Peers: the same question, with the same context, to three differently configured models in
 * parallel, each asked for `{answer, confidence, reasoning}` (structured output on the wire,
 * validated here). A peer that fails or answers out of shape is reported; the others still count.
 * The consensus weighs each answer by the peer's weight (from the persona) times its confidence.
 */

export const PeerAnswerSchema = z.deferred(() => z.object({
  answer: z.string().check(z.minLength(1)),
  confidence: z.number().check(z.gte(0), z.lte(1)),
  reasoning: z.string(),
}));
export type PeerAnswer = z.infer<typeof PeerAnswerSchema>;

const ANSWER_JSON_SCHEMA = {
  type: 'object',
  properties: {
    answer: { type: 'string', description: 'the answer or decision itself, in one short sentence' },
    confidence: { type: 'number', minimum: 0, maximum: 1, description: 'how sure you are, 0 to 1' },
    reasoning: { type: 'string', description: 'why, briefly, with the evidence' },
  },
  required: ['answer', 'confidence', 'reasoning'],
  additionalProperties: false,
} as const;

const PEER_INSTRUCTIONS = `Answer independently: no other model's answer is shown to you. Reply with one JSON object only:
{"answer": "<the answer or decision, one short sentence>", "confidence": <0 to 1>, "reasoning": "<why, briefly>"}`;

export interface PeerOutcome {
  model: string;
  weight: number;
  temperature: number | null;
  ok: boolean;
  answer?: PeerAnswer;
  error?: string;
  cost: number;
}

export interface Consensus {
  answer: string;
  confidence: number;
  /** Share of the weighted confidence behind the consensus answer, 0..1. */
  agreement: number;
  verdict: 'agree' | 'majority' | 'split';
  supporters: string[];
}

export interface PeersResult {
  question: string;
  peers: PeerOutcome[];
  consensus: Consensus;
  judge: { model: string; text: string; cost: number } | null;
  session: string;
  cost: number;
}

/** Answers that say the same thing after case, punctuation and spacing are set aside. */
const normalise = (text: string) => text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();

/** The weighted consensus of the peers that answered (pure). */
export function consensusOf(outcomes: readonly PeerOutcome[]): Consensus {
  const groups = new Map<string, { answer: string; score: number; confidence: number; members: string[] }>();
  let total = 0;
  for (const o of outcomes) {
    if (!o.answer) continue;
    const score = o.weight * o.answer.confidence;
    total += score;
    const key = normalise(o.answer.answer);
    const group = groups.get(key) ?? { answer: o.answer.answer, score: 0, confidence: 0, members: [] };
    group.score += score;
    group.confidence = Math.max(group.confidence, o.answer.confidence);
    group.members.push(o.model);
    groups.set(key, group);
  }
  const ranked = [...groups.values()].sort((a, b) => b.score - a.score || b.members.length - a.members.length);
  const best = ranked[0];
  if (!best) throw new AgenceError('provider', 'no peer gave a valid answer', { fix: 'see each peer’s error above; check the providers (`agence ^agent show peers`)' });
  const answered = outcomes.filter((o) => o.answer).length;
  const verdict = ranked.length === 1 && answered > 1 ? 'agree' : best.members.length > 1 ? 'majority' : 'split';
  return { answer: best.answer, confidence: best.confidence, agreement: total === 0 ? 0 : Math.round((best.score / total) * 1000) / 1000, verdict, supporters: best.members };
}

/** Parse and validate a peer's reply: JSON, then the schema. */
export function parsePeerAnswer(text: string): PeerAnswer {
  const trimmed = text.trim().replace(/^```(?:json)?\s*|\s*```$/g, '');
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    throw new Error(`invalid JSON (${JSON.stringify(trimmed.slice(0, 60))})`);
  }
  const parsed = PeerAnswerSchema.safeParse(value);
  if (!parsed.success) throw new Error(`answer out of shape (${firstIssue(parsed.error)})`);
  return parsed.data;
}

export interface PeersInput {
  agent: string;
  question: string;
  judge: boolean;
  fresh: boolean;
  overBudget: boolean;
}

export async function askPeers(ctx: ChatContext, input: PeersInput): Promise<PeersResult> {
  const s = ctx.sessions;
  const { persona, models } = routeAgent(s.shard, { agent: input.agent, model: null }, s.env);
  const peers = peersOf(persona);
  if (peers.length < 2) throw new AgenceError('usage', `@${persona.name} lists ${peers.length} peer(s); a consensus needs at least two`, { fix: `list them under peers: in ${persona.source}` });
  const resolved = peers.map((p) => resolveAlias(p.model, models, `peers of ${persona.source}`));
  const session = input.fresh ? null : openSession(s);
  // One context for all: the smallest window among the peers bounds it.
  const smallest = resolved.reduce((a, b) => (b.contextWindow < a.contextWindow ? b : a));
  const prompt = await buildPrompt(ctx, persona, smallest, session, input.question);
  const system = `${prompt.system}\n\n${PEER_INSTRUCTIONS}`;
  const scope = await callScope(ctx, session?.session_id ?? null, input.overBudget);
  const request: CallRequest = { agent: persona.name, purpose: 'peer', system, messages: prompt.messages, secretItems: prompt.secretItems };

  const askOne = async (peer: Peer, model: ResolvedModel): Promise<PeerOutcome> => {
    const base = { model: peer.model, weight: peer.weight, temperature: peer.temperature ?? null };
    try {
      const prepared = await prepareModel(model, s.env);
      const { value, call } = await callModel(scope, prepared, request, async (signal) => {
        try {
          const result = await generateText({
            model: prepared.model,
            system,
            messages: prompt.messages,
            abortSignal: signal,
            maxRetries: prepared.settings.maxRetries,
            ...(peer.temperature !== undefined ? { temperature: peer.temperature } : {}),
            output: Output.object({ schema: jsonSchema<PeerAnswer>(ANSWER_JSON_SCHEMA as never) }),
          });
          return { value: result.text, usage: usageOf(result.usage) };
        } catch (error) {
          // The call worked and was paid for; its text is judged below like any other.
          if (NoObjectGeneratedError.isInstance(error)) return { value: error.text ?? '', usage: usageOf(error.usage) };
          throw error;
        }
      });
      try {
        return { ...base, ok: true, answer: parsePeerAnswer(value), cost: call.cost };
      } catch (error) {
        return { ...base, ok: false, error: (error as Error).message, cost: call.cost };
      }
    } catch (error) {
      if (error instanceof AgenceError && error.code === 'refused') throw error; // labels and budget stop the whole question
      return { ...base, ok: false, error: error instanceof AgenceError ? error.line : (error as Error).message, cost: 0 };
    }
  };
  const outcomes = await Promise.all(peers.map((peer, i) => askOne(peer, resolved[i] as ResolvedModel)));
  const consensus = consensusOf(outcomes);

  let judge: PeersResult['judge'] = null;
  if (input.judge) {
    const judgeAlias = persona.judge ?? (peers[0] as Peer).model;
    const judgeModel = resolveAlias(judgeAlias, models, `judge of ${persona.source}`);
    const prepared = await prepareModel(judgeModel, s.env);
    const positions = outcomes.map((o) => (o.answer ? `- ${o.model} (weight ${o.weight}, confidence ${o.answer.confidence}): ${o.answer.answer}\n  reasoning: ${o.answer.reasoning}` : `- ${o.model}: no valid answer (${o.error})`));
    const messages = [...prompt.messages.slice(0, -1), { role: 'user' as const, content: `${input.question}\n\nThe peers answered:\n${positions.join('\n')}\n\nReconcile them: state where they agree, where they differ and which position is strongest and why, then a verdict (agree / majority / split), the recommendation, and what evidence would change it.` }];
    const { value, call } = await callModel(scope, prepared, { ...request, purpose: 'judge', messages }, async (signal) => {
      const result = await generateText({ model: prepared.model, system: prompt.system, messages, abortSignal: signal, maxRetries: prepared.settings.maxRetries });
      return { value: result.text, usage: usageOf(result.usage) };
    });
    judge = { model: judgeAlias, text: value, cost: call.cost };
  }

  const at = s.now().toISOString();
  const summary = judge ? judge.text : `${consensus.verdict}: ${consensus.answer}`;
  const kept = await keepTurns(s, persona.name, input.fresh, input.question, [
    { at, role: 'user', agent: persona.name, text: input.question },
    { at, role: 'assistant', agent: persona.name, model: 'peers', text: summary, ...secretOf(prompt) },
  ]);
  const cost = Math.round((outcomes.reduce((sum, o) => sum + o.cost, 0) + (judge?.cost ?? 0)) * 1e6) / 1e6;
  return { question: input.question, peers: outcomes, consensus, judge, session: kept.session, cost };
}
