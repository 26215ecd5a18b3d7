import { describe, expect, it } from 'vitest';
import { fetchableMasterUrl, masterUrlKind, masterUrlProblem, normaliseMasterUrl } from '../../src/core/masterUrl.js';

describe('master URLs', () => {
  it('tells remote URLs from paths', () => {
    for (const url of ['https://git.example.com/acme/master.git', 'ssh://git@host/acme/m.git', 'git://127.0.0.1:9418/m', 'file:///srv/m.git', 'git@github.com:acme/m.git']) {
      expect(masterUrlKind(url), url).toBe('remote');
      expect(masterUrlProblem(url), url).toBeNull();
    }
    expect(masterUrlKind('/srv/master')).toBe('absolute-path');
    expect(masterUrlKind('../master')).toBe('relative-path');
  });

  it('refuses what git would run or read as an option', () => {
    expect(masterUrlProblem('--upload-pack=touch /tmp/x')).toContain('option');
    expect(masterUrlProblem('ext::sh -c touch% /tmp/x')).toContain('ext::');
    expect(masterUrlProblem('https://user:secret@host/m.git')).toContain('password');
    expect(masterUrlProblem('ftp://host/m')).toContain('ftp://');
    expect(masterUrlProblem('')).toBe('it is empty');
    expect(masterUrlProblem('a\nb')).toContain('control');
  });

  it('stores relative paths relative to the shard root and resolves them back', () => {
    expect(normaliseMasterUrl('../master', '/work/web/src', '/work/web')).toBe('master');
    expect(normaliseMasterUrl('../../master', '/work/web/src', '/work/web')).toBe('../master');
    expect(normaliseMasterUrl('/srv/master', '/work/web', '/work/web')).toBe('/srv/master');
    expect(fetchableMasterUrl('../master', '/work/web')).toBe('/work/master');
    expect(fetchableMasterUrl('git@host:m.git', '/work/web')).toBe('git@host:m.git');
    expect(() => normaliseMasterUrl('-x', '/w', '/w')).toThrow(/cannot be used/);
  });
});
