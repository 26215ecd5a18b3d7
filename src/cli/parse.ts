import { parseArgs } from 'node:util';
import { AgenceError } from '../core/errors.js';
import { nearest } from '../core/suggest.js';
import { displayName, findRoute, type Mode, MODES, ROUTES, type Route } from './routes.js';
import type { AgentRef, OptionValue } from './types.js';

/**
 * argv -> what to run. `agence [@agent[.model]] <input>`: the first character of the input picks
 * the mode (DESIGN §4), or its word alias does.
 */

export interface Globals {
  json: boolean;
  help: boolean;
  version: boolean;
}

export type Parsed =
  | { kind: 'version'; globals: Globals }
  | { kind: 'help'; globals: Globals; topic: Route | Mode | null }
  | { kind: 'route'; globals: Globals; route: Route; args: string[]; opts: Record<string, OptionValue>; agent: AgentRef | null }
  | { kind: 'mode'; globals: Globals; mode: Mode; input: string[]; opts: Record<string, OptionValue>; agent: AgentRef | null };

const AGENT_RE = /^@([a-z][a-z0-9_-]{0,63})(?:\.([A-Za-z0-9][A-Za-z0-9._:-]{0,127}))?$/;

function takeGlobals(argv: readonly string[]): { globals: Globals; rest: string[] } {
  const globals: Globals = { json: false, help: false, version: false };
  const rest: string[] = [];
  let passthrough = false;
  for (const arg of argv) {
    if (passthrough) rest.push(arg);
    else if (arg === '--') {
      passthrough = true;
      rest.push(arg);
    } else if (arg === '--json') globals.json = true;
    else if (arg === '--help' || arg === '-h') globals.help = true;
    else if (arg === '--version' || arg === '-V') globals.version = true;
    else rest.push(arg);
  }
  return { globals, rest };
}

function parseAgent(token: string): AgentRef {
  const match = AGENT_RE.exec(token);
  if (!match) {
    throw new AgenceError('usage', `"${token}" is not an agent reference`, { fix: 'write @agent or @agent.model, e.g. @sonya or @ralph.gpt-4o' });
  }
  return { agent: match[1] as string, model: match[2] ?? null };
}

function commandNames(mode: Route['mode']): string[] {
  return ROUTES.filter((r) => r.mode === mode).map((r) => r.name);
}

function unknownCommand(mode: Mode, word: string): AgenceError {
  const names = commandNames(mode.name as Route['mode']);
  const group = names.find((n) => n.startsWith(`${word} `));
  if (group) {
    return new AgenceError('usage', `${mode.prefix}${word} needs a subcommand`, {
      fix: `try \`agence ${mode.prefix}${group}\` (see \`agence help ${mode.prefix}${word}\`)`,
    });
  }
  const guess = nearest(word, names.map((n) => n.split(' ')[0] as string));
  return new AgenceError('usage', `unknown command ${mode.prefix}${word}`, {
    fix: guess ? `did you mean ${mode.prefix}${guess}? (\`agence help\` lists all)` : 'run `agence help` to list the commands',
  });
}

function parseOptions(route: Route, argv: string[]): { args: string[]; opts: Record<string, OptionValue> } {
  const options = Object.fromEntries(
    (route.options ?? []).map((o) => [o.name, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]?.replace(/\. To specify a positional.*$/, '') ?? 'bad arguments';
    throw new AgenceError('usage', `${displayName(route)}: ${message}`, { fix: `see \`agence help ${displayName(route)}\`` });
  }
  const args = parsed.positionals;
  const { min, max } = route.args ?? { min: 0, max: 0 };
  if (args.length < min || args.length > max) {
    const expected = min === max ? `${min}` : `${min} to ${max}`;
    throw new AgenceError('usage', `${displayName(route)} takes ${expected} argument${max === 1 ? '' : 's'}, got ${args.length}`, {
      fix: `usage: agence ${displayName(route)}${route.usage ? ` ${route.usage}` : ''}`,
    });
  }
  return { args, opts: parsed.values as Record<string, OptionValue> };
}

/** The free text of a built mode, with its options taken out. */
function modeInput(mode: Mode, argv: string[]): { input: string[]; opts: Record<string, OptionValue> } {
  const options = Object.fromEntries((mode.options ?? []).map((o) => [o.name, { type: o.type }]));
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { input: parsed.positionals, opts: parsed.values as Record<string, OptionValue> };
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]?.replace(/\. To specify a positional.*$/, '') ?? 'bad arguments';
    throw new AgenceError('usage', `${mode.alias}: ${message}`, { fix: `see \`agence help ${mode.alias}\` (quote text that starts with -)` });
  }
}

