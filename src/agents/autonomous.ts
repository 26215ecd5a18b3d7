import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { canRead, type Label } from '../core/knowledgeItem.js';
import { type Tier } from '../core/schemas.js';
import { decide, type GuardDecision, loadGuard, topReasons } from '../guard/guard.js';
import { createItem, recall } from '../knowledge/knowledge.js';
import { appendLedger } from '../ledger/ledger.js';
import { callModel, prepareModel, usageOf } from '../llm/modelCall.js';
import { generateText, jsonSchema, type ModelMessage, tool, type ToolSet } from '../llm/sdk.js';
import { saveSession } from '../sessions/sessions.js';
import { routeAgent } from './agentRegistry.js';
import { buildPrompt, type ChatContext, callScope, keepTurns, openSession, secretOf } from './chat.js';
import { insideRepo } from './skills.js';

/**
 * Autonomous mode (`+"task"`): the agent states a plan (shown), then works with tools (run a
 * command, read a file, recall, learn, save the session) one model call per step, within a step
 * limit and the budget. Every command goes through the guard first: T0 runs, T1 runs and is
 * ledgered, T2 runs only if a person at the terminal says yes, T3/T4 never run and the model is
 * told why. The run is recorded in the session and the ledger.
 */

export type AutoEvent =
  | { type: 'plan'; text: string }
  | { type: 'command'; command: string; tier: Tier; decision: 'ran' | 'refused' | 'denied' | 'approved'; reasons: string[]; exit?: number | null }
  | { type: 'tool'; name: string; summary: string }
  | { type: 'text'; text: string };

export interface AutoInput {
  task: string;
  ref: { agent: string; model: string | null } | null;
  fresh: boolean;
  overBudget: boolean;
  maxSteps: number;
  /** Ask the person at the terminal about a T2 command; null when there is no terminal. */
  confirm: ((decision: GuardDecision) => Promise<boolean>) | null;
  onEvent: (event: AutoEvent) => void;
}

export interface AutoResult {
  agent: string;
  model: string;
  plan: string;
  steps: number;
  finished: boolean;
  answer: string;
  events: AutoEvent[];
  cost: number;
  session: string;
}

const OUTPUT_LIMIT = 16 * 1024;
const COMMAND_TIMEOUT_MS = 120_000;

/**
 * The environment of the model's commands, without provider keys: a T0 `env` or `cat
 * /proc/self/environ` would otherwise hand them to the model (and into the session).
 */
export function withoutKeys(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !/(_API_KEY|_TOKEN|_SECRET|PASSWORD)$/i.test(name)));
}

/** The recall hits a model may be sent: all of them to a local one, none above internal to a remote one. */
export function sendableHits<H extends { label: string }>(hits: readonly H[], local: boolean): H[] {
  return local ? [...hits] : hits.filter((h) => canRead('internal', h.label as Label));
}

/** Run a guarded command line with bash (one argv element: the line the guard classified). */
function runShell(command: string, cwd: string, env: NodeJS.ProcessEnv, agent: string): Promise<{ exit: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { cwd, env: { ...withoutKeys(env), AGENCE_AGENT: agent }, stdio: ['ignore', 'pipe', 'pipe'], timeout: COMMAND_TIMEOUT_MS });
    let output = '';
    const take = (chunk: Buffer) => {
      if (output.length < OUTPUT_LIMIT) output += chunk.toString('utf8');
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (error) => resolve({ exit: null, output: error.message }));
    child.on('close', (code) => resolve({ exit: code, output: output.length > OUTPUT_LIMIT ? `${output.slice(0, OUTPUT_LIMIT)}\n[output cut at ${OUTPUT_LIMIT} bytes]` : output }));
  });
}

const PLAN_PROMPT = 'Before doing anything, state your plan as a short numbered list of steps, and what would show the task is done. Do not act yet.';
const ACT_PROMPT =
  'Now carry out the plan with the tools. Every command goes through the guard: refused commands are not run; adapt or stop and say why. Save the session (save_session) with a note at meaningful points. When done, answer with a short summary of what was done and what is left.';

