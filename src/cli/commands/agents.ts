import { listPersonas, loadModels, loadPersona } from '../../agents/agentRegistry.js';
import { peersOf } from '../../core/agents.js';
import { requireShard } from '../../shard/layout.js';
import { readManifest } from '../../shard/manifest.js';
import type { Handler } from '../types.js';

/** `^agents`: the personas of the effective codex, the default one marked. */
export const list: Handler = async (inv) => {
  const paths = requireShard(inv.cwd);
  const defaultAgent = readManifest(paths).default_agent;
  const agents = listPersonas(paths).map(({ prompt: _prompt, ...fields }) => ({ ...fields, default: fields.name === defaultAgent }));
  const s = inv.style;
  const text = agents
    .map((a) => `${a.default ? s.bold(`${a.name}*`.padEnd(10)) : a.name.padEnd(10)} ${`${a.provider}/${a.model}`.padEnd(22)} ${a.clearance.padEnd(10)} ${a.capabilities.join(', ')}`)
    .join('\n');
  return { data: { default: defaultAgent, agents }, text: agents.length > 0 ? `${text}\n${s.dim('* default agent (agence.json default_agent)')}` : 'This shard has no agents (codex/agents/*.md).' };
};

/** `^agent show NAME`: one persona, its model resolved through codex/models.yaml. */
export const show: Handler = async (inv) => {
  const paths = requireShard(inv.cwd);
  const persona = loadPersona(paths, (inv.args[0] as string).replace(/^@/, ''));
  const models = loadModels(paths);
  const peers = peersOf(persona);
  const model = peers.length > 0 ? null : models.models[persona.model] ?? null;
  const s = inv.style;
  const bullet = (items: string[]) => items.map((i) => `  - ${i}`).join('\n');
  const text = [
    `${s.bold(persona.name)}  ${s.dim(persona.source)}`,
    `model       ${persona.model}${model ? ` -> ${model.provider} ${model.id} (${model.context_window} tokens)` : peers.length > 0 ? '' : s.yellow(' (no such alias in codex/models.yaml)')}`,
    `provider    ${persona.provider}`,
    ...(peers.length > 0 ? [`peers       ${peers.map((p) => `${p.model} (weight ${p.weight})`).join(', ')}`] : []),
    `clearance   ${persona.clearance}`,
    `window      ${persona.context_window} tokens`,
    `capabilities ${persona.capabilities.join(', ')}`,
    ...(persona.handoff_rules.length > 0 ? ['handoff rules', bullet(persona.handoff_rules)] : []),
    ...(persona.constraints.length > 0 ? ['constraints', bullet(persona.constraints)] : []),
    '',
    persona.prompt,
  ].join('\n');
  return { data: { ...persona, resolved: model, peers }, text };
};
