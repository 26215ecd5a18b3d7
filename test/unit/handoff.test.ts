import { spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonicalJson.js';
import { AgenceError } from '../../src/core/errors.js';
import { assertBundleId, type Bundle, bundleRef, bundleText, labelBlocks, parseBundleText, redactValue, signedBytes, type UnsignedBundle } from '../../src/core/handoff.js';
import { verifyBundle } from '../../src/handoff/bundle.js';
import { parseSshPublicKey, type ShardSigningKey, signBytes, sshFingerprint, sshPublicKey, verifyBytes } from '../../src/shard/keys.js';

function key(): ShardSigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = createPublicKey(privateKey);
  const publicSsh = sshPublicKey(publicKey);
  return { privateKey, publicKey, publicSsh, fingerprint: sshFingerprint(publicSsh) };
}

const at = '2026-11-24T10:00:00.000Z';

function unsigned(signer: ShardSigningKey): UnsignedBundle {
  return {
    schema: 1,
    bundle_id: '69a8f74c-3f9a1c0e7b2d',
    created: at,
    org: 'acme',
    from: { shard_id: '3f9a1c0e7b2d', shard_name: 'front', agent: 'claudia' },
    to: { shard: null, agent: 'ralph' },
    note: 'Need infrastructure setup',
    session: {
      session_id: '69a8f74c',
      rev: 3,
      created_at: at,
      updated_at: at,
      status: 'TRANSFERRED',
      agent: 'claudia',
      runstate: { agent_context: '', execution_stack: [], memory_state: {}, cursor_position: null, todo_list: [{ id: '1', title: 'login form', status: 'pending' }] },
      metadata: { task_description: 'Build the login page (é, 日本)', repo: '/src/front', priority: 'normal', tags: [] },
      git: { branch: 'main', head: null, dirty: [], staged: [] },
      cwd: '/src/front',
      notes: [{ at, author: 'claudia', text: 'Need infrastructure setup' }],
      shell_history: [],
      lineage: { parent: null, from_shard: null, from_agent: null, to_agent: null, handoff_note: null },
    },
    brief: { task: 'Build the login page', todo: { done: 0, total: 1, step: 1, next: 'login form' }, notes: [] },
    codex_digest: `sha256:${'a'.repeat(64)}`,
    lessons: [],
    omitted: [],
    worktree: null,
    redactions: { count: 0, kinds: {} },
    signer: { key: signer.publicSsh, fingerprint: signer.fingerprint },
  };
}

function signed(signer = key()): Bundle {
  const body = unsigned(signer);
  return { ...body, signature: signBytes(signer, signedBytes(body)) };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof AgenceError) return error.code;
    throw error;
  }
  return 'ok';
}

describe('canonical JSON', () => {
  it('sorts keys by UTF-16 code units, drops undefined members, and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], é: 'ü', B: undefined, c: { z: 0, y: -1.5 } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"y":-1.5,"z":0},"é":"ü"}');
    expect(canonicalJson(['\u2028', 'a"b\n'])).toBe('["\u2028","a\\"b\\n"]');
    expect(canonicalJson({ '\uD83D\uDE00': 1, '\uFB01': 2 })).toBe('{"😀":1,"ﬁ":2}'); // surrogates sort before U+FB01
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
  });
});

describe('bundle ids', () => {
  it('accepts <session>-<12 hex> and refuses anything that could leave refs/agence/handoffs', () => {
    expect(bundleRef('69a8f74c-3f9a1c0e7b2d')).toBe('refs/agence/handoffs/69a8f74c-3f9a1c0e7b2d');
    for (const bad of ['../../etc/passwd', '69a8f74c-3f9a1c0e7b2d/../x', '69a8f74c-3f9a1c0e7b2D', '-rf', '', 'refs/heads/main', '69a8f74c-3f9a1c0e7b2d\n']) {
      expect(code(() => assertBundleId(bad)), bad).toBe('refused');
    }
  });
});

