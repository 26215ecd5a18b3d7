import { requireAccess, type AccessAction } from '../../core/access.js';
import { AgenceError } from '../../core/errors.js';
import type { LedgerEntry } from '../../core/schemas.js';
import { countLedger, searchLedger, showLedger, tailLedger } from '../../ledger/ledgerRead.js';
import { checkRoot, proveConsistency, proveInclusion, publishRoot, publishedRoot } from '../../ledger/ledgerRoot.js';
import { repairLedger, verifyLedger } from '../../ledger/ledgerVerify.js';
import { resolveActor } from '../../shard/actor.js';
import { requireShard, type ShardPaths } from '../../shard/layout.js';
import { readManifest } from '../../shard/manifest.js';
import type { Handler, Invocation } from '../types.js';

/** The shard, its id and the actor, after the access check for `action` on this machine's NEXUS. */
async function ledgerContext(inv: Invocation, action: AccessAction): Promise<{ paths: ShardPaths; shardId: string; actor: string }> {
  const paths = requireShard(inv.cwd);
  const shardId = readManifest(paths).shard.id;
  const actor = await resolveActor(paths, inv.env);
  requireAccess(actor, action, { kind: 'nexus', owner: null, view: 'raw' });
  return { paths, shardId, actor: actor.id };
}

function count(value: unknown, name: string, min: number): number {
  if (typeof value !== 'string' || !/^[0-9]{1,15}$/.test(value) || Number(value) < min) {
    throw new AgenceError('usage', `${name} must be a whole number of at least ${min}, not "${String(value)}"`);
  }
  return Number(value);
}

function entryLine(e: LedgerEntry): string {
  return `${String(e.seq).padStart(6)}  ${e.ts}  ${e.actor}  ${e.action}  ${e.tier ?? '--'}  ${e.decision}  ${e.subject}`;
}

export const verify: Handler = async (inv) => {
  const { paths, shardId } = await ledgerContext(inv, 'read');
  const stop = inv.progress('verifying the ledger');
  const verdict = (() => {
    try {
      const parallelFrom = inv.env.AGENCE_LEDGER_PARALLEL_FROM;
      return verifyLedger(paths, publishedRoot(paths, shardId), parallelFrom === undefined ? {} : { parallelFrom: count(parallelFrom, 'AGENCE_LEDGER_PARALLEL_FROM', 0) });
    } finally {
      stop();
    }
  })();
  const notes = verdict.notes.map((n) => `  note: ${n}`);
  if (verdict.ok) {
    return { data: verdict, text: [`Ledger verified: ${verdict.entries} entries, ${verdict.bytes} bytes; every hash, mac and link checks out.`, ...notes].join('\n') };
  }
  const p = verdict.problem;
  return {
    data: verdict,
    text: [`Ledger does not verify: ${p?.message}`, `  ${verdict.entries} good entries before it; appends are refused until \`agence ^ledger repair\`.`, ...notes].join('\n'),
    exit: 3,
  };
};

export const tail: Handler = async (inv) => {
  const { paths } = await ledgerContext(inv, 'read');
  const entries = tailLedger(paths, inv.opts.n === undefined ? 10 : count(inv.opts.n, '-n', 1));
  return { data: { entries }, text: entries.length ? entries.map(entryLine).join('\n') : 'The ledger is empty.' };
};

export const show: Handler = async (inv) => {
  const { paths } = await ledgerContext(inv, 'read');
  const entry = showLedger(paths, count(inv.args[0], 'SEQ', 1));
  return { data: entry, text: JSON.stringify(entry, null, 2) };
};

export const countEntries: Handler = async (inv) => {
  const { paths } = await ledgerContext(inv, 'read');
  const entries = countLedger(paths);
  return { data: { entries }, text: String(entries) };
};

