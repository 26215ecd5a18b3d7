import { AgenceError } from './errors.js';

/**
 * The agent launchers of `!<agent>` (docs/swarm.md): what agence knows of each external coding
 * agent (its binary, how it takes the context pack, whether it runs the guard, how to install
 * it), the split of a persona's `launch:` line into argv (no shell ever reads it), and the argv a
 * launch runs. Pure.
 */

export type ToolName = 'claude' | 'codex' | 'aider' | 'gemini' | 'copilot';

export interface LaunchTool {
  name: ToolName;
  binary: string;
  /**
   * How the context pack reaches the tool: a flag whose value is the pack (`system-flag`), a flag
   * naming the pack's file (`file-flag`), or the first message of the conversation (`first-message`,
   * through `flag`, or as the first positional argument when `flag` is null).
   */
  context: { via: 'system-flag' | 'file-flag'; flag: string } | { via: 'first-message'; flag: string | null };
  /** How the task is given when the context is not the first message: the first positional argument, or not at all. */
  task: 'positional' | 'none';
  /** The guard as the tool's own hook: claude's PreToolUse hook in a settings file given with --settings. */
  guardFlag: string | null;
  install: string;
}

export const LAUNCH_TOOLS: Readonly<Record<ToolName, LaunchTool>> = {
  claude: { name: 'claude', binary: 'claude', context: { via: 'system-flag', flag: '--append-system-prompt' }, task: 'positional', guardFlag: '--settings', install: 'npm install -g @anthropic-ai/claude-code' },
  codex: { name: 'codex', binary: 'codex', context: { via: 'first-message', flag: null }, task: 'none', guardFlag: null, install: 'npm install -g @openai/codex' },
  aider: { name: 'aider', binary: 'aider', context: { via: 'file-flag', flag: '--read' }, task: 'none', guardFlag: null, install: 'python -m pip install aider-install && aider-install' },
  gemini: { name: 'gemini', binary: 'gemini', context: { via: 'first-message', flag: '--prompt-interactive' }, task: 'none', guardFlag: null, install: 'npm install -g @google/gemini-cli' },
  copilot: { name: 'copilot', binary: 'copilot', context: { via: 'first-message', flag: '--interactive' }, task: 'none', guardFlag: null, install: 'npm install -g @github/copilot' },
};

export function isToolName(name: string): name is ToolName {
  return Object.hasOwn(LAUNCH_TOOLS, name);
}

/** The tool a command is, by its binary's base name (`/usr/local/bin/claude` is claude), or null. */
export function toolOf(command: string): LaunchTool | null {
  const base = command.slice(command.lastIndexOf('/') + 1);
  return isToolName(base) ? LAUNCH_TOOLS[base] : null;
}

const OPERATOR = /[|&;<>()$`*?[\]{}~\\]/;

/**
 * A `launch:` line as argv: words split on blanks, '...' and "..." quote a word with blanks.
 * Shell syntax (pipes, redirections, expansions, globs) is refused rather than passed on as
 * literal text, because no shell runs the line: `sh -c` is for a script file.
 */
export function splitLaunch(line: string, shown: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  const bad = (what: string) => new AgenceError('usage', `the launch: line of ${shown} has ${what}`, { fix: 'launch: is a command and its arguments, run without a shell; put anything fancier in a script and launch the script' });
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t') {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw bad(`an unclosed ${c}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (OPERATOR.test(c)) {
      throw bad(`shell syntax (${c})`);
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  if (words.length === 0) throw bad('no command');
  return words;
}

export interface LaunchPlanInput {
  /** The launch command: the persona's `launch:` line as argv, or a tool's binary alone. */
  command: string[];
  /** Arguments given after `--` on agence's command line, passed on as they are. */
  extraArgs: readonly string[];
  /** The context pack as text, and the file it was written to. */
  context: string;
  contextFile: string;
  /** The task, when the launch has one. */
  task: string | null;
  /** The settings file holding the guard hook, for a tool that takes one. */
  guardSettings: string | null;
}

export interface LaunchPlan {
  tool: ToolName | null;
  argv: string[];
  /** How the context reached the agent, in words for the report. */
  contextVia: string;
  guard: 'hook' | 'none';
}

/** The argv of one launch. A command agence does not know gets the pack through AGENCE_CONTEXT_FILE only. */
export function planLaunch(input: LaunchPlanInput): LaunchPlan {
  const [binary, ...launchArgs] = input.command as [string, ...string[]];
  const tool = toolOf(binary);
  if (!tool) return { tool: null, argv: [binary, ...launchArgs, ...input.extraArgs], contextVia: 'the file named by AGENCE_CONTEXT_FILE', guard: 'none' };
  const argv = [binary, ...launchArgs];
  let contextVia: string;
  const firstMessage = [input.context, input.task ? `Your task: ${input.task}` : ''].filter(Boolean).join('\n\n');
  const guard = tool.guardFlag && input.guardSettings ? 'hook' : 'none';
  if (guard === 'hook') argv.push(tool.guardFlag as string, input.guardSettings as string);
  const { context } = tool;
  if (context.via === 'system-flag') {
    argv.push(context.flag, input.context);
    contextVia = `${context.flag} (system prompt)`;
  } else if (context.via === 'file-flag') {
    argv.push(context.flag, input.contextFile);
    contextVia = `${context.flag} ${input.contextFile} (instruction file)`;
  } else {
    if (context.flag) argv.push(context.flag, firstMessage);
    contextVia = context.flag ? `${context.flag} (first message)` : 'the first message';
  }
  argv.push(...input.extraArgs);
  // A positional first message goes last, after any options the user added.
  if (context.via === 'first-message' && !context.flag) argv.push(firstMessage);
  else if (tool.task === 'positional' && input.task) argv.push(input.task);
  return { tool: tool.name, argv, contextVia, guard };
}

/** The install hint of a missing command: a tool's own, else where the launch line is. */
export function installHint(command: string, source: string | null): string {
  const tool = toolOf(command);
  if (tool) return `install it: ${tool.install}`;
  return source ? `install ${command}, or fix the launch: line of ${source}` : `install ${command}`;
}