describe('signed bundles', () => {
  it('verify as written, and the stored form is canonical JSON and a newline', () => {
    const bundle = signed();
    const text = bundleText(bundle);
    expect(text).toBe(`${canonicalJson(bundle)}\n`);
    expect(verifyBundle(text, 'b.json')).toEqual(bundle);
  });

  it('refuse a change at any byte as an integrity failure', () => {
    const text = bundleText(signed());
    const bytes = Buffer.from(text, 'utf8');
    const codes = new Set<string>();
    for (let i = 0; i < bytes.length; i++) {
      const tampered = Buffer.from(bytes);
      tampered[i] = (tampered[i] as number) ^ 0x01;
      const c = code(() => verifyBundle(tampered.toString('utf8'), 'b.json'));
      // Flipping the low bit of "1" in "schema":1 gives 0: still a corrupt (not newer) bundle.
      expect(c, `byte ${i} (${JSON.stringify(text[i])})`).toBe('corrupt');
      codes.add(c);
    }
    expect(codes).toEqual(new Set(['corrupt']));
  });

  it('refuse a re-signed bundle whose signer is not the key named', () => {
    const bundle = signed();
    const other = key();
    const forged = { ...bundle, note: 'forged' };
    forged.signature = signBytes(other, signedBytes(forged));
    expect(code(() => verifyBundle(bundleText(forged), 'b.json'))).toBe('corrupt');
  });

  it('refuse a newer schema as policy (upgrade), before anything else', () => {
    const bundle = { ...signed(), schema: 2 };
    const error = (() => {
      try {
        parseBundleText(`${canonicalJson(bundle)}\n`, 'b.json');
      } catch (e) {
        return e as AgenceError;
      }
      return null;
    })();
    expect(error?.code).toBe('refused');
    expect(error?.message).toContain('schema 2');
  });

  it('refuse non-canonical bytes even when the content is the same', () => {
    const bundle = signed();
    expect(code(() => parseBundleText(`${JSON.stringify(bundle, null, 1)}\n`, 'b.json'))).toBe('corrupt');
    expect(code(() => parseBundleText(`${canonicalJson({ ...bundle, extra: 1 })}\n`, 'b.json'))).toBe('ok'); // canonical and valid in shape...
    expect(code(() => verifyBundle(`${canonicalJson({ ...bundle, extra: 1 })}\n`, 'b.json'))).toBe('corrupt'); // ...but not what was signed
  });
});

describe('redaction', () => {
  const secrets: Record<string, string> = {
    'aws-access-key': 'AKIAIOSFODNN7EXAMPLE',
    'github-token': 'ghp_abcdefghijklmnopqrstuvwxyz0123456789AB',
    'gitlab-token': 'glpat-abcdefghij0123456789',
    'anthropic-key': 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz',
    'openai-key': 'sk-proj-abcdefghijklmnopqrstuvwxyz012345',
    'google-api-key': 'AIzaSyA-abcdefghijklmnopqrstuvwxyz01234',
    jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  };

  it('replaces each kind with [REDACTED:kind] and counts distinct secrets', () => {
    for (const [kind, secret] of Object.entries(secrets)) {
      const r = redactValue({ note: `use ${secret} here`, again: [secret] });
      expect(r.value, kind).toEqual({ note: `use [REDACTED:${kind}] here`, again: [`[REDACTED:${kind}]`] });
      expect(r.count, kind).toBe(1);
      expect(r.kinds, kind).toEqual({ [kind]: 1 });
    }
  });

  it('finds private keys, passwords in URLs and .env assignments, and leaves ordinary text alone', () => {
    const pem = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----';
    const r = redactValue(`key:\n${pem}\nclone https://ada:hunter2secret@git.example.com/x.git\nDB_PASSWORD=s3cr3t-value\nexport API_TOKEN="abcd1234efgh"`);
    expect(r.value).toBe('key:\n[REDACTED:private-key]\nclone https://ada:[REDACTED:url-password]@git.example.com/x.git\nDB_PASSWORD=[REDACTED:env-assignment]\nexport API_TOKEN="[REDACTED:env-assignment]"');
    expect(r.count).toBe(4);
    const plain = redactValue({ task: 'Build the login page; see https://example.com/docs and commit 3f9a1c0e7b2d', n: 3 });
    expect(plain.count).toBe(0);
  });
});

describe('labels', () => {
  it('lets public and internal go up to the clearance; secret and above never', () => {
    expect(labelBlocks('public', 'public')).toBeNull();
    expect(labelBlocks('internal', 'internal')).toBeNull();
    expect(labelBlocks('internal', 'public')).toContain('above the public clearance');
    expect(labelBlocks('secret', 'top-secret')).toContain('never leaves');
    expect(labelBlocks('top-secret', 'top-secret')).toContain('never leaves');
  });
});

describe('shard keys', () => {
  it('print SSH public keys and fingerprints as ssh-keygen does, and parse them back', () => {
    const k = key();
    const dir = mkdtempSync(join(tmpdir(), 'agence-keys-'));
    try {
      writeFileSync(join(dir, 'k.pub'), `${k.publicSsh} test\n`);
      const out = spawnSync('ssh-keygen', ['-l', '-f', join(dir, 'k.pub')], { encoding: 'utf8' });
      expect(out.status, out.stderr).toBe(0);
      expect(out.stdout.split(' ')[1]).toBe(k.fingerprint);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const parsed = parseSshPublicKey(`${k.publicSsh} comment`);
    expect(parsed && sshPublicKey(parsed)).toBe(k.publicSsh);
    expect(parseSshPublicKey('ssh-rsa AAAAB3NzaC1yc2E')).toBeNull();
    const sig = signBytes(k, 'hello');
    expect(verifyBytes(k.publicKey, 'hello', sig)).toBe(true);
    expect(verifyBytes(k.publicKey, 'hellO', sig)).toBe(false);
    expect(verifyBytes(k.publicKey, 'hello', 'not base64 at all')).toBe(false);
  });
});
