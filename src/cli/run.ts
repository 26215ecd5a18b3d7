import { AgenceError } from '../core/errors.js';
import { requireShard } from '../shard/layout.js';
import type { BaseState } from '../shard/master.js';
import { helpData, overviewText, topicText } from './help.js';
import { colourEnabled, makeProgress, makeStyle, reportError, type Style } from './output.js';
import { parse, type Parsed } from './parse.js';
import { displayName, type Route } from './routes.js';
import type { Invocation, Outcome } from './types.js';

function write(stream: NodeJS.WriteStream, text: string): void {
  if (text !== '') stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * Bring base/ in line with agence.lock before a command reads the effective view. Commands that
 * report on the shard (`^status`, `^doctor`, `^pull`) get the failure as data instead of dying.
 */
async function prepareShard(route: Route, cwd: string, style: Style, progress: Invocation['progress']): Promise<BaseState | Error | null> {
  if (!route.shard) return null;
  const paths = requireShard(cwd);
  const { ensureBase } = await import('../shard/master.js');
  try {
    const state = await ensureBase(paths).finally(progress('bringing .agence/base/ in line with agence.lock'));
    if (state.state === 'materialised') {
      process.stderr.write(
        `${style.dim('agence:')} materialised .agence/base/ from master commit ${state.commit.slice(0, 12)} pinned in agence.lock${state.fetched ? ' (fetched from the master)' : ''}\n`,
      );
    }
    return state;
  } catch (error) {
    if (route.shard === 'report' && error instanceof AgenceError && error.code !== 'not_a_shard') return error;
    throw error;
  }
}

async function dispatch(parsed: Parsed, version: string, style: Style): Promise<Outcome> {
  switch (parsed.kind) {
    case 'version':
      return { data: { version }, text: version };
    case 'help':
      return { data: helpData(parsed.topic), text: parsed.topic === null ? overviewText(version, style) : topicText(parsed.topic, style) };
    case 'mode':
      throw new AgenceError('not_available', `${parsed.mode.alias} mode (${parsed.mode.prefix || 'plain input'}) is not available yet`, {
        fix: `it comes with ${parsed.mode.later}; \`agence help\` lists what works now`,
      });
    case 'route': {
      const { route } = parsed;
      if (!route.load) {
        throw new AgenceError('not_available', `agence ${displayName(route)} is not available yet`, {
          fix: `it comes with ${route.later}; \`agence help\` lists what works now`,
        });
      }
      const cwd = process.cwd();
      const progress = makeProgress(process.stderr, !parsed.globals.json);
      const base = await prepareShard(route, cwd, style, progress);
      const handler = await route.load();
      const invocation: Invocation = {
        args: parsed.args,
        opts: parsed.opts,
        json: parsed.globals.json,
        agent: parsed.agent,
        cwd,
        env: process.env,
        now: () => new Date(),
        style,
        progress,
        base,
      };
      return handler(invocation);
    }
  }
}

/** Run one command line; returns the exit code (DESIGN §4). */
export async function main(argv: readonly string[], version: string): Promise<number> {
  const json = argv.includes('--json');
  const style = makeStyle(colourEnabled(process.stdout, process.env, json));
  const errStyle = makeStyle(colourEnabled(process.stderr, process.env, false));
  try {
    const parsed = parse(argv);
    const outcome = await dispatch(parsed, version, style);
    if (parsed.globals.json) write(process.stdout, JSON.stringify(outcome.data));
    else write(process.stdout, outcome.text);
    if (outcome.problem) process.stderr.write(`${errStyle.red('agence:')} ${outcome.problem}\n`);
    return outcome.exit ?? 0;
  } catch (error) {
    const report = reportError(error, errStyle, process.env);
    process.stderr.write(report.stderr);
    if (json) write(process.stdout, JSON.stringify(report.json));
    return report.exit;
  }
}