export const search: Handler = async (inv) => {
  const { paths } = await ledgerContext(inv, 'read');
  const text = inv.args[0];
  const actor = typeof inv.opts.actor === 'string' ? inv.opts.actor : undefined;
  const action = typeof inv.opts.action === 'string' ? inv.opts.action : undefined;
  if (text === undefined && actor === undefined && action === undefined) throw new AgenceError('usage', '^ledger search needs a TEXT, --actor or --action', { fix: 'e.g. `agence ^ledger search "git push" --actor claude`' });
  const limit = inv.opts.limit === undefined ? 50 : count(inv.opts.limit, '--limit', 1);
  const { entries, matched } = searchLedger(paths, { ...(text !== undefined ? { text } : {}), ...(actor !== undefined ? { actor } : {}), ...(action !== undefined ? { action } : {}), limit });
  const more = matched > entries.length ? `\n(${matched} matched; the last ${entries.length} shown, --limit N for more)` : '';
  return { data: { matched, entries }, text: entries.length ? entries.map(entryLine).join('\n') + more : 'No entry matches.' };
};

export const repair: Handler = async (inv) => {
  const { paths, actor } = await ledgerContext(inv, 'write');
  const result = repairLedger(paths, actor, inv.now());
  if (!result.repaired) return { data: result, text: 'The ledger verifies: nothing to repair.' };
  const moved = result.quarantined ? `moved ${result.movedLines} lines (${result.movedBytes} bytes) to ${result.quarantined}` : 'rebuilt the head from the verified entries (the old head kept beside it)';
  return { data: result, text: `Repaired: ${result.problem?.message}\n  ${moved}; nothing was deleted.\n  The chain continues at entry ${result.entry?.seq}, which records the repair.` };
};

export const root: Handler = async (inv) => {
  const { paths, shardId } = await ledgerContext(inv, 'write');
  const { root: published, consistent } = publishRoot(paths, shardId, inv.now());
  const lines = [`Published the ledger root to .agence/organic/ledger-root.json: ${published.tree_size} entries, root ${published.root_hash}`];
  if (consistent === true) lines.push(`  it extends the previous root of ${published.consistency?.from_size} entries (consistency proof included)`);
  if (consistent === false) lines.push('  warning: the ledger no longer extends the previous root (it was repaired); other shards will see that it did not only grow');
  lines.push('  commit it so other shards can check it: git add .agence/organic/ledger-root.json');
  return { data: { root: published, consistent }, text: lines.join('\n'), ...(consistent === false ? { problem: 'the new root does not extend the previous one' } : {}) };
};

export const prove: Handler = async (inv) => {
  const { paths, shardId } = await ledgerContext(inv, 'read');
  const size = inv.opts.size === undefined ? undefined : count(inv.opts.size, '--size', 0);
  if (inv.opts.from !== undefined) {
    if (inv.args[0] !== undefined) throw new AgenceError('usage', '^ledger prove takes a SEQ or --from N, not both');
    const proof = proveConsistency(paths, shardId, count(inv.opts.from, '--from', 0), size);
    return { data: proof, text: JSON.stringify(proof, null, 2) };
  }
  if (inv.args[0] === undefined) throw new AgenceError('usage', '^ledger prove needs the SEQ of an entry (or --from N for a consistency proof)');
  const proof = proveInclusion(paths, shardId, count(inv.args[0], 'SEQ', 1), size);
  return { data: proof, text: JSON.stringify(proof, null, 2) };
};

export const checkRootFile: Handler = async (inv) => {
  const paths = requireShard(inv.cwd);
  const ownId = readManifest(paths).shard.id;
  const result = checkRoot(paths, ownId, inv.args[0] as string, {
    ...(typeof inv.opts.proof === 'string' ? { proof: inv.opts.proof } : {}),
    ...(typeof inv.opts.old === 'string' ? { old: inv.opts.old } : {}),
  });
  const s = inv.style;
  const lines = result.checks.map((c) => `${c.ok ? s.green('ok  ') : s.red('FAIL')} ${c.name}: ${c.detail}`);
  lines.unshift(`Root of shard ${result.root.shard}: ${result.root.tree_size} entries, ${result.root.root_hash}`);
  return { data: result, text: lines.join('\n'), exit: result.ok ? 0 : 3 };
};
