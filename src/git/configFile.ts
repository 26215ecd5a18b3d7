import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * One value of git's configuration, read from git's config files without starting git (a child
 * process costs more than all of `^save`'s own work). Only the plain case is answered: anything
 * this reader does not model exactly (include directives, worktree config, configuration passed
 * through the environment, a file it cannot parse) answers `undefined`, and the caller asks git.
 *
 * Files in git's order, last value wins: system, global (GIT_CONFIG_GLOBAL, else XDG then
 * ~/.gitconfig), then the repository's `.git/config`.
 */
export function readGitConfigValue(repoRoot: string, key: string, env: NodeJS.ProcessEnv): string | null | undefined {
  if (env.GIT_CONFIG_PARAMETERS || env.GIT_CONFIG_COUNT || env.GIT_CONFIG || env.GIT_DIR || env.GIT_CONFIG_SYSTEM) return undefined;
  const dot = key.lastIndexOf('.');
  const section = key.slice(0, dot).toLowerCase();
  const name = key.slice(dot + 1).toLowerCase();
  const home = env.HOME || homedir();
  const files: string[] = [];
  if (!env.GIT_CONFIG_NOSYSTEM) files.push('/etc/gitconfig');
  if (env.GIT_CONFIG_GLOBAL !== undefined) files.push(env.GIT_CONFIG_GLOBAL);
  else files.push(join(env.XDG_CONFIG_HOME || join(home, '.config'), 'git', 'config'), join(home, '.gitconfig'));
  const dotGit = join(repoRoot, '.git');
  try {
    if (!statSync(dotGit).isDirectory()) return undefined; // a linked worktree: its config is elsewhere
  } catch {
    return undefined;
  }
  files.push(join(dotGit, 'config'));
  let value: string | null = null;
  for (const file of files) {
    if (file === '' || !existsSync(file)) continue;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    const found = valueIn(text, section, name);
    if (found === undefined) return undefined;
    if (found !== null) value = found;
  }
  return value;
}

/** The last value of `section.name` in one file's text; null when absent, undefined when unsure. */
export function valueIn(text: string, section: string, name: string): string | null | undefined {
  if (/^\s*\[\s*include/im.test(text) || /worktreeconfig/i.test(text)) return undefined;
  let current = '';
  let value: string | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] as string).replace(/\r$/, '');
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + (lines[++i] as string).replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    if (trimmed.startsWith('[')) {
      const header = /^\[\s*([A-Za-z0-9.-]+)\s*(?:"((?:[^"\\]|\\.)*)")?\s*\](.*)$/.exec(trimmed);
      if (!header) return undefined;
      const rest = (header[3] as string).trim();
      current = header[2] === undefined ? (header[1] as string).toLowerCase() : `${(header[1] as string).toLowerCase()}.${header[2].replace(/\\(.)/g, '$1')}`;
      if (rest === '' || rest.startsWith('#') || rest.startsWith(';')) continue;
      return undefined; // a key on the header line: legal, but not modelled here
    }
    const entry = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=(.*))?$/.exec(trimmed);
    if (!entry) return undefined;
    if (current !== section || (entry[1] as string).toLowerCase() !== name) continue;
    // A bare key is a boolean true; as a string its meaning depends on the asker: let git say.
    const parsed = entry[2] === undefined ? undefined : parseValue(entry[2]);
    if (parsed === undefined) return undefined;
    value = parsed;
  }
  return value;
}

/** A value as git reads it: quotes group, `#`/`;` outside quotes start a comment, escapes. */
function parseValue(raw: string): string | undefined {
  let out = '';
  let quoted = false;
  let pendingSpace = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === '"') {
      quoted = !quoted;
      continue;
    }
    if (!quoted && (c === '#' || c === ';')) break;
    if (c === '\\') {
      const next = raw[++i];
      const escaped = next === 'n' ? '\n' : next === 't' ? '\t' : next === 'b' ? '\b' : next === '"' || next === '\\' ? next : undefined;
      if (escaped === undefined) return undefined;
      out += pendingSpace + escaped;
      pendingSpace = '';
      continue;
    }
    if (!quoted && (c === ' ' || c === '\t')) {
      if (out !== '') pendingSpace += c;
      continue;
    }
    out += pendingSpace + c;
    pendingSpace = '';
  }
  return quoted ? undefined : out;
}
