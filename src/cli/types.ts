import type { Style } from './output.js';

export type OptionValue = string | boolean | string[] | undefined;

export interface OptionSpec {
  name: string;
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Placeholder shown in help for string options. */
  value?: string;
  description: string;
}

/** `@agent` or `@agent.model` before the input. */
export interface AgentRef {
  agent: string;
  model: string | null;
}

export interface Invocation {
  args: string[];
  opts: Record<string, OptionValue>;
  json: boolean;
  agent: AgentRef | null;
  cwd: string;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  style: Style;
  /** Tell the user something on stderr without failing (a cache rebuilt, a file repaired). */
  notify: (message: string) => void;
  /** Start a spinner on stderr (TTY only); returns the function that stops it (and can redraw it). */
  progress: (label: string) => import('./output.js').Progress;
  early: EarlyAnswers;
  /** What the CLI's base check found, for commands that report rather than fail on it. */
  base: import('../shard/manifest.js').BaseState | Error | null;
}

/**
 * Answers of git commands the front door started before loading the app (`git/early.ts`): the
 * raw output, or null when git failed and the command should run git itself.
 */
export interface EarlyAnswers {
  workTree?: Promise<string | null>;
}

/** What a handler hands back: data for `--json`, text for people, and the exit code. */
export interface Outcome {
  data: unknown;
  text: string;
  exit?: number;
  /** A problem to report on stderr although the command produced its output. */
  problem?: string;
  /** The handler wrote its output to stdout itself (it had to be out before the command's effect). */
  printed?: boolean;
}

export type Handler = (inv: Invocation) => Promise<Outcome>;
