import { isAbsolute, join, normalize, resolve } from 'node:path/posix';
import { type CompiledPolicy, highestTier, matchPolicy } from './guardPolicy.js';
import { tierRank } from './layering.js';
import type { Tier } from './schemas.js';

/**
 * The guard's decision over a parsed command line: every simple command (in lists, pipelines,
 * subshells, substitutions, function bodies, heredocs) is resolved through wrappers, shells and
 * git's escape hatches to the commands that really run, each is matched against the policy, and
 * the whole gets the highest tier of its parts. Pure: the bash parser is injected, so strings
 * handed to `bash -c`, `eval` and the like are parsed again the same way.
 */

/** One shell word as far as static analysis can resolve it. */
export interface Word {
  text: string;
  /** Contains an expansion or substitution whose value is not known before it runs. */
  dynamic: boolean;
  /** Resolved only through a variable assigned earlier in the same command line. */
  viaVariable?: boolean;
  /** Contains unquoted glob characters. */
  glob?: boolean;
}

export interface Redirect {
  op: string;
  target: Word;
}

/** A simple command of the script, with what was attached to it. */
export interface ScriptPart {
  /** The source text, for reasons. */
  text: string;
  words: Word[];
  assignments: { name: string; value: Word }[];
  redirects: Redirect[];
  /** A heredoc or here-string the command reads. */
  stdin: string | null;
}

export interface ParsedScript {
  parts: ScriptPart[];
  /** Set when the text is not valid bash. */
  error: string | null;
}

export type ParseScript = (script: string) => ParsedScript;

export interface GuardContext {
  cwd: string;
  /** The repository's work tree, null outside one. */
  repoRoot: string | null;
  home: string;
  /** Admins may write into .agence/codex/. */
  isAdmin: boolean;
  /** The branch checked out, for `git push` without a refspec (it pushes this branch). */
  branch?: string | null;
}

export interface Reason {
  part: string;
  tier: Tier;
  /** The policy rule (`default_tier` when none matched), or null for what the guard itself found (paths, escape hatches, parse errors). */
  rule: string | null;
  reason: string;
}

export interface Verdict {
  tier: Tier;
  reasons: Reason[];
  /** The resolved commands (argv) the line would run and the rules that set their tier, for capability tokens. */
  commands: { argv: string[]; tier: Tier; part: string; rules: string[] }[];
}

const MAX_DEPTH = 8;

interface State {
  policy: CompiledPolicy;
  parse: ParseScript;
  ctx: GuardContext;
  cwd: string | null;
  depth: number;
  reasons: Reason[];
  commands: Verdict['commands'];
}

const literal = (text: string): Word => ({ text, dynamic: false });

export function classifyScript(script: string, policy: CompiledPolicy, parse: ParseScript, ctx: GuardContext): Verdict {
  const state: State = { policy, parse, ctx, cwd: ctx.cwd, depth: 0, reasons: [], commands: [] };
  classifyNested(script, script, state);
  return finish(state);
}

/** The same analysis for an argv run without a shell (validated commands), with the entry's tier floor. */
export function classifyArgv(argv: readonly string[], policy: CompiledPolicy, parse: ParseScript, ctx: GuardContext, floor: Omit<Reason, 'part'>): Verdict {
  const state: State = { policy, parse, ctx, cwd: ctx.cwd, depth: 0, reasons: [], commands: [] };
  const text = argv.join(' ');
  state.reasons.push({ part: text, ...floor });
  classifyPart({ text, words: argv.map(literal), assignments: [], redirects: [], stdin: null }, state);
  return finish(state);
}

function finish(state: State): Verdict {
  const reasons = [...state.reasons].sort((a, b) => tierRank(b.tier) - tierRank(a.tier));
  return { tier: highestTier(reasons.map((r) => r.tier)), reasons, commands: state.commands };
}

function add(state: State, part: string, tier: Tier, rule: string | null, reason: string): void {
  state.reasons.push({ part, tier, rule, reason });
}

