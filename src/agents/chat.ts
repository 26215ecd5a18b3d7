import { conversationOf, fitTurns, type Persona, type ResolvedModel, type Turn, withTurns } from '../core/agents.js';
import { AgenceError } from '../core/errors.js';
import type { Session } from '../core/session.js';
import type { KnowledgeContext } from '../knowledge/knowledge.js';
import { type CallScope, callModel, prepareModel, usageOf } from '../llm/modelCall.js';
import { type ModelMessage, streamText } from '../llm/sdk.js';
import { currentSession, type SessionContext, saveSession } from '../sessions/sessions.js';
import { routeAgent } from './agentRegistry.js';
import { estimateTokens } from '../core/knowledgeText.js';
import { assembleContext, type ChatPack, type PackedItem } from './contextPack.js';

/**
 * Chat (the `ask` mode): the context pack, the conversation so far, the question; the answer
 * streamed as it comes; the call logged; then both turns saved in the session. Nothing is written
 * to the session unless the whole answer arrived.
 */

export interface ChatContext {
  sessions: SessionContext;
  knowledge: KnowledgeContext;
  monthlyBudget: number | undefined;
}

export interface ChatInput {
  question: string;
  ref: { agent: string; model: string | null } | null;
  /** `--new`: a fresh conversation, in a new session. */
  fresh: boolean;
  overBudget: boolean;
  /** What the call is for in the log: chat, skill:review, ... */
  purpose?: string;
  /** Each piece of the answer as it streams in. */
  onText?: (delta: string) => void;
}

export interface ChatResult {
  answer: string;
  agent: string;
  model: { alias: string; provider: string; id: string };
  usage: { input_tokens: number; output_tokens: number };
  cost: number;
  latency_ms: number;
  session: string;
  created: boolean;
  items: PackedItem[];
  parts: ChatPack['parts'];
  /** Where the time went, in ms: agence's own work (prepare: agent, context pack, provider and SDK; log; session) and the call. */
  timings: { prepare_ms: number; call_ms: number; log_ms: number; session_ms: number; overhead_ms: number };
}

/** Room kept for the answer, out of the window. */
const answerReserve = (window: number) => Math.min(4096, Math.floor(window / 4));

/** The open session chat continues, or null (none, or it is closed). */
export function openSession(ctx: SessionContext): Session | null {
  const session = currentSession(ctx);
  return session && (session.status === 'SAVED' || session.status === 'ACTIVE') ? session : null;
}

export async function callScope(ctx: ChatContext, session: string | null, overBudget: boolean): Promise<CallScope> {
  const s = ctx.sessions;
  return { paths: s.shard, env: s.env, now: s.now, actor: await s.actor(), session, notify: s.notify, monthlyBudget: ctx.monthlyBudget, overBudget };
}

export interface Prompt {
  system: string;
  messages: ModelMessage[];
  pack: ChatPack;
  /** Secret-or-above items behind the prompt: the pack's, and those earlier answers were made from. */
  secretItems: string[];
}

/** The secret items of a call, to be recorded on the answer it gives. */
export const secretOf = (prompt: Prompt): Pick<Turn, 'secret'> => (prompt.secretItems.length > 0 ? { secret: prompt.secretItems } : {});

/**
 * The whole prompt within the window: the context pack, the turns that fit (newest first), the
 * question. Too large even without history: a clear error before any call.
 */
export async function buildPrompt(ctx: ChatContext, persona: Persona, model: ResolvedModel, session: Session | null, question: string): Promise<Prompt> {
  const window = Math.min(persona.context_window, model.contextWindow);
  const usable = window - answerReserve(window);
  const asked = estimateTokens(question);
  if (asked >= usable) {
    throw new AgenceError('usage', `the prompt is about ${asked} tokens; ${model.alias} with @${persona.name} takes ${usable} (a ${window}-token window less room for the answer)`, {
      fix: 'shorten the question, or use a model with a larger window (@agent.model)',
    });
  }
  // The context pack gets up to three quarters of what is left; the conversation the rest and what the pack did not use.
  const pack = await assembleContext(ctx.knowledge, persona, session, question, Math.floor((usable - asked) * 0.75));
  const room = usable - asked - pack.tokens;
  const history = session ? fitTurns(conversationOf(session.runstate.memory_state, session.session_id), room, estimateTokens) : [];
  const messages: ModelMessage[] = [...history.map((t) => ({ role: t.role, content: t.text }) as ModelMessage), { role: 'user', content: question }];
  const secretItems = [...new Set([...pack.secretItems, ...history.flatMap((t) => t.secret ?? [])])];
  return { system: pack.system, messages, pack, secretItems };
}