export async function runAutonomous(ctx: ChatContext, input: AutoInput): Promise<AutoResult> {
  const s = ctx.sessions;
  const { persona, model } = routeAgent(s.shard, input.ref, s.env);
  if (!model) throw new AgenceError('usage', `@${persona.name} is a consensus of peers; it advises and does not act`, { fix: 'give the task to an agent that acts, e.g. @sonya' });
  const session = input.fresh ? null : openSession(s);
  const prompt = await buildPrompt(ctx, persona, model, session, input.task);
  const prepared = await prepareModel(model, s.env);
  const scope = await callScope(ctx, session?.session_id ?? null, input.overBudget);
  const actor = persona.name;
  const events: AutoEvent[] = [];
  const emit = (event: AutoEvent) => {
    events.push(event);
    input.onEvent(event);
  };
  const ledger = (action: string, subject: string, decision: string, tier: Tier | null, data: Record<string, unknown> = {}) =>
    appendLedger(s.shard, { actor, action, subject, tier, decision, data: { by: scope.actor, ...data } }, s.now());
  let cost = 0;
  const call = async (messages: ModelMessage[], tools: ToolSet | undefined, purpose: string) => {
    const { value, call } = await callModel(scope, prepared, { agent: persona.name, purpose, system: prompt.system, messages, secretItems: prompt.secretItems }, async (signal) => {
      const result = await generateText({ model: prepared.model, system: prompt.system, messages, abortSignal: signal, maxRetries: prepared.settings.maxRetries, ...(tools ? { tools } : {}) });
      return { value: result, usage: usageOf(result.usage) };
    });
    cost += call.cost;
    return value;
  };

  // 1. The plan, shown before anything runs.
  const asked: ModelMessage[] = [...prompt.messages.slice(0, -1), { role: 'user', content: `${input.task}\n\n${PLAN_PROMPT}` }];
  const planned = await call(asked, undefined, 'auto:plan');
  const plan = planned.text.trim();
  emit({ type: 'plan', text: plan });
  ledger('auto.start', input.task.slice(0, 200), 'planned', null, { plan: plan.slice(0, 2000), max_steps: input.maxSteps });

  const guard = await loadGuard({ cwd: s.cwd, env: s.env, mentionsCodex: false });
  const kctx = { ...ctx.knowledge, agent: persona.name, actor: async () => persona.name };
  /** A command line through the guard: run, ledgered, asked about or refused by its tier. */
  const guardedRun = async (command: string): Promise<string> => {
    const decision = await decide(guard, command, actor);
    const reasons = topReasons(decision);
    const refuse = (why: string, as: 'refused' | 'denied') => {
      ledger('auto.command', command, as, decision.tier, { reasons });
      emit({ type: 'command', command, tier: decision.tier, decision: as, reasons });
      return `REFUSED (${decision.tier}): ${why}. The command did not run. Reasons: ${reasons.join('; ') || 'policy'}`;
    };
    if (decision.tier === 'T3' || decision.tier === 'T4') return refuse(decision.tier === 'T4' ? 'never allowed' : 'blocked by policy', 'refused');
    let approved = false;
    if (decision.tier === 'T2') {
      if (!input.confirm) return refuse('needs a person’s approval and there is no terminal to ask', 'refused');
      if (!(await input.confirm(decision))) return refuse('the person at the terminal said no', 'denied');
      approved = true;
    }
    // T0 runs unrecorded like any read; T1 and approved T2 commands are ledgered before they run
    // (a command that never returns still left its decision), and their exit after.
    if (decision.tier !== 'T0') ledger('auto.command', command, approved ? 'approved' : 'allowed', decision.tier, { reasons });
    const { exit, output } = await runShell(command, s.cwd, s.env, persona.name);
    if (decision.tier !== 'T0') ledger('auto.exit', command, 'ran', decision.tier, { exit });
    emit({ type: 'command', command, tier: decision.tier, decision: approved ? 'approved' : 'ran', reasons, exit });
    return `exit ${exit ?? 'none (killed)'}\n${output}`;
  };
  let startedBySave = false;
  const schema = <T,>(properties: Record<string, unknown>, required: string[]) => jsonSchema<T>({ type: 'object', properties, required, additionalProperties: false });
  /**
   * The tools the model may ask for, and what agence does for each. The SDK only describes them:
   * agence runs them between calls, so a long command is neither timed as the model's latency nor
   * cut by the model call's timeout.
   */
  const toolbox: Record<string, { description: string; inputSchema: ReturnType<typeof jsonSchema>; run: (input: never) => Promise<string> }> = {
    run_command: {
      description: 'Run a shell command line in the repository (bash). It is classified by the guard first; refused commands do not run.',
      inputSchema: schema<{ command: string }>({ command: { type: 'string' } }, ['command']),
      run: async ({ command }: { command: string }) => {
        try {
          return await guardedRun(command);
        } catch (error) {
          const message = error instanceof AgenceError ? error.line : (error as Error).message;
          emit({ type: 'tool', name: 'run_command', summary: `error: ${message}` });
          return `ERROR: ${message}. The command did not run.`;
        }
      },
    },
    read_file: {
      description: 'Read a text file of the repository.',
      inputSchema: schema<{ path: string }>({ path: { type: 'string' } }, ['path']),
      run: async ({ path }: { path: string }) => {
        try {
          const real = insideRepo(s.shard.root, s.cwd, path);
          emit({ type: 'tool', name: 'read_file', summary: relative(s.shard.root, real) });
          return readFileSync(real, 'utf8');
        } catch (error) {
          return `ERROR: ${error instanceof AgenceError ? error.line : (error as Error).message}`;
        }
      },
    },
    recall: {
      description: "Search the shard's knowledge (lessons, docs, faults) for a query.",
      inputSchema: schema<{ query: string }>({ query: { type: 'string' } }, ['query']),
      run: async ({ query }: { query: string }) => {
        try {
          const found = await recall(kctx, query, { limit: 5 });
          // What a tool returns goes to the model: secret and above only to a local one (DESIGN §5).
          const hits = sendableHits(found.hits, prepared.target.local);
          const withheld = found.hits.length - hits.length;
          emit({ type: 'tool', name: 'recall', summary: `${query}: ${hits.length} hits${withheld > 0 ? `, ${withheld} withheld (secret)` : ''}` });
          const listed = hits.map((h) => `[${h.id}] ${h.title}: ${h.snippet}`).join('\n') || 'nothing found';
          return withheld > 0 ? `${listed}\n(${withheld} more labelled secret or above: not sent to a remote model)` : listed;
        } catch (error) {
          return `ERROR: ${error instanceof AgenceError ? error.line : (error as Error).message}`;
        }
      },
    },
    learn: {
      description: 'Write a lesson the team should know (shared through git).',
      inputSchema: schema<{ text: string; title?: string }>({ text: { type: 'string' }, title: { type: 'string' } }, ['text']),
      run: async ({ text, title }: { text: string; title?: string }) => {
        try {
          const created = await createItem(kctx, { type: 'lesson', where: 'synthetic', text, title });
          ledger('auto.learn', created.item.id, 'written', null);
          emit({ type: 'tool', name: 'learn', summary: `${created.item.id} ${created.item.title}` });
          return `learned ${created.item.id}`;
        } catch (error) {
          return `ERROR: ${error instanceof AgenceError ? error.line : (error as Error).message}`;
        }
      },
    },
    save_session: {
      description: 'Save the session with a note (and todo items) so the work can be resumed.',
      inputSchema: schema<{ note: string; todo?: string[] }>({ note: { type: 'string' }, todo: { type: 'array', items: { type: 'string' } } }, ['note']),
      run: async ({ note, todo }: { note: string; todo?: string[] }) => {
        // With --new, the first save starts the run's own session; later saves and the turns kept at the end go to it.
        const saved = await saveSession({ ...s, actor: async () => persona.name }, { note, agent: persona.name, todos: todo ?? [], tags: [], forceNew: input.fresh && !startedBySave });
        startedBySave = true;
        emit({ type: 'tool', name: 'save_session', summary: `session ${saved.session.session_id}` });
        return `saved session ${saved.session.session_id}`;
      },
    },
  };
  const tools: ToolSet = Object.fromEntries(Object.entries(toolbox).map(([name, t]) => [name, tool({ description: t.description, inputSchema: t.inputSchema })]));
  /**
   * The results of the tool calls of one step, as the tool message of the next (null when there
   * is none to give). A call the SDK found invalid (unknown tool, input off its schema) already
   * has its error answer in the step's messages.
   */
  const runTools = async (calls: readonly { toolCallId: string; toolName: string; input: unknown; invalid?: boolean }[]): Promise<ModelMessage | null> => {
    const content = [];
    for (const c of calls) {
      const handler = toolbox[c.toolName];
      if (c.invalid || !handler) continue;
      content.push({ type: 'tool-result' as const, toolCallId: c.toolCallId, toolName: c.toolName, output: { type: 'text' as const, value: await handler.run(c.input as never) } });
    }
    return content.length > 0 ? { role: 'tool', content } : null;
  };

  // 2. The steps: one model call each, the tools it asks for run (guarded) before the next.
  const messages: ModelMessage[] = [...asked, { role: 'assistant', content: plan }, { role: 'user', content: ACT_PROMPT }];
  let steps = 0;
  let answer = '';
  let finished = false;
  try {
    while (steps < input.maxSteps) {
      steps++;
      const result = await call(messages, tools, 'auto:step');
      messages.push(...result.response.messages);
      if (result.text.trim()) emit({ type: 'text', text: result.text.trim() });
      if (result.toolCalls.length === 0) {
        answer = result.text.trim();
        finished = true;
        break;
      }
      const answered = await runTools(result.toolCalls);
      if (answered) messages.push(answered);
    }
  } catch (error) {
    // The ledger says the run stopped and why; the session gets no half-told turn.
    ledger('auto.end', input.task.slice(0, 200), 'failed', null, { steps, cost, error: error instanceof AgenceError ? error.message : String(error) });
    throw error;
  }
  ledger('auto.end', input.task.slice(0, 200), finished ? 'finished' : 'step-limit', null, { steps, cost });
  const at = s.now().toISOString();
  const log = events.filter((e) => e.type === 'command').map((e) => (e.type === 'command' ? `- ${e.tier} ${e.decision}: ${e.command}` : ''));
  const kept = await keepTurns(s, persona.name, input.fresh && !startedBySave, input.task, [
    { at, role: 'user', agent: persona.name, text: `+${input.task}` },
    { at, role: 'assistant', agent: persona.name, model: model.alias, text: [`Plan:\n${plan}`, ...(log.length > 0 ? [`Commands:\n${log.join('\n')}`] : []), finished ? answer : `Stopped after ${steps} steps (the step limit).`].join('\n\n'), ...secretOf(prompt) },
  ]);
  return { agent: persona.name, model: model.alias, plan, steps, finished, answer, events, cost: Math.round(cost * 1e6) / 1e6, session: kept.session };
}
