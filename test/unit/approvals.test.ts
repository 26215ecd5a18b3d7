import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decideApproval, listApprovals, readApproval, requestApproval, useApproval } from '../../src/guard/approvals.js';
import { shardPaths } from '../../src/shard/layout.js';

const root = mkdtempSync(join(tmpdir(), 'agence-approvals-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const paths = shardPaths({ root, mainRoot: root });
const t = (m: number) => new Date(Date.UTC(2026, 10, 25, 0, m));
const request = (id: string) => ({ id, kind: 'command' as const, subject: 'git push origin main', requestedBy: 'claude', data: { argv: ['git', 'push', 'origin', 'main'] } });

describe('approvals (nexus/approvals/)', () => {
  it('files a request once; filing the same id returns the one there', () => {
    const first = requestApproval(paths, request('cmd-0000000001'), t(0));
    expect(first).toMatchObject({ status: 'pending', requested_by: 'claude', created: t(0).toISOString() });
    expect(requestApproval(paths, { ...request('cmd-0000000001'), subject: 'other' }, t(1)).subject).toBe('git push origin main');
    expect(listApprovals(paths, 'pending').map((a) => a.id)).toEqual(['cmd-0000000001']);
  });

  it('is decided once, then used once', () => {
    expect(useApproval(paths, 'cmd-0000000001', t(2))).toBe(false); // still pending
    expect(decideApproval(paths, 'cmd-0000000001', 'approved', 'ann@example.com', t(3))).toMatchObject({ status: 'approved', decided_by: 'ann@example.com' });
    expect(() => decideApproval(paths, 'cmd-0000000001', 'denied', 'bob@example.com', t(4))).toThrow(/already approved by ann@example.com/);
    expect(useApproval(paths, 'cmd-0000000001', t(5))).toBe(true);
    expect(useApproval(paths, 'cmd-0000000001', t(6))).toBe(false);
    expect(readApproval(paths, 'cmd-0000000001')?.used_at).toBe(t(5).toISOString());
  });

  it('refuses ids that could reach outside the folder, and unknown ids', () => {
    expect(() => readApproval(paths, '../../etc/passwd')).toThrow(/not an approval id/);
    expect(() => decideApproval(paths, 'cmd-ffffffffff', 'approved', 'x', t(7))).toThrow(/no approval request/);
  });

  it('a damaged request file is corrupt data, named', () => {
    writeFileSync(join(paths.nexus, 'approvals', 'cmd-0000000002.json'), '{"schema":1}');
    expect(() => readApproval(paths, 'cmd-0000000002')).toThrow(/cmd-0000000002\.json is malformed/);
  });
});
