import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Registry, type RegistryEntry, RegistrySchema } from '../core/schemas.js';
import { formatJson, writeFileAtomic } from '../store/atomic.js';
import { readJsonFile } from '../store/files.js';
import { withFileLock } from '../store/lockFile.js';

/** `~/.config/agence/`, honouring XDG_CONFIG_HOME. */
export function configDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CONFIG_HOME;
  return xdg && xdg.startsWith('/') ? join(xdg, 'agence') : join(env.HOME || homedir(), '.config', 'agence');
}

export function registryPath(env: NodeJS.ProcessEnv): string {
  return join(configDir(env), 'shards.json');
}

export function readRegistry(env: NodeJS.ProcessEnv): Registry {
  const path = registryPath(env);
  return (
    readJsonFile(path, RegistrySchema, {
      fix: `fix it by hand, or move it aside (\`mv ${path} ${path}.bak\`) and run \`agence ^init\` in each shard to register it again`,
    }) ?? { schema: 1, shards: [] }
  );
}

/** Read-modify-write of the registry under its lock; writes only when something changed. */
function updateRegistry<T>(env: NodeJS.ProcessEnv, change: (registry: Registry) => { registry: Registry | null; result: T }): T {
  const path = registryPath(env);
  return withFileLock(path, () => {
    const { registry, result } = change(readRegistry(env));
    if (registry) writeFileAtomic(path, formatJson(registry));
    return result;
  });
}

export type RegisterOutcome = 'added' | 'updated' | 'unchanged';

export function registerShard(env: NodeJS.ProcessEnv, entry: Omit<RegistryEntry, 'registered'>, now: Date): RegisterOutcome {
  return updateRegistry(env, (registry) => {
    const existing = registry.shards.find((s) => s.path === entry.path);
    if (existing && existing.id === entry.id && existing.name === entry.name && existing.org === entry.org && existing.master === entry.master) {
      return { registry: null, result: 'unchanged' as const };
    }
    const shards = registry.shards.filter((s) => s.path !== entry.path);
    shards.push({ ...entry, registered: existing?.registered ?? now.toISOString() });
    shards.sort((a, b) => a.path.localeCompare(b.path));
    return { registry: { ...registry, shards }, result: existing ? ('updated' as const) : ('added' as const) };
  });
}

/** A registered shard whose folder (or manifest) is gone. */
export function isMissing(entry: Pick<RegistryEntry, 'path'>): boolean {
  return !existsSync(join(entry.path, '.agence', 'agence.json'));
}

export function pruneRegistry(env: NodeJS.ProcessEnv): RegistryEntry[] {
  return updateRegistry(env, (registry) => {
    const removed = registry.shards.filter(isMissing);
    if (removed.length === 0) return { registry: null, result: removed };
    return { registry: { ...registry, shards: registry.shards.filter((s) => !isMissing(s)) }, result: removed };
  });
}
