import * as z from './zod.js';
import { AgenceError } from './errors.js';
import { TIERS } from './schemas.js';

/**
 * Validated commands (`codex/commands.json`): a name maps to an argv template, a description and
 * a tier floor. The template is filled without a shell: `{1}`..`{9}` take one argument each
 * (inside a word too: `--namespace={1}`), a word that is exactly `{@}` takes all the arguments,
 * each as its own word. Nothing is ever split or expanded, so an argument is one word whatever it
 * holds.
 */

export const CommandEntrySchema = z.deferred(() => z.object({
  description: z.string(),
  argv: z.array(z.string()).check(z.minLength(1)),
  args: z.optional(z.array(z.object({ name: z.string(), required: z.optional(z.boolean()) }))),
  tier: z.enum(TIERS),
}));
export type CommandEntry = z.infer<typeof CommandEntrySchema>;

export const CommandsFileSchema = z.deferred(() => z.object({
  schema: z.literal(1),
  commands: z.record(z.string().check(z.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/)), CommandEntrySchema),
}));

const NUMBERED = /\{([1-9])\}/g;

export function usageOf(name: string, entry: CommandEntry): string {
  const args = (entry.args ?? []).map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`));
  return [`/${name}`, ...args].join(' ');
}

export function fillTemplate(name: string, entry: CommandEntry, args: readonly string[]): string[] {
  const required = (entry.args ?? []).filter((a) => a.required).length;
  const takesAll = entry.argv.includes('{@}');
  const highest = Math.max(0, ...entry.argv.flatMap((w) => [...w.matchAll(NUMBERED)].map((m) => Number(m[1]))));
  const usage = `usage: agence ${usageOf(name, entry)}`;
  if (args.length < required) throw new AgenceError('usage', `/${name} needs ${required} argument${required === 1 ? '' : 's'}, got ${args.length}`, { fix: usage });
  if (!takesAll && args.length > highest) throw new AgenceError('usage', `/${name} takes at most ${highest} argument${highest === 1 ? '' : 's'}, got ${args.length}`, { fix: usage });
  const argv: string[] = [];
  for (const word of entry.argv) {
    if (word === '{@}') {
      argv.push(...args);
      continue;
    }
    const missing = [...word.matchAll(NUMBERED)].some((m) => args[Number(m[1]) - 1] === undefined);
    if (missing) continue; // an optional argument not given: its word is left out
    argv.push(word.replace(NUMBERED, (_, n: string) => args[Number(n) - 1] as string));
  }
  return argv;
}
