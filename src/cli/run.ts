import { AgenceError } from '../core/errors.js';
import type { BaseState } from '../shard/manifest.js';
import { bringBaseInLine } from './baseInLine.js';
import { colourEnabled, makeProgress, makeStyle, reportError, type Style, writeFd } from './output.js';
import { parse, type Parsed } from './parse.js';
import { displayName, type Route } from './routes.js';
import type { EarlyAnswers, Invocation, Outcome } from './types.js';

function writeLine(fd: 1 | 2, text: string): void {
  if (text !== '') writeFd(fd, text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * Bring base/ in line with agence.lock before a command reads the effective view. Commands that
 * report on the shard (`^status`, `^doctor`) get the failure as data instead of dying. The MCP
 * server (src/mcp/) calls it before each tool's command, as the CLI does.
 */
export async function prepareShard(route: Route, cwd: string, notify: Invocation['notify'], progress: Invocation['progress']): Promise<BaseState | Error | null> {
  if (!route.shard) return null;
  try {
    return await bringBaseInLine(cwd, notify, progress);
  } catch (error) {
    if (route.shard === 'report' && error instanceof AgenceError) return error;
    throw error;
  }
}

function invocation(args: string[], opts: Invocation['opts'], parsed: Parsed & { agent: Invocation['agent'] }, style: Style, errStyle: Style, early: EarlyAnswers): Invocation {
  return {
    args,
    opts,
    json: parsed.globals.json,
    agent: parsed.agent,
    cwd: process.cwd(),
    env: process.env,
    now: () => new Date(),
    style,
    progress: makeProgress(!parsed.globals.json),
    notify: (message: string) => writeLine(2, `${errStyle.dim('agence:')} ${message}`),
    early,
    base: null,
  };
}

async function dispatch(parsed: Parsed, version: string, style: Style, errStyle: Style, early: EarlyAnswers): Promise<Outcome> {
  switch (parsed.kind) {
    case 'version':
      return { data: { version }, text: version };
    case 'help': {
      const { helpData, overviewText, topicText } = await import('./help.js');
      return { data: helpData(parsed.topic), text: parsed.topic === null ? overviewText(version, style) : topicText(parsed.topic, style) };
    }
    case 'mode': {
      const { mode } = parsed;
      // Only the free-text modes reach here, and each has its handler.
      if (!mode.load) throw new Error(`${mode.alias} mode has no handler`);
      // A built free-text mode runs like a shard command whose arguments are the text.
      const route: Route = { mode: 'shared', name: mode.alias, summary: mode.summary, ...(mode.shard ? { shard: mode.shard } : {}), load: mode.load };
      return dispatch({ kind: 'route', globals: parsed.globals, route, args: parsed.input, opts: parsed.opts, agent: parsed.agent }, version, style, errStyle, early);
    }
    case 'route': {
      const { route } = parsed;
      if (!route.load) throw new Error(`agence ${displayName(route)} has no handler`);
      const inv = invocation(parsed.args, parsed.opts, parsed, style, errStyle, early);
      inv.base = await prepareShard(route, inv.cwd, inv.notify, inv.progress);
      const handler = await route.load();
      return handler(inv);
    }
  }
}

/** Run one command line; returns the exit code (DESIGN §4). */
export async function main(argv: readonly string[], version: string, early: EarlyAnswers = {}): Promise<number> {
  const json = argv.includes('--json');
  const style = makeStyle(colourEnabled(1, process.env, json));
  const errStyle = makeStyle(colourEnabled(2, process.env, false));
  try {
    const parsed = parse(argv);
    const outcome = await dispatch(parsed, version, style, errStyle, early);
    if (!outcome.printed) writeLine(1, parsed.globals.json ? JSON.stringify(outcome.data) : outcome.text);
    if (outcome.problem) writeLine(2, `${errStyle.red('agence:')} ${outcome.problem}`);
    return outcome.exit ?? 0;
  } catch (error) {
    const report = reportError(error, errStyle, process.env);
    writeLine(2, report.stderr);
    if (json) writeLine(1, JSON.stringify(report.json));
    return report.exit;
  }
}

/**
 * For the command bundles (scripts/build.mjs): zod and the shard's record schemas, one copy per
 * process, this bundle's (zod is set up and the schemas constructed once).
 */
export * as zod from '../core/zod.js';
export * as schemas from '../core/schemas.js';