function classifyNested(script: string, part: string, state: State): void {
  if (state.depth >= MAX_DEPTH) {
    add(state, part, 'T2', null, `shell code nested more than ${MAX_DEPTH} levels deep`);
    return;
  }
  const parsed = state.parse(script);
  if (parsed.error) add(state, part, 'T2', null, `not valid bash (${parsed.error}); the guard cannot tell what it runs`);
  if (parsed.parts.length === 0 && !parsed.error) add(state, part, 'T0', null, 'runs nothing');
  const saved = state.cwd;
  state.depth += 1;
  for (const p of parsed.parts) classifyPart(p, state);
  state.depth -= 1;
  state.cwd = saved;
}

// --- Environment variables that make other programs run a command or load code

const PROGRAM_VARS = new Set([
  'GIT_SSH_COMMAND', 'GIT_SSH', 'GIT_PROXY_COMMAND', 'GIT_EXTERNAL_DIFF', 'GIT_PAGER', 'PAGER', 'GIT_EDITOR', 'EDITOR', 'VISUAL',
  'GIT_SEQUENCE_EDITOR', 'GIT_ASKPASS', 'SSH_ASKPASS', 'BASH_ENV', 'ENV', 'PROMPT_COMMAND', 'MANPAGER', 'LESSOPEN', 'RSYNC_RSH',
]);
const LOADER_VAR = /^(LD_PRELOAD|LD_LIBRARY_PATH|LD_AUDIT|DYLD_[A-Z_]+|NODE_OPTIONS|PYTHONSTARTUP|PERL5OPT|RUBYOPT)$/;
const GIT_CONFIG_VAR = /^(GIT_CONFIG_PARAMETERS|GIT_CONFIG_COUNT|GIT_CONFIG_KEY_\d+|GIT_CONFIG_VALUE_\d+|GIT_CONFIG|GIT_CONFIG_GLOBAL|GIT_CONFIG_SYSTEM|GIT_EXEC_PATH|GIT_TEMPLATE_DIR|GIT_DIR|GIT_WORK_TREE)$/;
/** Where programs read their configuration or load modules from. */
const CONFIG_HOME_VAR = /^(HOME|XDG_CONFIG_HOME|PYTHONPATH|NODE_PATH|PERL5LIB|RUBYLIB|CLASSPATH)$/;

function checkAssignment(name: string, value: Word, part: string, state: State): void {
  if (LOADER_VAR.test(name)) add(state, part, 'T3', null, `${name} loads code into every program that runs`);
  else if (PROGRAM_VARS.has(name)) {
    add(state, part, 'T2', null, `${name} makes programs run a command of its choosing`);
    if (value.dynamic) add(state, part, 'T2', null, `${name} is set to a value the guard cannot resolve`);
    else if (value.text.trim() !== '') classifyNested(value.text, part, state);
  } else if (GIT_CONFIG_VAR.test(name)) add(state, part, 'T2', null, `${name} changes git's configuration or what it runs`);
  else if (name === 'PATH') add(state, part, 'T2', null, 'PATH changes which program every command name runs');
  else if (CONFIG_HOME_VAR.test(name)) add(state, part, 'T2', null, `${name} changes where programs read their configuration or load code from`);
}

// --- Writes to paths

const SAFE_DEVICES = /^\/dev\/(null|stdout|stderr|tty|fd\/\d+)$/;
const WRITE_OPS = new Set(['>', '>>', '>|', '&>', '&>>', '<>', '>&']);

function checkWrite(target: Word, part: string, state: State, what = 'writes to'): void {
  if (target.dynamic) {
    add(state, part, 'T2', null, `${what} a path the guard cannot resolve (${target.text})`);
    return;
  }
  let path = target.text;
  if (/^\d+$/.test(path) || path === '-') return; // `>&2`, stdout
  if (path === '~' || path.startsWith('~/')) path = join(state.ctx.home, path.slice(1));
  if (SAFE_DEVICES.test(path)) return;
  const abs = isAbsolute(path) ? normalize(path) : state.cwd === null ? null : resolve(state.cwd, path);
  const root = state.ctx.repoRoot;
  if (abs === null) {
    add(state, part, 'T2', null, `${what} ${path} after a cd the guard cannot follow`);
    return;
  }
  if (root === null || (abs !== root && !abs.startsWith(`${root}/`))) {
    add(state, part, 'T2', null, `${what} ${abs}, outside the repository`);
    return;
  }
  const rel = abs.slice(root.length + 1);
  // Compared without case: on a case-insensitive file system (macOS) .GIT/ is .git/.
  const lower = rel.toLowerCase();
  const under = (dir: string) => lower === dir || lower.startsWith(`${dir}/`);
  if (under('.git')) add(state, part, 'T2', null, `${what} ${rel} inside .git/ (hooks and config run code)`);
  else if (under('.agence/codex')) {
    if (!state.ctx.isAdmin) add(state, part, 'T2', null, `${what} ${rel}: CODEX is changed by admins only`);
  } else if (under('.agence') && !AGENT_WRITABLE.some(under)) {
    add(state, part, 'T2', null, `${what} ${rel}: agence's own state (base/, nexus/, hermetic/, the manifest and lock) changes through agence commands`);
  }
}

