import { AgenceError } from '../core/errors.js';
import { nearest } from '../core/suggest.js';
import { displayName, findRoute, type Mode, MODES, ROUTES, type Route } from './routes.js';
import type { AgentRef, OptionSpec, OptionValue } from './types.js';

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

/**
 * Options and positionals, exactly as `node:util` parseArgs with `strict` and `allowPositionals`
 * parses them (a property test holds the two equal, messages included): `--name value`,
 * `--name=value`, `-x value`, `-xvalue`, grouped boolean shorts, `--` ends the options. Ours
 * because parseArgs' first use costs over half a millisecond of every command's start-up.
 */
export function parseOptionArgs(argv: readonly string[], specs: readonly OptionSpec[]): { values: Record<string, OptionValue>; positionals: string[] } {
  const values: Record<string, OptionValue> = Object.create(null);
  const positionals: string[] = [];
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const shown = (spec: OptionSpec) => (spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`);
  const unknown = (raw: string) => new Error(`Unknown option '${raw}'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- "${raw}"`);
  const store = (spec: OptionSpec, raw: string, value: string | undefined, inline: boolean) => {
    if (spec.type === 'string' && typeof value !== 'string') throw new Error(`Option '${shown(spec)} <value>' argument missing`);
    if (spec.type === 'boolean' && value !== undefined) throw new Error(`Option '${shown(spec)}' does not take an argument`);
    if (spec.type === 'string' && !inline && (value as string).length > 1 && (value as string)[0] === '-') {
      throw new Error(`Option '${raw}' argument is ambiguous.`);
    }
    const v = value ?? true;
    if (spec.multiple) values[spec.name] = [...((values[spec.name] as string[] | undefined) ?? []), v as string];
    else values[spec.name] = v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=', 3);
      const raw = eq === -1 ? arg : arg.slice(0, eq);
      const spec = byName.get(raw.slice(2));
      if (!spec) throw unknown(raw);
      if (eq !== -1) store(spec, raw, arg.slice(eq + 1), true);
      else if (spec.type === 'string' && i + 1 < argv.length) store(spec, raw, argv[++i], false);
      else store(spec, raw, undefined, false);
    } else if (arg.length >= 2 && arg[0] === '-') {
      const first = byShort.get(arg[1] as string);
      if (arg.length > 2 && first?.type === 'string') {
        store(first, arg.slice(0, 2), arg.slice(2), true);
        continue;
      }
      // A lone short option, or a group of them (`-ab` is `-a -b`): a string option takes the rest
      // of the group as its value, or the next word when it comes last.
      const letters = arg.slice(1);
      for (let k = 0; k < letters.length; k++) {
        const raw = `-${letters[k]}`;
        const spec = byShort.get(letters[k] as string);
        if (!spec) throw unknown(raw);
        const last = k === letters.length - 1;
        if (spec.type === 'string' && !last) {
          store(spec, raw, letters.slice(k + 1), true);
          break;
        }
        if (spec.type === 'string' && i + 1 < argv.length) store(spec, raw, argv[++i], false);
        else store(spec, raw, undefined, false);
      }
    } else positionals.push(arg);
  }
  return { values, positionals };
}

function parseOptions(route: Route, argv: string[]): { args: string[]; opts: Record<string, OptionValue> } {
  let parsed: ReturnType<typeof parseOptionArgs>;
  try {
    parsed = parseOptionArgs(argv, route.options ?? []);
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
  return { args, opts: parsed.values };
}

/** The free text of a built mode, with its options taken out. */
function modeInput(mode: Mode, argv: string[]): { input: string[]; opts: Record<string, OptionValue> } {
  try {
    const parsed = parseOptionArgs(argv, mode.options ?? []);
    return { input: parsed.positionals, opts: parsed.values };
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