/** Store the question and the answer in the session (a new one when there is none, or with --new). */
export async function keepTurns(ctx: SessionContext, agent: string, fresh: boolean, title: string, turns: Turn[]): Promise<{ session: string; created: boolean }> {
  const saved = await saveSession(ctx, {
    agent,
    todos: [],
    tags: [],
    forceNew: fresh,
    ...(fresh || !openSession(ctx) ? { task: title.slice(0, 120) } : {}),
    memory: (memory) => withTurns(memory, 'current', turns),
  });
  return { session: saved.session.session_id, created: saved.created };
}

export async function chat(ctx: ChatContext, input: ChatInput): Promise<ChatResult> {
  const s = ctx.sessions;
  const t0 = performance.now();
  const routed = routeAgent(s.shard, input.ref, s.env);
  if (!routed.model) {
    throw new AgenceError('usage', `@${routed.persona.name} is a consensus of peers, not a chat agent`, { fix: `ask it with \`agence @${routed.persona.name} "question"\` through the peers mode, or pick a model: @${routed.persona.name}.<alias>` });
  }
  const { persona, model } = routed;
  const session = input.fresh ? null : openSession(s);
  const prompt = await buildPrompt(ctx, persona, model, session, input.question);
  const prepared = await prepareModel(model, s.env);
  const t1 = performance.now();
  const scope = await callScope(ctx, session?.session_id ?? null, input.overBudget);
  const request = { agent: persona.name, purpose: input.purpose ?? 'chat', system: prompt.system, messages: prompt.messages, secretItems: prompt.secretItems };
  const { value: answer, call } = await callModel(scope, prepared, request, async (signal) => {
    const result = streamText({ model: prepared.model, system: prompt.system, messages: prompt.messages, abortSignal: signal, maxRetries: prepared.settings.maxRetries, onError: () => {} }); // errors come as parts below
    let text = '';
    for await (const part of result.fullStream) {
      if (part.type === 'text-delta') {
        text += part.text;
        input.onText?.(part.text);
      } else if (part.type === 'error') throw part.error;
      else if (part.type === 'abort') throw signal.reason ?? new Error('aborted');
    }
    if (text === '') throw Object.assign(new Error('the model sent an empty answer'), { name: 'AI_EmptyResponseBodyError' });
    return { value: text, usage: usageOf(await result.totalUsage) };
  });
  const t2 = performance.now();
  const at = s.now().toISOString();
  const kept = await keepTurns(s, persona.name, input.fresh, input.question, [
    { at, role: 'user', agent: persona.name, text: input.question },
    { at, role: 'assistant', agent: persona.name, model: model.alias, text: answer, ...secretOf(prompt) },
  ]);
  const t3 = performance.now();
  const ms = (n: number) => Math.round(n * 10) / 10;
  const timings = { prepare_ms: ms(t1 - t0), call_ms: call.latency_ms, log_ms: ms(t2 - t1 - call.latency_ms), session_ms: ms(t3 - t2), overhead_ms: ms(t1 - t0 + (t2 - t1 - call.latency_ms) + (t3 - t2)) };
  return {
    answer,
    agent: persona.name,
    model: { alias: model.alias, provider: model.provider, id: model.id },
    usage: { input_tokens: call.input_tokens, output_tokens: call.output_tokens },
    cost: call.cost,
    latency_ms: call.latency_ms,
    session: kept.session,
    created: kept.created,
    items: prompt.pack.items,
    parts: prompt.pack.parts,
    timings,
  };
}
