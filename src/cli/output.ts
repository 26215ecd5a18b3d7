import { fstatSync, readSync, statSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AgenceError } from '../core/errors.js';

/**
 * Write to stdout (1) or stderr (2) directly. Creating process.stdout loads Node's stream
 * machinery, a tenth of `agence ^status`'s start-up; on Linux it writes synchronously anyway.
 * A descriptor left non-blocking by the parent can answer EAGAIN: wait briefly and go on.
 */
export function writeFd(fd: 1 | 2, text: string): void {
  const buffer = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += writeSync(fd, buffer, offset, buffer.length - offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
    }
  }
}

/**
 * isatty(fd), asked only when it can be true: a file, a pipe or /dev/null is no terminal, and
 * node:tty (which loads Node's network and stream modules) is then never loaded.
 */
export function isTerminal(fd: 1 | 2): boolean {
  let stat;
  try {
    stat = fstatSync(fd);
  } catch {
    return false;
  }
  if (!stat.isCharacterDevice() || stat.rdev === statSync('/dev/null').rdev) return false;
  const tty = createRequire(import.meta.filename)('node:tty') as typeof import('node:tty');
  return tty.isatty(fd);
}

/**
 * A yes/no question to the person at the terminal (stdin and stderr both terminals), read
 * synchronously; null when nobody can answer. An agent at a pseudo-terminal is not a person: it
 * may not approve its own requests, and with --json there is no conversation.
 */
export function terminalAsk(env: NodeJS.ProcessEnv, json: boolean): ((question: string) => boolean) | null {
  if (env.AGENCE_AGENT || json || !isTerminal(2)) return null;
  const tty = createRequire(import.meta.filename)('node:tty') as typeof import('node:tty');
  if (!tty.isatty(0)) return null;
  return (question) => {
    writeFd(2, `${question} [y/N] `);
    const buffer = Buffer.alloc(256);
    const n = readSync(0, buffer, 0, buffer.length, null);
    return /^y(es)?$/i.test(buffer.subarray(0, n).toString('utf8').trim());
  };
}

export interface Style {
  enabled: boolean;
  bold: (s: string) => string;
  dim: (s: string) => string;
  red: (s: string) => string;
  green: (s: string) => string;
  yellow: (s: string) => string;
  cyan: (s: string) => string;
}

/** Colours only on a TTY, never with NO_COLOR set (no-color.org) or with --json. */
export function colourEnabled(fd: 1 | 2, env: NodeJS.ProcessEnv, json: boolean): boolean {
  if (json || !isTerminal(fd)) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return env.TERM !== 'dumb';
}

export function makeStyle(enabled: boolean): Style {
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return { enabled, bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), cyan: wrap(36, 39) };
}

/** What `progress(label)` returns: call it to stop; `update` redraws with a new label (e.g. a bar). */
export interface Progress {
  (): void;
  /** For synchronous work, where the spinner's timer cannot fire: redraws at most ten times a second. */
  update: (label: string) => void;
}

/** A spinner on stderr, shown only on a TTY and only once the work has taken a moment. */
export function makeProgress(enabled: boolean): (label: string) => Progress {
  return (label) => {
    if (!enabled || !isTerminal(2)) return Object.assign(() => undefined, { update: () => undefined });
    const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    const started = Date.now();
    let frame = 0;
    let shown = false;
    let last = 0;
    let current = label;
    const draw = () => {
      shown = true;
      last = Date.now();
      writeFd(2, `\r\u001b[2K${frames[frame++ % frames.length]} ${current}`);
    };
    const timer = setInterval(draw, 120);
    const stop = () => {
      clearInterval(timer);
      if (shown) writeFd(2, '\r\u001b[2K');
    };
    return Object.assign(stop, {
      update: (text: string) => {
        current = text;
        const now = Date.now();
        if (now - started > 300 && now - last > 100) draw();
      },
    });
  };
}

/** `[#####.....] 4,000/10,000 label`, for progress over a known number of steps. */
export function progressBar(done: number, total: number, label: string): string {
  const width = 24;
  const filled = total > 0 ? Math.round((done / total) * width) : width;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done.toLocaleString('en')}/${total.toLocaleString('en')} ${label}`;
}

export interface ErrorReport {
  exit: number;
  stderr: string;
  json: unknown;
}

/** Any error as one line on stderr (and one JSON document on stdout with --json). */
export function reportError(error: unknown, style: Style, env: NodeJS.ProcessEnv): ErrorReport {
  if (error instanceof AgenceError) {
    return {
      exit: error.exitCode,
      stderr: `${style.red('agence:')} ${error.line}\n`,
      json: { ok: false, error: { code: error.code, message: error.message, ...(error.fix ? { fix: error.fix } : {}), ...(error.file ? { file: error.file } : {}) } },
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  const detail = env.AGENCE_DEBUG && error instanceof Error && error.stack ? `\n${error.stack}` : '';
  return {
    exit: 1,
    stderr: `${style.red('agence:')} unexpected error: ${message} (set AGENCE_DEBUG=1 for details, and please report it)${detail}\n`,
    json: { ok: false, error: { code: 'internal', message } },
  };
}
