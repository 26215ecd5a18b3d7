import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { labelRank, parseItem, renderItem } from '../core/knowledgeItem.js';
import { fetchableMasterUrl } from '../core/masterUrl.js';
import { readManifest } from '../shard/manifest.js';
import { writeFileAtomic } from '../store/atomic.js';
import { type KnowledgeContext, openIndex, resolveItem, visibility } from './knowledge.js';
import { loadYaml } from './knowledgeIndex.js';

/**
 * `^promote <id>`: propose a shard's item to the org's master for review. It is committed on a
 * branch `agence/promote/<shard>/<id>` of a temporary clone of the master (the user's own
 * repositories and branches are never touched) and that branch is pushed; the item's front
 * matter records the proposal. Once merged upstream and pulled, the master's copy in base/ takes
 * the path over and the local copy is marked superseded (see `landPromotions`).
 */

export interface Promotion {
  id: string;
  branch: string;
  master: string;
  commit: string;
  path: string;
}

export async function promoteItem(ctx: KnowledgeContext, id: string): Promise<Promotion> {
  const manifest = readManifest(ctx.shard);
  if (!manifest.master) throw new AgenceError('usage', 'this shard has no master to promote to', { fix: 'set one with `agence ^init --master URL`' });
  const v = await visibility(ctx, { private: true, all: true });
  const { db } = await openIndex(ctx);
  let row;
  try {
    row = resolveItem(db, id, v).row;
  } finally {
    db.close();
  }
  if (row.layer !== 'synthetic' || row.origin !== 'local') {
    throw new AgenceError('conflict', `item ${id} is in ${row.path}; only the shard's own synthetic items are promoted`, { fix: row.layer === 'hermetic' ? 'share it first (`agence ^share`)' : 'promote a lesson, doc, plan or fault of .agence/synthetic/' });
  }
  if (labelRank(row.label) > labelRank('internal')) throw new AgenceError('refused', `item ${id} is labelled ${row.label}: nothing above internal leaves this machine`);
  const file = join(ctx.shard.root, row.path);
  const yaml = await loadYaml();
  const parsed = parseItem(readFileSync(file, 'utf8'), row.path, yaml);
  // The label of what is sent, not of what the index last saw: the file may have been edited since.
  if (labelRank(parsed.item.label) > labelRank('internal')) throw new AgenceError('refused', `item ${id} is labelled ${parsed.item.label} in ${row.path}: nothing above internal leaves this machine`);
  const inMaster = row.path.replace(/^\.agence\//, '');
  const branch = `agence/promote/${ctx.shardName}/${id}`;
  const url = fetchableMasterUrl(manifest.master.url, ctx.shard.root);
  const { git } = await import('../git/git.js');
  const temp = mkdtempSync(join(tmpdir(), 'agence-promote-'));
  try {
    const clone = join(temp, 'master');
    await git(['-c', 'protocol.ext.allow=never', 'clone', '--quiet', '--', url, clone], { cwd: temp });
    await git(['checkout', '--quiet', '-b', branch], { cwd: clone });
    const proposed = { ...parsed.item };
    delete proposed.promoted;
    mkdirSync(dirname(join(clone, inMaster)), { recursive: true });
    writeFileAtomic(join(clone, inMaster), renderItem(proposed, parsed.body, yaml));
    await git(['add', '--', inMaster], { cwd: clone });
    await git(['commit', '--quiet', '--no-verify', '-m', `Promote ${parsed.item.type} ${id} from shard ${ctx.shardName}: ${parsed.item.title}`], { cwd: clone });
    const commit = await git(['rev-parse', 'HEAD'], { cwd: clone });
    await git(['-c', 'protocol.ext.allow=never', 'push', '--quiet', 'origin', `refs/heads/${branch}:refs/heads/${branch}`], { cwd: clone });
    const promoted = { branch, master: manifest.master.url, commit, at: ctx.now().toISOString() };
    writeFileAtomic(file, renderItem({ ...parsed.item, promoted }, parsed.body, yaml));
    return { id, branch, master: manifest.master.url, commit, path: inMaster };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
