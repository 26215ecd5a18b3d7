import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ShardPaths } from '../../src/shard/layout.js';
import { hmacKey, keysDir, parseSshPublicKey, signBytes, signingKey, sshFingerprint, verifyBytes } from '../../src/shard/keys.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'agence-keys-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const paths = { hermetic: join(dir, 'hermetic') } as ShardPaths;

describe('shard keys in hermetic/keys', () => {
  it('creates the signing key once, private to the user, and signs what verifies', () => {
    const key = signingKey(paths);
    expect(statSync(join(keysDir(paths), 'shard-ed25519.pem')).mode & 0o777).toBe(0o600);
    expect(signingKey(paths).publicSsh).toBe(key.publicSsh);
    const signature = signBytes(key, 'bundle bytes');
    expect(verifyBytes(key.publicKey, 'bundle bytes', signature)).toBe(true);
    expect(verifyBytes(key.publicKey, 'bundle bytes!', signature)).toBe(false);
    expect(verifyBytes(key.publicKey, 'bundle bytes', 'not base64 at all')).toBe(false);
  });

  it('writes the public key and fingerprint as ssh-keygen reads and prints them', () => {
    const key = signingKey(paths);
    const parsed = parseSshPublicKey(`${key.publicSsh} shard@test`);
    expect(parsed?.export({ type: 'spki', format: 'der' })).toEqual(key.publicKey.export({ type: 'spki', format: 'der' }));
    expect(parseSshPublicKey('ssh-rsa AAAAB3NzaC1yc2E=')).toBeNull();
    expect(parseSshPublicKey('ssh-ed25519 AAAA')).toBeNull();
    const file = join(dir, 'key.pub');
    writeFileSync(file, `${key.publicSsh} shard@test\n`);
    const keygen = spawnSync('ssh-keygen', ['-l', '-f', file], { encoding: 'utf8' });
    expect(keygen.error, 'ssh-keygen (Debian package openssh-client) must be on PATH').toBeUndefined();
    expect(keygen.stdout.split(' ')[1]).toBe(sshFingerprint(key.publicSsh));
  });

  it('keeps one HMAC key, and reports a damaged key file instead of replacing it', () => {
    const key = hmacKey(paths);
    expect(hmacKey(paths)).toEqual(key);
    const file = join(keysDir(paths), 'ledger-hmac.key');
    writeFileSync(file, 'garbage\n');
    expect(() => hmacKey(paths)).toThrow(/not a 64-hex-digit key/);
    expect(readFileSync(file, 'utf8')).toBe('garbage\n');
    writeFileSync(join(keysDir(paths), 'shard-ed25519.pem'), 'not a key');
    expect(() => signingKey(paths)).toThrow(/not an ed25519 private key/);
  });
});