/** The parts of `.agence/` an agent may edit as files: shared knowledge and swarm state. */
const AGENT_WRITABLE = ['.agence/synthetic', '.agence/organic', '.agence/globalcache'];

/**
 * HERMETIC holds the shard's keys and private notes: a command that names a path in it (to read
 * or to copy it) needs a person, whatever the command.
 */
function checkHermetic(args: readonly Word[], part: string, state: State): void {
  for (const arg of args) {
    if (arg.dynamic) continue;
    const value = arg.text.includes('=') && !arg.text.startsWith('/') ? arg.text.slice(arg.text.indexOf('=') + 1) : arg.text;
    const path = value === '~' || value.startsWith('~/') ? join(state.ctx.home, value.slice(1)) : value;
    const abs = isAbsolute(path) ? normalize(path) : state.cwd === null ? null : resolve(state.cwd, path);
    const root = state.ctx.repoRoot;
    if (abs === null || root === null || !abs.startsWith(`${root}/`)) continue;
    const lower = abs.slice(root.length + 1).toLowerCase();
    if (lower === '.agence/hermetic' || lower.startsWith('.agence/hermetic/')) {
      add(state, part, 'T2', null, `names ${abs.slice(root.length + 1)}: HERMETIC (keys, private notes) is for people only`);
      return;
    }
  }
}

/** Commands that write to their path arguments: which arguments are destinations. */
const PATH_WRITERS: Record<string, 'last' | 'all' | 'after-first'> = {
  cp: 'last', ln: 'last', install: 'last', rsync: 'last',
  // mv removes its sources as well as writing its destination.
  mv: 'all', tee: 'all', touch: 'all', mkdir: 'all', rm: 'all', rmdir: 'all', unlink: 'all', truncate: 'all', shred: 'all', mkfifo: 'all',
  chmod: 'after-first', chown: 'after-first', chgrp: 'after-first',
};

function positionals(args: readonly Word[]): Word[] {
  const out: Word[] = [];
  let options = true;
  for (const arg of args) {
    if (options && arg.text === '--') options = false;
    else if (options && arg.text.startsWith('-') && arg.text !== '-') continue;
    else out.push(arg);
  }
  return out;
}

function checkPathWriters(name: string, args: readonly Word[], part: string, state: State): void {
  const kind = PATH_WRITERS[name];
  if (kind) {
    const pos = positionals(args);
    const targets = kind === 'last' ? pos.slice(-1) : kind === 'after-first' ? pos.slice(1) : pos;
    for (const target of targets) checkWrite(target, part, state);
  }
  if (name === 'dd') for (const arg of args) if (arg.text.startsWith('of=')) checkWrite({ ...arg, text: arg.text.slice(3) }, part, state);
  if (name === 'sed' && args.some((a) => /^(-i|--in-place)/.test(a.text) || /^-[a-zA-Z]*i/.test(a.text))) {
    for (const target of positionals(args).slice(1)) checkWrite(target, part, state);
  }
}

/**
 * sed and awk programs can run commands and write files themselves: GNU sed's `e` command and
 * `s///e` flag, `w`/`W` commands and `s///w` flag; awk's system(), pipes and `print > file`.
 * Read conservatively: a program that looks like it might is T2.
 */