function resolveHelpTopic(words: string[]): Route | Mode | null {
  if (words.length === 0) return null;
  const [first = '', ...rest] = words;
  const byWord = MODES.find((m) => m.alias === first);
  const byPrefix = MODES.find((m) => m.prefix !== '' && first.startsWith(m.prefix));
  const mode = byWord ?? byPrefix;
  if (mode) {
    const commandWords = byWord ? rest : [first.slice(mode.prefix.length), ...rest].filter((w) => w !== '');
    if (commandWords.length === 0 || !mode.hasCommands) return mode;
    const found = findRoute(mode.name as Route['mode'], commandWords);
    if (!found) throw unknownCommand(mode, commandWords[0] as string);
    return found.route;
  }
  const meta = findRoute('meta', words) ?? findRoute('shared', words);
  if (meta) return meta.route;
  const guess = nearest(first, [...ROUTES.map(displayName), ...MODES.map((m) => m.alias)]);
  throw new AgenceError('usage', `no help for "${words.join(' ')}"`, { fix: guess ? `did you mean \`agence help ${guess}\`?` : 'run `agence help`' });
}

export function parse(argv: readonly string[]): Parsed {
  const { globals, rest } = takeGlobals(argv);
  let tokens = rest;
  let agent: AgentRef | null = null;
  if (tokens[0]?.startsWith('@')) {
    agent = parseAgent(tokens[0]);
    tokens = tokens.slice(1);
  }
  if (globals.version && tokens.length === 0) return { kind: 'version', globals };
  const [first, ...after] = tokens;
  if (first === undefined) return { kind: 'help', globals, topic: null };
  if (first === 'help') return { kind: 'help', globals, topic: resolveHelpTopic(after) };
  if (first === 'completion') {
    const route = findRoute('meta', ['completion'])?.route as Route;
    if (globals.help) return { kind: 'help', globals, topic: route };
    return { kind: 'route', globals, route, agent, ...parseOptions(route, after) };
  }

  const byWord = MODES.find((m) => m.alias === first);
  const byPrefix = byWord ? undefined : MODES.find((m) => m.prefix !== '' && first.startsWith(m.prefix));
  const mode = byWord ?? byPrefix ?? (MODES.find((m) => m.name === 'ask') as Mode);
  let input: string[];
  if (byWord) input = after;
  else if (byPrefix) input = [first.slice(byPrefix.prefix.length), ...after].filter((w, i) => i > 0 || w !== '');
  else input = tokens;

  if (!mode.hasCommands) {
    if (mode.name === 'ask' && !byWord && input.length === 1 && !/\s/.test(first)) {
      // A lone word that is almost a command was most likely meant as one (a quoted phrase is a question).
      const guess = nearest(first, [...MODES.map((m) => m.alias), ...commandNames('shared'), 'help', 'completion']);
      if (guess && guess !== first) {
        throw new AgenceError('usage', `unknown command ${first}`, { fix: `did you mean ${guess}? (\`agence help\` lists all; quote a question to ask it)` });
      }
    }
    if (globals.help) return { kind: 'help', globals, topic: mode };
    if (mode.load) return { kind: 'mode', globals, mode, agent, ...modeInput(mode, input) };
    return { kind: 'mode', globals, mode, input, opts: {}, agent };
  }
  if (input.length === 0) return { kind: 'help', globals, topic: mode };
  const found = findRoute(mode.name as Route['mode'], input);
  if (!found) throw unknownCommand(mode, input[0] as string);
  if (globals.help) return { kind: 'help', globals, topic: found.route };
  const argsAfter = input.slice(found.used);
  return { kind: 'route', globals, route: found.route, agent, ...parseOptions(found.route, argsAfter) };
}

