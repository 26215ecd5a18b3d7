import { join } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { mergeTaskFiles } from '../core/taskMerge.js';
import { shellLine } from '../core/shellQuote.js';
import { readGitConfigValue } from '../git/configFile.js';
import { writeFileAtomic } from '../store/atomic.js';
import { decodeUtf8, readOrNull, readTextFile } from '../store/files.js';
import type { Finding } from '../shard/doctor.js';
import type { ShardPaths } from '../shard/layout.js';

/**
 * The git merge driver for task files (docs/tasks.md). `.agence/.gitattributes` (versioned, so
 * every clone has it) routes `organic/tasks/*.json` to the driver `agence-task`; the driver's
 * command lives in the repository's git config, which a clone does not copy: `^init` (run once
 * in every clone, it also registers the shard) and every `^task` command that writes set it.
 */

export const DRIVER = 'agence-task';
export const ATTRIBUTES_LINE = `/organic/tasks/*.json merge=${DRIVER}`;

/** The driver's command line (git runs it through sh): how this agence is run (`self`: node and the CLI script), then the placeholders. */
export function driverCommand(self: readonly string[]): string {
  return `${shellLine(self)} shared merge-driver %O %A %B %P`;
}

const ATTRIBUTES_FILE = '.agence/.gitattributes';
const CONFIG_KEY = `merge.${DRIVER}.driver`;
const CONFIG_PART = `git config ${CONFIG_KEY}`;

/** What of the driver's set-up this clone lacks: the attributes line, the git config (or one for another install). */
async function missingDriverParts(paths: ShardPaths, self: readonly string[], env: NodeJS.ProcessEnv): Promise<{ attributes: string | null; lacks: string[] }> {
  const attributes = readTextFile(join(paths.agence, '.gitattributes'), ATTRIBUTES_FILE);
  // git (and node:child_process) is loaded only when git's config files cannot answer.
  const fromFiles = readGitConfigValue(paths.root, CONFIG_KEY, env);
  const configured = fromFiles === undefined ? await (await import('../git/git.js')).configGet(paths.root, CONFIG_KEY) : fromFiles;
  const lacks = [...(attributes?.split('\n').includes(ATTRIBUTES_LINE) ? [] : [ATTRIBUTES_FILE]), ...(configured === driverCommand(self) ? [] : [CONFIG_PART])];
  return { attributes, lacks };
}

/**
 * Make sure the shard's attributes route task files to the driver and the repository's git
 * config defines it. Idempotent; returns what it changed (`.gitattributes`, `git config`).
 */
export async function ensureTaskMergeDriver(paths: ShardPaths, self: readonly string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  const { attributes, lacks } = await missingDriverParts(paths, self, env);
  const changed: string[] = [];
  if (lacks.includes(ATTRIBUTES_FILE)) {
    const head = attributes === null ? '# agence: concurrent edits of a task merge field by field (docs/tasks.md)\n' : attributes.replace(/\n?$/, '\n');
    writeFileAtomic(join(paths.agence, '.gitattributes'), `${head}${ATTRIBUTES_LINE}\n`);
    changed.push('.gitattributes');
  }
  if (lacks.includes(CONFIG_PART)) {
    const { git } = await import('../git/git.js');
    await git(['config', '--local', `merge.${DRIVER}.name`, 'agence task merge (field by field)'], { cwd: paths.root });
    await git(['config', '--local', CONFIG_KEY, driverCommand(self)], { cwd: paths.root });
    changed.push('git config');
  }
  return changed;
}

/**
 * `^doctor`'s check: does this clone route task files to the driver (a clone that skipped `^init`
 * has the attributes but not the git config, and `git pull` would merge tasks as text)?
 * `repair` registers it.
 */
export async function taskDriverFinding(paths: ShardPaths, self: readonly string[], env: NodeJS.ProcessEnv, repair: boolean): Promise<Finding> {
  const { lacks } = await missingDriverParts(paths, self, env);
  if (lacks.length === 0) return { check: 'tasks', severity: 'ok', message: `task files merge field by field (the ${DRIVER} merge driver is registered)` };
  if (repair) {
    const changed = await ensureTaskMergeDriver(paths, self, env);
    return { check: 'tasks', severity: 'ok', message: `registered the ${DRIVER} merge driver (${changed.join(', ')})` };
  }
  return {
    check: 'tasks',
    severity: 'warn',
    message: `the ${DRIVER} merge driver is not set up in this clone (${lacks.join(', ')}): git would merge concurrent task edits as text`,
    fix: 'run `agence ^doctor --repair` (or `agence ^init`)',
  };
}

export type DriverResult = { merged: true } | { merged: false; reason: string };

/**
 * git's merge driver contract: the ancestor, ours and theirs are files; the result goes to
 * `ours` and exit 0 means clean. On a conflict nothing is written, so git keeps its own.
 */
export function runTaskMergeDriver(basePath: string, oursPath: string, theirsPath: string): DriverResult {
  const read = (path: string, side: string): string | { reason: string } => {
    const bytes = readOrNull(path);
    if (bytes === null) throw new AgenceError('usage', `${side} file ${path} does not exist`, { fix: 'agence ^merge-driver is run by git as: %O %A %B %P' });
    try {
      return decodeUtf8(bytes, path);
    } catch {
      return { reason: `${side} is not valid UTF-8` };
    }
  };
  const texts = [read(basePath, 'the ancestor'), read(oursPath, 'ours'), read(theirsPath, 'theirs')];
  const broken = texts.find((t): t is { reason: string } => typeof t !== 'string');
  if (broken) return { merged: false, reason: broken.reason };
  const [base, ours, theirs] = texts as string[];
  const outcome = mergeTaskFiles(base as string, ours as string, theirs as string);
  if ('conflict' in outcome) return { merged: false, reason: outcome.conflict };
  writeFileAtomic(oursPath, outcome.merged);
  return { merged: true };
}
