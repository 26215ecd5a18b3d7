import { createHash } from 'node:crypto';
import { callCost, type ResolvedModel } from '../core/agents.js';
import { canonicalJson } from '../core/canonicalJson.js';
import { AgenceError } from '../core/errors.js';
import { budgetState, type LlmCall } from '../core/llmCall.js';
import type { ShardPaths } from '../shard/layout.js';
import { appendCall, spentThisMonth } from './callLog.js';
import { type CallSettings, callSettings, languageModel, type ProviderTarget, readProviders, resolveProvider } from './providers.js';
import type { LanguageModel, ModelMessage } from './sdk.js';

/**
 * One model call as agence makes it: provider resolved, labels and budget checked first, the call
 * timed, logged to nexus/logs/llm-calls.jsonl whatever its outcome, and provider failures turned
 * into one-line errors. Chat, skills, peers and autonomous mode all call models through here.
 */

export interface CallScope {
  paths: ShardPaths;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  actor: string;
  session: string | null;
  notify: (message: string) => void;
  /** `agence.json` budget.monthly_usd, when the shard has one. */
  monthlyBudget: number | undefined;
  /** `--over-budget`: a person's explicit go-ahead past 100% (never an agent's). */
  overBudget: boolean;
}

export interface PreparedModel {
  resolved: ResolvedModel;
  target: ProviderTarget;
  model: LanguageModel;
  settings: CallSettings;
}

export async function prepareModel(resolved: ResolvedModel, env: NodeJS.ProcessEnv): Promise<PreparedModel> {
  const file = readProviders(env);
  const target = await resolveProvider(resolved.provider, file, env);
  return { resolved, target, model: await languageModel(target, resolved.id), settings: callSettings(file, env) };
}

