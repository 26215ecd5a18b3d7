import { relative, resolve } from 'node:path';
import { AgenceError } from './errors.js';

/**
 * Master URLs: anything git can fetch (path, file://, git://, ssh, https, scp-like host:path).
 * Relative local paths are stored relative to the shard root, so every clone that keeps the same
 * neighbours resolves them alike.
 */

const SCHEME_RE = /^([a-z][a-z0-9+.-]*):\/\//i;
const SCP_RE = /^(?:[^@/\s]+@)?[^/:\s]+:(?!\/\/)/;

export type MasterUrlKind = 'remote' | 'absolute-path' | 'relative-path';

export function masterUrlKind(url: string): MasterUrlKind {
  if (SCHEME_RE.test(url) || SCP_RE.test(url)) return 'remote';
  return url.startsWith('/') ? 'absolute-path' : 'relative-path';
}

/** Why `url` cannot be a master URL, or null when it can. */
export function masterUrlProblem(url: string): string | null {
  if (url.trim() === '') return 'it is empty';
  if (url.startsWith('-')) return 'it starts with "-" (it would be read as an option)';
  if (/[\0\n\r]/.test(url)) return 'it contains control characters';
  if (/^(ext|fd)::/i.test(url)) return 'the ext:: and fd:: transports run commands and are refused';
  const scheme = SCHEME_RE.exec(url)?.[1]?.toLowerCase();
  if (scheme && !['file', 'git', 'ssh', 'http', 'https', 'git+ssh', 'ssh+git'].includes(scheme)) {
    return `the scheme ${scheme}:// is not a git transport agence uses`;
  }
  if (scheme && /^[a-z+]+:\/\/[^/@\s]*:[^/@\s]*@/i.test(url)) return 'it contains a password; use a credential helper instead';
  return null;
}

/** A URL given to `^init --master`, checked, with a relative path made relative to the shard root. */
export function normaliseMasterUrl(input: string, cwd: string, root: string): string {
  const problem = masterUrlProblem(input);
  if (problem) throw new AgenceError('usage', `--master "${input}" cannot be used: ${problem}`, { fix: 'give a git URL or a path to the master repository' });
  if (masterUrlKind(input) !== 'relative-path') return input;
  const rel = relative(root, resolve(cwd, input));
  return rel === '' ? '.' : rel;
}

/** Where git should fetch a stored master URL from. */
export function fetchableMasterUrl(url: string, root: string): string {
  return masterUrlKind(url) === 'relative-path' ? resolve(root, url) : url;
}