const SED_RUNS = /(^|[;{}\n]\s*|\d\s*|\$\s*|\/\s*)[eEwW](\s|$)|^s(.).*\3.*\3[gpIiMm0-9]*[ew]/;
const AWK_RUNS = /system\s*\(|\|\s*getline|getline\s*<|print[f]?[^;}]*[>|]|close\s*\(|fflush/;

function checkScriptLanguage(name: string, args: readonly Word[], part: string, state: State): void {
  if (name === 'sed') {
    for (const arg of args) {
      if (!arg.text.startsWith('-') && SED_RUNS.test(arg.text)) {
        add(state, part, 'T2', null, `the sed program ${arg.text} can run commands or write files`);
        return;
      }
    }
  }
  if (['awk', 'gawk', 'mawk', 'nawk'].includes(name) && args.some((a) => !a.text.startsWith('-') && AWK_RUNS.test(a.text))) {
    add(state, part, 'T2', null, 'the awk program can run commands or write files');
  }
}

// --- Wrappers: commands that run the command after their own options

interface Wrapper {
  /** Options that take the next word as their value. */
  valued: string[];
  /** Positional words of the wrapper itself before the command (timeout's duration). */
  positional?: number;
  /** Matched against the policy too (sudo is T3 whatever it runs). */
  self?: boolean;
  /** The rest is joined and run by `sh -c` (watch). */
  joined?: boolean;
  /** An option whose value is shell code (`su -c`, `flock -c`, `script -c`). */
  script?: string[];
}

const WRAPPERS: Record<string, Wrapper> = {
  sudo: { valued: ['-u', '-g', '-h', '-p', '-C', '-D', '-r', '-t', '-T', '-U', '--user', '--group', '--host', '--prompt', '--chdir', '--role', '--type', '--other-user', '--close-from', '--command-timeout'], self: true },
  doas: { valued: ['-u', '-C'], self: true },
  su: { valued: ['-s', '-g', '-G', '--shell', '--group', '--supp-group', '-w', '--whitelist-environment'], self: true, script: ['-c', '--command'], positional: 1 },
  runuser: { valued: ['-u', '-g', '-G', '-s', '--user', '--group', '--shell'], self: true, script: ['-c', '--command'] },
  nice: { valued: ['-n', '--adjustment'] },
  ionice: { valued: ['-c', '-n', '--class', '--classdata'] },
  timeout: { valued: ['-s', '-k', '--signal', '--kill-after'], positional: 1 },
  nohup: { valued: [] },
  coproc: { valued: [] },
  setsid: { valued: [] },
  stdbuf: { valued: ['-i', '-o', '-e', '--input', '--output', '--error'] },
  time: { valued: ['-f', '-o', '--format', '--output'] },
  command: { valued: [] },
  builtin: { valued: [] },
  exec: { valued: ['-a'] },
  unbuffer: { valued: [] },
  busybox: { valued: [] },
  chrt: { valued: [], positional: 1 },
  taskset: { valued: [], positional: 1 },
  chroot: { valued: ['--userspec', '--groups'], positional: 1, self: true },
  flock: { valued: ['-w', '-E', '--timeout', '--conflict-exit-code'], positional: 1, script: ['-c', '--command'] },
  script: { valued: ['-t', '-T', '-I', '-O', '-B', '-E', '--log-in', '--log-out', '--log-io', '--log-timing'], self: true, script: ['-c', '--command'] },
  xargs: { valued: ['-I', '-L', '-n', '-P', '-s', '-d', '-E', '-a', '--arg-file', '--max-args', '--max-procs', '--delimiter', '--max-chars', '--max-lines', '--replace', '--eof'], self: true },
  watch: { valued: ['-n', '--interval', '-q', '--equexit'], joined: true },
  strace: { valued: ['-o', '-p', '-e', '-s', '-u', '-E', '-P', '-I', '-b', '-a', '-X', '-O', '-S'], self: true },
  ltrace: { valued: ['-o', '-p', '-e', '-s', '-u', '-E', '-a', '-n', '-l'], self: true },
  unshare: { valued: ['-S', '-G', '--setuid', '--setgid', '-R', '-w', '--root', '--wd'], self: true },
  nsenter: { valued: ['-t', '-S', '-G', '--target', '--setuid', '--setgid', '-r', '-w', '--root', '--wd'], self: true },
};

const SHELLS = new Set(['bash', 'sh', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'fish', 'busybox-sh', 'rbash']);

/** Index of the first word after the wrapper's options and own positionals, or -1 when none is left. */
function innerStart(args: readonly Word[], wrapper: Wrapper): number {
  let i = 0;
  while (i < args.length) {
    const a = (args[i] as Word).text;
    if (a === '--') {
      i += 1;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    i += wrapper.valued.includes(a) || (wrapper.script?.includes(a) ?? false) ? 2 : 1;
  }
  i += wrapper.positional ?? 0;
  return i < args.length ? i : -1;
}

/** The value of an option that carries shell code: `-c CODE`, `--command=CODE`, `-lc CODE` for shells. */
function scriptOption(args: readonly Word[], names: readonly string[], clustered: boolean): Word | null {
  for (let i = 0; i < args.length; i += 1) {
    const a = (args[i] as Word).text;
    if (a === '--') return null;
    for (const name of names) if (name.startsWith('--') && a.startsWith(`${name}=`)) return { ...(args[i] as Word), text: a.slice(name.length + 1) };
    const isOption = names.includes(a) || (clustered && /^-[a-zA-Z]*c[a-zA-Z]*$/.test(a));
    if (isOption) {
      // `bash -c -x 'code'` is rare; the code is the first word after the options.
      let j = i + 1;
      while (j < args.length && clustered && (args[j] as Word).text.startsWith('-')) j += 1;
      return args[j] ?? literal('');
    }
    if (!a.startsWith('-') && !clustered) continue;
    if (!a.startsWith('-')) return null;
  }
  return null;
}

function commandName(word: Word): string {
  const slash = word.text.lastIndexOf('/');
  return slash >= 0 ? word.text.slice(slash + 1) : word.text;
}

function classifyPart(part: ScriptPart, state: State): void {
  for (const { name, value } of part.assignments) checkAssignment(name, value, part.text, state);
  for (const redirect of part.redirects) if (WRITE_OPS.has(redirect.op)) checkWrite(redirect.target, part.text, state, 'redirects output to');
  if (part.words.length === 0) {
    if (part.redirects.length === 0 && part.assignments.length > 0) add(state, part.text, 'T0', null, 'sets shell variables');
    return;
  }
  classifyWords(part.words, part, state);
}

function classifyWords(words: readonly Word[], part: ScriptPart, state: State): void {
  const nameWord = words[0] as Word;
  const args = words.slice(1);
  const text = part.text;
  if (nameWord.dynamic) {
    add(state, text, 'T2', null, `the command name ${nameWord.text} cannot be resolved before it runs`);
    return;
  }
  if (nameWord.viaVariable) add(state, text, 'T2', null, `the command name is assembled from variables (${nameWord.text})`);
  if (nameWord.glob) {
    add(state, text, 'T2', null, `the command name ${nameWord.text} is a glob`);
    return;
  }
  const name = commandName(nameWord);
  if (name === '') {
    add(state, text, 'T2', null, 'an empty command name');
    return;
  }

  if (name === 'command' && args.some((a) => a.text === '-v' || a.text === '-V')) {
    add(state, text, 'T0', null, 'command -v only looks a name up');
    return;
  }
  const wrapper = WRAPPERS[name];
  if (wrapper) {
    if (wrapper.self || innerStart(args, wrapper) < 0) matchRules(name, args, text, state);
    const code = wrapper.script ? scriptOption(args, wrapper.script, false) : null;
    if (code) runCode(code, `${name} ${wrapper.script?.[0]}`, text, state);
    const at = innerStart(args, wrapper);
    if (at >= 0 && !code) {
      const inner = args.slice(at);
      if (wrapper.joined) runCode(joinWords(inner), name, text, state);
      else classifyWords(inner, part, state);
    }
    return;
  }
  if (name === 'env') return classifyEnv(args, part, state);
  if (SHELLS.has(name)) {
    const code = scriptOption(args, ['-c', '--command'], true);
    if (code) return runCode(code, `${name} -c`, text, state);
    matchRules(name, args, text, state);
    if (part.stdin !== null && positionals(args).length === 0) classifyNested(part.stdin, text, state);
    return;
  }
  if (name === 'eval') {
    if (args.length > 0) runCode(joinWords(args), 'eval', text, state);
    else add(state, text, 'T0', null, 'eval of nothing');
    return;
  }
  if (name === 'trap' && args[0] && !args[0].text.startsWith('-')) runCode(args[0], 'trap', text, state);
  if (name === 'cd') {
    const target = positionals(args)[0];
    if (target === undefined) state.cwd = state.ctx.home;
    else if (target.dynamic || target.text === '-') state.cwd = null; // `cd -` goes back to a directory not known here
    else if (state.cwd !== null || isAbsolute(target.text)) state.cwd = resolve(state.cwd ?? '/', target.text.replace(/^~(?=\/|$)/, state.ctx.home));
  }
  if (name === 'git') checkGit(args, part, state);
  if (name === 'find') checkFindExec(args, part, state);
  checkPathWriters(name, args, text, state);
  checkHermetic(args, text, state);
  checkScriptLanguage(name, args, text, state);
  matchRules(name, args, text, state);
}

function joinWords(words: readonly Word[]): Word {
  return { text: words.map((w) => w.text).join(' '), dynamic: words.some((w) => w.dynamic) };
}

function runCode(code: Word, via: string, part: string, state: State): void {
  if (code.dynamic) add(state, part, 'T2', null, `${via} runs shell code the guard cannot resolve (${code.text})`);
  else classifyNested(code.text, part, state);
}

/**
 * `git push` without a refspec, or with `HEAD`, pushes the checked-out branch: match it as the
 * refspec it stands for, so a force push from the default branch is seen as one.
 */
function implicitRefspec(name: string, args: readonly Word[], branch: string | null | undefined): string[] {
  const argv = args.map((a) => a.text);
  if (name !== 'git' || !branch || positionalSubcommand(args) !== 'push') return argv;
  const after = argv.slice(argv.indexOf('push') + 1);
  const valued = new Set(['-o', '--push-option', '--repo', '--receive-pack', '--exec']);
  const positional = after.filter((a, i) => !a.startsWith('-') && !valued.has(after[i - 1] ?? ''));
  if (positional.length <= 1) return [...argv, `HEAD:${branch}`];
  return argv.map((a) => (a === 'HEAD' || a === '+HEAD' ? `${a}:${branch}` : a));
}

function matchRules(name: string, args: readonly Word[], part: string, state: State): void {
  const argv = args.map((a) => a.text);
  const rules = matchPolicy(state.policy, name, implicitRefspec(name, args, state.ctx.branch));
  if (rules.length === 0) {
    add(state, part, state.policy.defaultTier, 'default_tier', `no policy rule for "${name}"; unknown commands get the default tier`);
    state.commands.push({ argv: [name, ...argv], tier: state.policy.defaultTier, part, rules: ['default_tier'] });
    return;
  }
  const tier = highestTier(rules.map((r) => r.tier));
  for (const rule of rules) if (rule.tier === tier) add(state, part, rule.tier, rule.id, rule.reason);
  state.commands.push({ argv: [name, ...argv], tier, part, rules: rules.filter((r) => r.tier === tier).map((r) => r.id) });
}

function classifyEnv(args: readonly Word[], part: ScriptPart, state: State): void {
  let i = 0;
  while (i < args.length) {
    const a = args[i] as Word;
    if (a.text === '--') {
      i += 1;
      break;
    }
    const split = /^(-S|--split-string)(?:=(.*))?$/s.exec(a.text);
    if (split) {
      const code = split[2] !== undefined ? { ...a, text: split[2] } : (args[i + 1] ?? literal(''));
      return runCode(code, 'env -S', part.text, state);
    }
    if (a.text.startsWith('-') && a.text !== '-') i += ['-u', '-C', '--unset', '--chdir'].includes(a.text) ? 2 : 1;
    else if (/^[A-Za-z_][A-Za-z0-9_]*=/s.test(a.text)) {
      const eq = a.text.indexOf('=');
      checkAssignment(a.text.slice(0, eq), { ...a, text: a.text.slice(eq + 1) }, part.text, state);
      i += 1;
    } else break;
  }
  if (i >= args.length) matchRules('env', args, part.text, state);
  else classifyWords(args.slice(i), part, state);
}

/** `find ... -exec CMD ... ;` runs CMD on every match. */
function checkFindExec(args: readonly Word[], part: ScriptPart, state: State): void {
  for (let i = 0; i < args.length; i += 1) {
    if (!['-exec', '-execdir', '-ok', '-okdir'].includes((args[i] as Word).text)) continue;
    let end = i + 1;
    while (end < args.length && ![';', '+'].includes((args[end] as Word).text)) end += 1;
    const inner = args.slice(i + 1, end).filter((w) => w.text !== '{}');
    if (inner.length > 0) classifyWords(inner, part, state);
    i = end;
  }
}

// --- git's own ways to run other programs

/** Config keys whose value git runs (or that make git run something). */
const GIT_PROGRAM_KEY = /^(core\.(sshcommand|pager|editor|hookspath|fsmonitor|askpass|gitproxy|attributesfile)|diff\.external|diff\..+\.(command|textconv)|filter\..+\.(clean|smudge|process)|merge\..+\.driver|credential\.helper|credential\..+\.helper|sequence\.editor|gpg\.program|gpg\..+\.program|pager\..+|uploadpack\.packobjectshook|protocol\..*allow|include\.path|includeif\..+|remote\..+\.(uploadpack|receivepack|proxy)|http\.proxy|url\..+)$/;

function checkGitConfig(pair: Word, part: ScriptPart, state: State): void {
  if (pair.dynamic) {
    add(state, part.text, 'T2', null, `git -c with a value the guard cannot resolve (${pair.text})`);
    return;
  }
  const eq = pair.text.indexOf('=');
  const key = (eq < 0 ? pair.text : pair.text.slice(0, eq)).toLowerCase();
  const value = eq < 0 ? '' : pair.text.slice(eq + 1);
  if (key.startsWith('alias.')) {
    if (value.startsWith('!')) {
      add(state, part.text, 'T3', null, `git alias ${key.slice(6)} runs a shell command`);
      classifyNested(value.slice(1), part.text, state);
    } else add(state, part.text, 'T2', null, `git alias ${key.slice(6)} renames a git command`);
  } else if (GIT_PROGRAM_KEY.test(key)) {
    add(state, part.text, 'T3', null, `git -c ${key} makes git run a program or load config of its choosing`);
    if (value !== '' && !key.startsWith('protocol') && !key.startsWith('include')) classifyNested(value.replace(/^!/, ''), part.text, state);
  }
}

function checkGit(args: readonly Word[], part: ScriptPart, state: State): void {
  const text = part.text;
  const sub = positionalSubcommand(args);
  checkGitRepository(args, text, state);
  for (let i = 0; i < args.length; i += 1) {
    const w = args[i] as Word;
    const a = w.text;
    const next = args[i + 1];
    if (a === '-c' && next) checkGitConfig(next, part, state);
    else if (a.startsWith('--config-env')) add(state, text, 'T3', null, 'git --config-env takes config (which can run programs) from the environment');
    else if ((/^--(upload-pack|receive-pack|exec)(=|$)/.test(a) && sub !== 'rebase') || (a === '-u' && (sub === 'clone' || sub === 'ls-remote'))) {
      add(state, text, 'T3', null, `git ${a.split('=')[0]} runs a program of its choosing`);
      const program = a.includes('=') ? a.slice(a.indexOf('=') + 1) : (next?.text ?? '');
      if (program !== '' && !(next?.dynamic && !a.includes('='))) classifyNested(program, text, state);
    } else if (sub === 'rebase' && (a === '-x' || a.startsWith('--exec'))) {
      add(state, text, 'T2', null, 'git rebase --exec runs a shell command after every commit');
      const code = a.startsWith('--exec=') ? { ...w, text: a.slice(7) } : next;
      if (code) runCode(code, 'git rebase --exec', text, state);
    } else if (/^--exec-path=/.test(a)) add(state, text, 'T3', null, 'git --exec-path runs git commands from another directory');
    else if (a === '--open-files-in-pager' || a.startsWith('--open-files-in-pager=') || (sub === 'grep' && /^-O/.test(a))) {
      add(state, text, 'T2', null, 'git grep --open-files-in-pager runs a program on the matches');
    } else if (a === '--output' || a.startsWith('--output=')) {
      const target = a.includes('=') ? { ...w, text: a.slice(9) } : next;
      if (target) checkWrite(target, text, state, 'git --output writes to');
    } else if (/^--template(=|$)/.test(a)) add(state, text, 'T2', null, 'git --template installs hooks from a directory');
    else if (/(^|[^a-z])ext::/.test(a)) add(state, text, 'T3', null, 'the ext:: transport runs a command');
    else if (sub === 'difftool' && (a === '-x' || a.startsWith('--extcmd'))) add(state, text, 'T2', null, 'git difftool --extcmd runs a program');
  }
  if (sub === 'submodule' && args.some((a) => a.text === 'foreach')) {
    const at = args.findIndex((a) => a.text === 'foreach');
    const rest = args.slice(at + 1).filter((a) => !a.text.startsWith('--'));
    if (rest.length > 0) runCode(joinWords(rest), 'git submodule foreach', text, state);
  }
  if (sub === 'bisect' && args.some((a) => a.text === 'run')) {
    const at = args.findIndex((a) => a.text === 'run');
    if (args.length > at + 1) classifyWords(args.slice(at + 1), part, state);
  }
}

/**
 * git reads the configuration of the repository it runs in, and a repository's config can run
 * programs (core.fsmonitor, core.pager, ...). Pointed at another repository (`-C`, `--git-dir`,
 * `--work-tree`, or after a `cd` out of this one), any git command can run code of its choosing.
 */
function checkGitRepository(args: readonly Word[], part: string, state: State): void {
  let dir = state.cwd;
  for (let i = 0; i < args.length; i += 1) {
    const a = (args[i] as Word).text;
    if (/^--(git-dir|work-tree)(=|$)/.test(a)) {
      add(state, part, 'T2', null, `git ${a.split('=')[0]} points git at another repository, whose config can run programs`);
      return;
    }
    if (a === '-C') {
      const target = args[i + 1];
      if (!target || target.dynamic) dir = null;
      else if (dir !== null || isAbsolute(target.text)) dir = resolve(dir ?? '/', target.text);
      i += 1;
    } else if (!a.startsWith('-')) break;
  }
  const root = state.ctx.repoRoot;
  const inside = dir !== null && (root === null ? dir === state.ctx.cwd : dir === root || dir.startsWith(`${root}/`));
  if (!inside) add(state, part, 'T2', null, `git runs in ${dir ?? 'a directory the guard cannot resolve'}, another repository, whose config can run programs`);
}

/** git's subcommand: the first word that is neither an option nor the value of -C/-c. */
function positionalSubcommand(args: readonly Word[]): string | null {
  for (let i = 0; i < args.length; i += 1) {
    const a = (args[i] as Word).text;
    if (a === '-C' || a === '-c' || a === '--git-dir' || a === '--work-tree' || a === '--namespace') i += 1;
    else if (!a.startsWith('-')) return a;
  }
  return null;
}

/** T2 parts that a capability token covers become T1; T3 and T4 never move. */
export function applyGrants(verdict: Verdict, covers: (argv: string[]) => string | null): Verdict & { grants: string[] } {
  const grants: string[] = [];
  // The reasons a token lifts: the policy rules that set a covered command's T2, in its part.
  const lifted = new Set<string>();
  for (const command of verdict.commands) {
    if (command.tier !== 'T2') continue;
    const token = covers(command.argv);
    if (!token) continue;
    grants.push(token);
    for (const rule of command.rules) lifted.add(`${command.part}\0${rule}`);
  }
  if (grants.length === 0) return { ...verdict, grants };
  // A T2 the guard found itself (a path, an escape hatch) has no rule and stays; so does the T2
  // of another command in the same part (`xargs git push`: xargs is not covered by a push grant).
  const reasons = verdict.reasons.map((r) =>
    r.tier === 'T2' && r.rule !== null && lifted.has(`${r.part}\0${r.rule}`) ? { ...r, tier: 'T1' as Tier, reason: `${r.reason} (capability token)` } : r,
  );
  return { ...verdict, tier: highestTier(reasons.map((r) => r.tier)), reasons, grants: [...new Set(grants)] };
}
