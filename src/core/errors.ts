/** Exit codes of DESIGN §4. */
export const ExitCode = {
  ok: 0,
  user: 1,
  policy: 2,
  integrity: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Error kinds. Each maps to exactly one exit code, so a service never has to know about
 * process exit codes and the CLI never has to guess from a message.
 */
export type ErrorCode =
  | 'usage' // bad arguments or unknown command
  | 'not_found' // an id, file or shard that does not exist
  | 'not_a_repo' // outside a git repository
  | 'not_a_shard' // inside a repo without .agence/
  | 'conflict' // the request contradicts what is on disk
  | 'git' // git failed (network, unknown URL, ...)
  | 'dependency' // a module agence needs failed to load
  | 'provider' // a model provider failed, refused the key or could not be reached
  | 'refused' // refused by policy
  | 'corrupt'; // data on disk is not what it must be

const exitFor: Record<ErrorCode, ExitCode> = {
  usage: ExitCode.user,
  not_found: ExitCode.user,
  not_a_repo: ExitCode.user,
  not_a_shard: ExitCode.user,
  conflict: ExitCode.user,
  git: ExitCode.user,
  dependency: ExitCode.user,
  provider: ExitCode.user,
  refused: ExitCode.policy,
  corrupt: ExitCode.integrity,
};

export interface AgenceErrorOptions {
  /** What the user can do about it; printed after the message. */
  fix?: string;
  /** The file the error is about, when there is one. */
  file?: string;
  cause?: unknown;
}

/** Marks an AgenceError whichever bundle's copy of this class made it (the CLI is several bundles). */
const BRAND = Symbol.for('agence.AgenceError');

export class AgenceError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  readonly [BRAND] = true;
  readonly code: ErrorCode;
  readonly fix: string | undefined;
  readonly file: string | undefined;

  constructor(code: ErrorCode, message: string, options: AgenceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgenceError';
    this.code = code;
    this.fix = options.fix;
    this.file = options.file;
  }

  get exitCode(): ExitCode {
    return exitFor[this.code];
  }

  /** The one line shown to a person: what is wrong, then how to fix it. */
  get line(): string {
    return this.fix ? `${this.message}: ${this.fix}` : this.message;
  }
}
