import type { Trust } from './schemas.js';

/**
 * Who may sign CODEX changes: the admin keys of codex/trust.yaml as git's allowed-signers file
 * (`ssh-keygen -Y verify` format), and what git's signature status letters mean for it.
 */

const SSH_ED25519 = /^ssh-ed25519 [A-Za-z0-9+/]+={0,2}$/;
const PRINCIPAL = /^[^\s,"*?!]+$/;

export interface AllowedSigners {
  /** One line per key: `<email> namespaces="git" ssh-ed25519 AAAA...`. */
  text: string;
  keys: number;
  /** Keys that are not ssh-ed25519 public keys, or admins whose email cannot be a principal. */
  invalid: { email: string; key: string }[];
}

export function allowedSigners(trust: Trust): AllowedSigners {
  const lines: string[] = [];
  const invalid: AllowedSigners['invalid'] = [];
  for (const admin of trust.admins) {
    for (const raw of admin.keys) {
      const key = raw.trim().split(/\s+/).slice(0, 2).join(' ');
      if (!SSH_ED25519.test(key) || !PRINCIPAL.test(admin.email)) invalid.push({ email: admin.email, key: raw });
      else lines.push(`${admin.email} namespaces="git" ${key}`);
    }
  }
  return { text: lines.map((l) => `${l}\n`).join(''), keys: lines.length, invalid };
}

const STATUS: Record<string, string> = {
  G: 'signed by an admin key',
  B: 'bad signature: the commit was changed after signing',
  U: 'signed, by a key trust.yaml does not list for an admin',
  X: 'signature expired',
  Y: 'signed by an expired key',
  R: 'signed by a revoked key',
  E: 'signed by a key trust.yaml does not list for an admin',
  N: 'not signed',
};

/** A commit passes only with git's G: a good signature by a key in the allowed-signers file. */
export function signatureVerdict(status: string): { ok: boolean; reason: string } {
  return { ok: status === 'G', reason: STATUS[status] ?? `signature status ${status}` };
}
