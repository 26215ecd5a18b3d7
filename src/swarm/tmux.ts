import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { AgenceError } from '../core/errors.js';

/**
 * tmux 1+1 (docs/swarm.md): the agent in a tmux window, a human pane beside it, the agent pane's
 * output piped to its buffer. Every tmux command is an argv; the two strings a shell reads are
 * ours: the start gate below (a constant, with the agent's argv as its positional parameters) and
 * the pipe-pane command the caller builds from quoted values of its own.
 */

export interface TmuxLaunch {
  /** The tmux binary (found on PATH by the caller). */
  tmux: string;
  cwd: string;
  argv: string[];
  /** Variables of the agent's pane, and of the human pane beside it. */
  agentEnv: Record<string, string>;
  humanEnv: Record<string, string>;
  /** The window's name (the agent). */
  window: string;
  /** The tmux session agence makes when it is not run inside tmux (one per agence session). */
  group: string;
  /**
   * The pane's capture: the shell command pipe-pane runs with the pane's output on its stdin, the
   * mark the gate prints after the agent, and the file the recorder creates once it has written
   * everything before the mark; null: no capture.
   */
  capture: { pipe: string; endMark: string; ack: string } | null;
  /** Outside tmux: attach this terminal and wait (true), or leave the window running (false). */
  attach: boolean;
  /** Where the pane writes the agent's exit status when it ends. */
  statusFile: string;
}

export interface TmuxStarted {
  /** `current`: a window in the tmux session agence was run from; `own`: agence's own tmux session. */
  server: 'current' | 'own';
  /** session:window */
  target: string;
  pane: string;
  humanPane: string;
  attached: boolean;
  /** The agent's exit status when it ended while attached; null while it runs on in tmux. */
  exit: number | null;
  /** Where its exit status will be once it ends (`exitStatus` reads it). */
  statusFile: string;
}

// The agent's pane waits for the capture to be in place before the agent starts, so the buffer
// misses none of its output (`"$0" wait-for "$1"`: tmux, the channel), runs the agent's argv and
// writes its exit status to "$2". With a capture it then prints the end mark "$3" and waits (5 s
// at most) for the recorder's ack file "$4": tmux 3.3 may close a pane whose process has ended
// before pipe-pane has had its last output, and the end of an agent's output matters most.
// Every value is a positional parameter, none is in the script.
const GATE = [
  '"$0" wait-for "$1" || exit 125',
  'status_file=$2; mark=$3; ack=$4; shift 4',
  '"$@"; status=$?',
  'echo "$status" > "$status_file"',
  'if [ -n "$mark" ]; then printf %s "$mark"; i=0; while [ ! -e "$ack" ] && [ "$i" -lt 100 ]; do sleep 0.05; i=$((i + 1)); done; fi',
  'exit "$status"',
].join('; ');

function tmuxRun(bin: string, args: string[], env: NodeJS.ProcessEnv): string {
  const result = spawnSync(bin, args, { env, encoding: 'utf8' });
  if (result.error) throw new AgenceError('dependency', `tmux could not be run (${result.error.message})`, { fix: 'check that tmux (3.2 or later) is installed and on PATH' });
  if (result.status !== 0) {
    throw new AgenceError('dependency', `tmux ${args[0]} failed: ${result.stderr.trim().split('\n')[0] || `exit ${result.status}`}`, { fix: 'agence needs tmux 3.2 or later; run with --no-tmux to start the agent in this terminal' });
  }
  return result.stdout.trim();
}

const envFlags = (vars: Record<string, string>): string[] => Object.entries(vars).flatMap(([k, v]) => ['-e', `${k}=${v}`]);

export function startInTmux(launch: TmuxLaunch, env: NodeJS.ProcessEnv): TmuxStarted {
  const tmux = (...args: string[]) => tmuxRun(launch.tmux, args, env);
  const inside = Boolean(env.TMUX);
  const channel = `agence-${process.pid}-${randomBytes(4).toString('hex')}`;
  const gated = ['sh', '-c', GATE, launch.tmux, channel, launch.statusFile, launch.capture?.endMark ?? '', launch.capture?.ack ?? '', ...launch.argv];
  const format = ['-P', '-F', '#{session_name}:#{window_index} #{pane_id}'];
  const common = ['-n', launch.window, '-c', launch.cwd, ...envFlags(launch.agentEnv)];
  let created: string;
  if (inside) created = tmux('new-window', '-d', ...format, ...common, '--', ...gated);
  else if (spawnSync(launch.tmux, ['has-session', '-t', `=${launch.group}`], { env }).status === 0) created = tmux('new-window', '-d', '-t', `=${launch.group}:`, ...format, ...common, '--', ...gated);
  else created = tmux('new-session', '-d', '-s', launch.group, '-x', '200', '-y', '50', ...format, ...common, '--', ...gated);
  const [target = '', pane = ''] = created.split(' ');
  try {
    // A window nobody watches keeps its dead agent pane, showing the exit status, until someone
    // closes it; an attached one closes it, leaving the human pane.
    if (inside || !launch.attach) tmux('set-option', '-p', '-t', pane, 'remain-on-exit', 'on');
    if (launch.capture) tmux('pipe-pane', '-O', '-t', pane, launch.capture.pipe);
    const humanPane = tmux('split-window', '-d', '-h', '-t', pane, '-c', launch.cwd, '-P', '-F', '#{pane_id}', ...envFlags(launch.humanEnv));
    tmux('wait-for', '-S', channel);
    if (inside) {
      tmux('select-window', '-t', target);
      return { server: 'current', target, pane, humanPane, attached: false, exit: null, statusFile: launch.statusFile };
    }
    if (!launch.attach) return { server: 'own', target, pane, humanPane, attached: false, exit: null, statusFile: launch.statusFile };
    tmux('select-window', '-t', target);
    spawnSync(launch.tmux, ['attach-session', '-t', `=${launch.group}`], { env, stdio: 'inherit' });
    return { server: 'own', target, pane, humanPane, attached: true, exit: exitStatus(launch.statusFile), statusFile: launch.statusFile };
  } catch (error) {
    // Never leave a gated pane waiting for a start that will not come.
    spawnSync(launch.tmux, ['kill-window', '-t', target], { env });
    throw error;
  }
}

/** The agent's exit status once it has ended, else null (the terminal detached and it runs on). */
export function exitStatus(statusFile: string): number | null {
  if (!existsSync(statusFile)) return null;
  const status = Number(readFileSync(statusFile, 'utf8').trim());
  return Number.isInteger(status) ? status : null;
}
