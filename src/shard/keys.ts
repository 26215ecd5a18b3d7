import type { KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { createFileOnce } from '../store/atomic.js';
import { nodeCrypto } from '../store/lazyBuiltins.js';
import type { ShardPaths } from './layout.js';

/**
 * The shard's keys, kept in HERMETIC (`hermetic/keys/`, never committed, never leaves the
 * machine): an ed25519 signing key (handoff bundles, ledger roots, capability tokens) and an
 * HMAC key (ledger entries). Each is created on first use; a key file that exists but does not
 * parse is corrupt data, never silently replaced, because replacing it would orphan everything
 * it signed.
 */
export interface ShardSigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** `ssh-ed25519 AAAA...`, the form trust.yaml lists keys in. */
  publicSsh: string;
  /** `SHA256:<base64>` of the SSH public key blob, as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

export function keysDir(paths: ShardPaths): string {
  return join(paths.hermetic, 'keys');
}

/** Created with the folder private to the user; the first of two processes at once wins. */
function createKeyOnce(file: string, data: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  createFileOnce(file, data, 0o600);
}

const SIGNING_FILE = 'shard-ed25519.pem';
const HMAC_FILE = 'ledger-hmac.key';

export function signingKey(paths: ShardPaths): ShardSigningKey {
  const file = join(keysDir(paths), SIGNING_FILE);
  if (!existsSync(file)) {
    const { privateKey } = nodeCrypto().generateKeyPairSync('ed25519');
    createKeyOnce(file, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  }
  let privateKey: KeyObject;
  try {
    privateKey = nodeCrypto().createPrivateKey(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new AgenceError('corrupt', `${file} is not an ed25519 private key`, { file, cause, fix: 'restore it from a backup; deleting it makes a new key that other shards do not trust yet' });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new AgenceError('corrupt', `${file} is a ${privateKey.asymmetricKeyType} key, not ed25519`, { file, fix: 'restore the shard key from a backup' });
  }
  const publicKey = nodeCrypto().createPublicKey(privateKey);
  const publicSsh = sshPublicKey(publicKey);
  return { privateKey, publicKey, publicSsh, fingerprint: sshFingerprint(publicSsh) };
}

/** 32 random bytes, hex, created on first use. */
export function hmacKey(paths: ShardPaths): Buffer {
  const file = join(keysDir(paths), HMAC_FILE);
  if (!existsSync(file)) createKeyOnce(file, `${nodeCrypto().randomBytes(32).toString('hex')}\n`);
  const text = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new AgenceError('corrupt', `${file} is not a 64-hex-digit key`, { file, fix: 'restore it from a backup; a new key cannot verify the existing ledger' });
  }
  return Buffer.from(text, 'hex');
}

/** The raw 32-byte ed25519 public key (the last 32 bytes of its SPKI DER form). */
function rawPublicKey(publicKey: KeyObject): Buffer {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - 32);
}

function sshString(data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
}

export function sshPublicKey(publicKey: KeyObject): string {
  const blob = Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(rawPublicKey(publicKey))]);
  return `ssh-ed25519 ${blob.toString('base64')}`;
}

/** `ssh-ed25519 AAAA... [comment]` -> a public key object, or null if it is not one. */
export function parseSshPublicKey(line: string): KeyObject | null {
  const match = /^ssh-ed25519\s+([A-Za-z0-9+/]+={0,2})(?:\s|$)/.exec(line.trim());
  if (!match) return null;
  const blob = Buffer.from(match[1] as string, 'base64');
  if (blob.length !== 51 || blob.subarray(4, 15).toString() !== 'ssh-ed25519' || blob.readUInt32BE(15) !== 32) return null;
  const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');
  try {
    return nodeCrypto().createPublicKey({ key: Buffer.concat([spkiPrefix, blob.subarray(19)]), format: 'der', type: 'spki' });
  } catch {
    return null;
  }
}

export function sshFingerprint(publicSsh: string): string {
  const blob = Buffer.from((publicSsh.trim().split(/\s+/)[1] ?? ''), 'base64');
  return `SHA256:${nodeCrypto().createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function signBytes(key: ShardSigningKey, data: string | Buffer): string {
  return nodeCrypto().sign(null, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, key.privateKey).toString('base64');
}

export function verifyBytes(publicKey: KeyObject, data: string | Buffer, signature: string): boolean {
  try {
    return nodeCrypto().verify(null, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
