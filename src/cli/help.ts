import { displayName, GLOBAL_OPTIONS, type Mode, MODES, ROUTES, type Route } from './routes.js';
import type { Style } from './output.js';
import type { OptionSpec } from './types.js';

const EXIT_CODES = 'Exit codes: 0 success, 1 usage or user error, 2 refused by policy, 3 integrity failure.';

function isRoute(topic: Route | Mode): topic is Route {
  return 'mode' in topic;
}

function optionLabel(o: OptionSpec): string {
  return `${o.short ? `-${o.short}, ` : ''}--${o.name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
}

function usageLine(route: Route): string {
  const opts = (route.options ?? []).map((o) => `[--${o.name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}]`);
  return ['agence', displayName(route), route.usage ?? '', ...opts].filter((p) => p !== '').join(' ');
}

function table(rows: [string, string][], style: Style, indent = '  '): string {
  const width = Math.max(0, ...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `${indent}${style.bold(a.padEnd(width))}  ${b}`).join('\n');
}

export function overviewText(version: string, style: Style): string {
  const modeRows: [string, string][] = MODES.map((m) => [`${m.placeholder.padEnd(11)} ${m.alias}`, `${m.summary}`]);
  const commands = ROUTES.filter((r) => r.mode !== 'meta' && !r.hidden);
  const meta = ROUTES.filter((r) => r.mode === 'meta');
  return [
    `${style.bold('agence')} ${version}: knowledge base and session hub for AI coding agents, sharded by git repository`,
    '',
    `Usage: agence [@agent[.model]] <input> [--json] [--help]`,
    '',
    'Modes (the first character of the input picks one; the word does the same):',
    table(modeRows, style),
    '',
    'Commands:',
    table(commands.map((r) => [displayName(r), r.summary]), style),
    '',
    'More:',
    table([...meta.map((r): [string, string] => [`${r.name} ${r.usage ?? ''}`.trim(), r.summary]), ['--version', 'print the version']], style),
    '',
    'Every command takes --json (one JSON document on stdout) and --help.',
    "Word aliases exist because ! ^ ~ are special in some shells: `agence shared init` is `agence ^init`.",
    EXIT_CODES,
  ].join('\n');
}

export function topicText(topic: Route | Mode, style: Style): string {
  if (!isRoute(topic)) {
    const commands = ROUTES.filter((r) => r.mode === topic.name);
    return [
      `${style.bold(`agence ${topic.placeholder}`)}  (word alias: agence ${topic.alias} ...)`,
      '',
      `${topic.summary}`,
      ...(commands.length > 0 ? ['', 'Commands:', table(commands.map((r) => [displayName(r), r.summary]), style)] : []),
      ...(topic.options ? ['', 'Options:', table([...topic.options, ...GLOBAL_OPTIONS.filter((o) => o.name === 'json')].map((o) => [optionLabel(o), o.description]), style)] : []),
      '',
      EXIT_CODES,
    ].join('\n');
  }
  const alias = topic.mode === 'meta' ? null : MODES.find((m) => m.name === topic.mode)?.alias;
  const options = [...(topic.options ?? []), ...GLOBAL_OPTIONS.filter((o) => o.name === 'json' || o.name === 'help')];
  return [
    `Usage: ${style.bold(usageLine(topic))}`,
    ...(alias ? [`   or: agence ${alias} ${topic.name}${topic.usage ? ` ${topic.usage}` : ''} ...`] : []),
    '',
    `${topic.summary}`,
    '',
    'Options:',
    table(options.map((o) => [optionLabel(o), o.description]), style),
    '',
    EXIT_CODES,
  ].join('\n');
}

/** The routing table as data, for `--help --json` (agents read this instead of scraping text). */
export function helpData(topic: Route | Mode | null): unknown {
  const route = (r: Route) => ({
    command: displayName(r),
    mode: r.mode,
    summary: r.summary,
    usage: usageLine(r),
    options: (r.options ?? []).map((o) => ({ name: o.name, type: o.type, description: o.description })),
  });
  const mode = (m: Mode) => ({ mode: m.name, prefix: m.prefix, alias: m.alias, summary: m.summary });
  if (topic === null) return { modes: MODES.map(mode), commands: ROUTES.map(route) };
  return isRoute(topic) ? route(topic) : { ...mode(topic), commands: ROUTES.filter((r) => r.mode === topic.name).map(route) };
}