export interface CallRequest {
  agent: string;
  purpose: string;
  system: string;
  messages: ModelMessage[];
  /** Ids of the context items labelled secret or above (DESIGN §5). */
  secretItems: string[];
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

function logCall(scope: CallScope, prepared: { resolved: ResolvedModel; target?: ProviderTarget }, request: CallRequest, fields: Pick<LlmCall, 'outcome' | 'latency_ms'> & Partial<LlmCall>): LlmCall {
  const usage = { input_tokens: fields.input_tokens ?? 0, output_tokens: fields.output_tokens ?? 0 };
  const call: LlmCall = {
    ts: scope.now().toISOString(),
    actor: scope.actor,
    agent: request.agent,
    provider: prepared.target?.name ?? prepared.resolved.provider,
    model: prepared.resolved.alias,
    session: scope.session,
    prompt_hash: createHash('sha256').update(canonicalJson({ system: request.system, messages: request.messages })).digest('hex'),
    ...usage,
    cost: callCost(prepared.resolved.price, usage.input_tokens, usage.output_tokens),
    latency_ms: fields.latency_ms,
    outcome: fields.outcome,
    purpose: request.purpose,
    ...(fields.detail ? { detail: fields.detail } : {}),
  };
  appendCall(scope.paths, call, scope.now());
  return call;
}

/** A refusal is logged too, so `^cost` and audits see what was asked and why it did not go. */
function refuse(scope: CallScope, resolved: ResolvedModel, request: CallRequest, error: AgenceError): never {
  logCall(scope, { resolved }, request, { outcome: 'refused', latency_ms: 0, detail: error.message });
  throw error;
}

/** Labels (DESIGN §5): secret material goes only to a provider on this machine. */
export function checkLabels(scope: CallScope, resolved: ResolvedModel, target: { name: string; local: boolean } | null, request: CallRequest): void {
  if (request.secretItems.length === 0 || target?.local) return;
  refuse(
    scope,
    resolved,
    request,
    new AgenceError('refused', `the context holds items labelled secret or above (${request.secretItems.join(', ')}); ${resolved.provider} (${resolved.alias}) is not a local provider`, {
      fix: 'ask an agent on a local provider (ollama, or an OpenAI-compatible server on localhost), e.g. @olena',
    }),
  );
}

/** The monthly budget: warn at 80%, refuse at 100% unless a person says --over-budget. */
export function checkBudget(scope: CallScope, resolved: ResolvedModel, request: CallRequest): void {
  if (scope.monthlyBudget === undefined) return; // no budget: the log need not be read
  const state = budgetState(spentThisMonth(scope.paths, scope.now()), scope.monthlyBudget);
  if (state.state === 'none' || state.state === 'ok') return;
  const spent = `$${state.spent.toFixed(2)} of the $${state.budget.toFixed(2)} monthly budget (${Math.round(state.share * 100)}%)`;
  if (state.state === 'warn') return scope.notify(`this shard has spent ${spent}`);
  if (scope.overBudget && !scope.env.AGENCE_AGENT) return scope.notify(`over budget (${spent}); going ahead as asked (--over-budget)`);
  refuse(
    scope,
    resolved,
    request,
    new AgenceError('refused', `this shard has spent ${spent}`, {
      fix: scope.env.AGENCE_AGENT ? 'an agent cannot go over budget; ask a person' : 'raise budget.monthly_usd in .agence/agence.json, or pass --over-budget for this call',
    }),
  );
}

const LOCALHOST = /^https?:\/\/(localhost|127\.|\[::1\])/;

/** A provider's own words may quote the key (OpenAI masks most of it): none of it reaches a log or a terminal. */
export function redact(text: string, key: string | undefined): string {
  const plain = key ? text.split(key).join('[key]') : text;
  return plain.replace(/\b(sk|key|token|api)[-_][A-Za-z0-9*_-]{6,}/gi, '[key]');
}

/** A provider failure as one line: what happened and what to do; never a key, never a request body. */
export function providerError(error: unknown, target: ProviderTarget, timeoutMs: number): AgenceError {
  const e = error as { name?: string; message?: string; statusCode?: number; lastError?: unknown; reason?: string; cause?: unknown };
  if (e?.name === 'AI_RetryError' && e.lastError) {
    const last = providerError(e.lastError, target, timeoutMs);
    return new AgenceError('provider', `${last.message} (gave up after retrying)`, { fix: last.fix ?? '' });
  }
  const where = `${target.name} at ${target.baseURL}`;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || /timed? ?out|aborted/i.test(e?.message ?? '')) {
    return new AgenceError('provider', `${where} did not answer within ${Math.round(timeoutMs / 1000)} s`, { fix: 'try again, or raise timeout_seconds in providers.yaml (AGENCE_LLM_TIMEOUT for one run)' });
  }
  if (e?.name === 'AI_APICallError') {
    const status = e.statusCode;
    // A stream that does not parse arrives as an API error (some providers give it status 500).
    if ((status === undefined && !/^Cannot connect/i.test(e.message ?? '')) || /JSON parsing failed|Type validation failed/i.test(e.message ?? '')) {
      return new AgenceError('provider', `${where} sent a malformed response (${redact((e.message ?? '').split('\n')[0]?.slice(0, 120) ?? '', target.apiKey)})`, { fix: 'the endpoint may not speak this protocol; check the provider and base URL' });
    }
    if (status === undefined) {
      return new AgenceError('provider', `cannot reach ${where}`, {
        fix: LOCALHOST.test(target.baseURL) ? 'is the server running?' : 'check the network and the base URL (providers.yaml or the *_BASE_URL variable)',
      });
    }
    const said = redact((e.message ?? '').split('\n')[0]?.slice(0, 200) ?? '', target.apiKey);
    if (status === 401 || status === 403) return new AgenceError('provider', `${where} refused the API key (${status}: ${said})`, { fix: 'check the key in the environment or providers.yaml' });
    if (status === 429) return new AgenceError('provider', `${where} is rate limiting (429: ${said})`, { fix: 'wait and try again, or use another model (@agent.model)' });
    if (status === 404) return new AgenceError('provider', `${where} does not know this model (404: ${said})`, { fix: 'check the model id in codex/models.yaml' });
    return new AgenceError('provider', `${where} failed (${status}: ${said})`, { fix: status >= 500 ? 'the provider has a problem; try again later' : 'check the request settings' });
  }
  if (e?.name === 'AI_JSONParseError' || e?.name === 'AI_TypeValidationError' || e?.name === 'AI_InvalidResponseDataError' || e?.name === 'AI_EmptyResponseBodyError') {
    return new AgenceError('provider', `${where} sent a malformed response (${e.name.replace(/^AI_/, '')})`, { fix: 'the endpoint may not speak this protocol; check the provider and base URL' });
  }
  if (error instanceof AgenceError) return error;
  // Every message that can reach stderr or the call log goes through redact: an SDK error can quote the key.
  return new AgenceError('provider', `the call to ${where} failed (${redact((e?.message ?? String(error)).split('\n')[0] ?? '', target.apiKey)})`, { fix: 'try again; if it persists, check the provider settings' });
}

/**
 * Run one call: checks first (labels, budget), then `run`, timed and logged. A failure is logged
 * and thrown as a one-line AgenceError; nothing else is written.
 */
export async function callModel<T>(
  scope: CallScope,
  prepared: PreparedModel,
  request: CallRequest,
  run: (signal: AbortSignal) => Promise<{ value: T; usage: Usage }>,
): Promise<{ value: T; call: LlmCall }> {
  checkLabels(scope, prepared.resolved, prepared.target, request);
  checkBudget(scope, prepared.resolved, request);
  const started = performance.now();
  const signal = AbortSignal.timeout(prepared.settings.timeoutMs);
  let outcome: { value: T; usage: Usage };
  try {
    outcome = await run(signal);
  } catch (error) {
    const failure = providerError(signal.aborted ? signal.reason : error, prepared.target, prepared.settings.timeoutMs);
    logCall(scope, prepared, request, { outcome: 'error', latency_ms: Math.round(performance.now() - started), detail: failure.message });
    throw failure;
  }
  const call = logCall(scope, prepared, request, {
    outcome: 'ok',
    latency_ms: Math.round(performance.now() - started),
    input_tokens: outcome.usage.inputTokens,
    output_tokens: outcome.usage.outputTokens,
  });
  return { value: outcome.value, call };
}

/** Usage as the SDK reports it (fields may be missing when a provider sends none). */
export function usageOf(usage: { inputTokens?: number | undefined; outputTokens?: number | undefined } | undefined): Usage {
  return { inputTokens: usage?.inputTokens ?? 0, outputTokens: usage?.outputTokens ?? 0 };
}
