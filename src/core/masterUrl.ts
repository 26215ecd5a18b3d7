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
