import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hmacKey, keysDir, parseSshPublicKey, signBytes, signingKey, sshFingerprint, sshPublicKey, verifyBytes } from '../../src/shard/keys.js';
import { shardPaths } from '../../src/shard/layout.js';

/** The shard keys that handoff bundles, ledger entries and roots rely on. */
const dir = mkdtempSync(join(tmpdir(), 'agence-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function freshShard() {
  const root = join(dir, `s${n++}`);
  mkdirSync(join(root, '.agence'), { recursive: true });
  return shardPaths({ root, mainRoot: root });
}

describe('shard keys', () => {
  it('creates the HMAC key once, private, and refuses a damaged one', () => {
    const paths = freshShard();
    const key = hmacKey(paths);
    expect(key).toHaveLength(32);
    expect(hmacKey(paths).equals(key)).toBe(true);
    const file = join(keysDir(paths), 'ledger-hmac.key');
    expect(readFileSync(file, 'utf8')).toBe(`${key.toString('hex')}\n`);
    expect(spawnSync('stat', ['-c', '%a', file], { encoding: 'utf8' }).stdout.trim()).toBe('600');
    writeFileSync(file, 'not a key\n');
    expect(() => hmacKey(paths)).toThrow(/is not a 64-hex-digit key/);
    expect(readFileSync(file, 'utf8')).toBe('not a key\n'); // reported, never replaced
  });

  it('signs and verifies with the shard key; its SSH form and fingerprint are what ssh-keygen says', () => {
    const paths = freshShard();
    const key = signingKey(paths);
    expect(signingKey(paths).publicSsh).toBe(key.publicSsh);
    const signature = signBytes(key, 'root bytes');
    expect(verifyBytes(key.publicKey, 'root bytes', signature)).toBe(true);
    expect(verifyBytes(key.publicKey, 'root bytez', signature)).toBe(false);
    expect(verifyBytes(key.publicKey, 'root bytes', 'AAAA')).toBe(false);
    const parsed = parseSshPublicKey(`${key.publicSsh} comment`);
    expect(parsed && sshPublicKey(parsed)).toBe(key.publicSsh);
    expect(parseSshPublicKey('ssh-rsa AAAAB3NzaC1yc2E')).toBeNull();
    expect(parseSshPublicKey('ssh-ed25519 AAAA')).toBeNull();
    const pub = join(dir, 'shard.pub');
    writeFileSync(pub, `${key.publicSsh} shard\n`);
    const listed = spawnSync('ssh-keygen', ['-l', '-f', pub], { encoding: 'utf8' });
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(key.fingerprint);
    expect(key.fingerprint).toBe(sshFingerprint(key.publicSsh));
  });

  it('refuses a signing key file that is not an ed25519 key', () => {
    const paths = freshShard();
    mkdirSync(keysDir(paths), { recursive: true });
    writeFileSync(join(keysDir(paths), 'shard-ed25519.pem'), 'garbage');
    expect(() => signingKey(paths)).toThrow(/is not an ed25519 private key/);
  });
});
