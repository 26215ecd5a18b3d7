import type { Persona } from './agents.js';
import { AgenceError } from './errors.js';

/**
 * The command that runs an agent without a person at the keyboard, for sequents: the persona's
 * `batch` template, or the known non-interactive form of the tool its `launch` names. The
 * template is filled as an argv: `{task}` (also inside a word) takes the task as it is, never
 * split or expanded, so whatever the task says stays one argument. Pure.
 */

/** Non-interactive forms of the tools agence knows. */
export const BUILT_IN_BATCH: Readonly<Record<string, readonly string[]>> = {
  claude: ['claude', '-p', '{task}'],
  codex: ['codex', 'exec', '{task}'],
  aider: ['aider', '--yes-always', '--message', '{task}'],
  gemini: ['gemini', '-p', '{task}'],
  copilot: ['copilot', '-p', '{task}'],
};

export function batchTemplate(persona: Persona): string[] {
  if (persona.batch !== undefined) return typeof persona.batch === 'string' ? persona.batch.trim().split(/\s+/).filter((w) => w !== '') : [...persona.batch];
  const tool = persona.launch?.trim().split(/\s+/)[0];
  const known = tool === undefined ? undefined : BUILT_IN_BATCH[tool];
  if (known) return [...known];
  throw new AgenceError('usage', `agent ${persona.name} has no batch command, so it cannot run a sequent`, {
    fix: `add \`batch: mytool --prompt {task}\` to the front matter of ${persona.source} (or launch: one of ${Object.keys(BUILT_IN_BATCH).join(', ')})`,
  });
}

export function batchArgv(persona: Persona, task: string): string[] {
  const template = batchTemplate(persona);
  if (template.length === 0 || !template.some((w) => w.includes('{task}'))) {
    throw new AgenceError('usage', `the batch command of agent ${persona.name} does not take the task (no {task} in it)`, {
      fix: `write {task} where the task goes, e.g. batch: ${template[0] ?? 'mytool'} --prompt {task} (in ${persona.source})`,
    });
  }
  return template.map((word) => word.split('{task}').join(task));
}
