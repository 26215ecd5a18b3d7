import { initShard } from '../../shard/init.js';
import { ensureTaskMergeDriver } from '../../swarm/taskMergeDriver.js';
import { selfCommand } from '../selfCommand.js';
import type { Handler } from '../types.js';

export const run: Handler = async (inv) => {
  const result = await initShard({
    cwd: inv.cwd,
    env: inv.env,
    now: inv.now(),
    ...(typeof inv.opts.name === 'string' ? { name: inv.opts.name } : {}),
    ...(typeof inv.opts.org === 'string' ? { org: inv.opts.org } : {}),
    ...(typeof inv.opts.master === 'string' ? { master: inv.opts.master } : {}),
  });
  // Every clone runs ^init once (it registers the shard); that is also when git learns the
  // task merge driver, since git config is not cloned (docs/tasks.md).
  const driver = await ensureTaskMergeDriver(result.paths, selfCommand(), inv.env);
  if (driver.includes('.gitattributes')) result.created.push('.gitattributes');
  if (driver.length > 0) result.changed = true;
  const { shard, master } = result.manifest;
  const s = inv.style;
  const lines: string[] = [];
  if (!result.changed) {
    lines.push(`Shard ${s.bold(shard.name)} is already initialised in ${result.paths.root}: nothing changed.`);
  } else if (result.manifestCreated) {
    lines.push(`Initialised shard ${s.bold(shard.name)} (org ${shard.org}, id ${shard.id}) in ${result.paths.root}`);
    lines.push(`  created ${result.created.length} entries under .agence/ (codex, synthetic, organic, globalcache; nexus and hermetic stay local)`);
  } else {
    lines.push(`Shard ${s.bold(shard.name)} was already initialised; restored what was missing:`);
    lines.push(...result.created.map((p) => `  + .agence/${p}`));
  }
  if (driver.includes('git config') && !result.manifestCreated) lines.push('  git config: registered the task merge driver (merge.agence-task)');
  if (result.registry !== 'unchanged') lines.push(`  registry: ${result.registry === 'added' ? 'registered' : 'updated'} in the shard registry`);
  if (master && result.manifestCreated) lines.push(`  master: ${master.url}; next: ${s.cyan('agence ^pull')}`);
  if (result.manifestCreated) lines.push(`  commit .agence/ to share it with your team: git add .agence && git commit -m "agence: init shard"`);
  return {
    data: {
      ok: true,
      changed: result.changed,
      shard,
      root: result.paths.root,
      master: master?.url ?? null,
      created: result.created,
      registry: result.registry,
      merge_driver: driver,
    },
    text: lines.join('\n'),
  };
};
