import { existsSync } from 'node:fs';
import { AgenceError } from '../core/errors.js';
import { gitVersion } from '../git/git.js';
import { readEffective } from './effectiveView.js';
import { listLayer } from './layerFiles.js';
import { unignoredDirs } from './init.js';
import type { ShardPaths } from './layout.js';
import { type BaseState, readBaseMarker, readLock, readManifest } from './manifest.js';
import { isMissing, readRegistry, registryPath } from './registry.js';

export type Severity = 'ok' | 'warn' | 'fail';

export interface Finding {
  check: string;
  severity: Severity;
  message: string;
  /** How to fix it; absent when there is nothing to fix. */
  fix?: string;
  /** Corrupt data, as opposed to a setup problem: makes `^doctor` exit 3. */
  integrity?: boolean;
}

const MIN_GIT = [2, 28];

function fromError(check: string, error: unknown): Finding {
  if (error instanceof AgenceError) {
    return { check, severity: 'fail', message: error.message, ...(error.fix ? { fix: error.fix } : {}), integrity: error.code === 'corrupt' };
  }
  return { check, severity: 'fail', message: (error as Error).message };
}

async function checkGit(cwd: string): Promise<Finding> {
  try {
    const version = await gitVersion(cwd);
    const [major = 0, minor = 0] = version.split('.').map(Number);
    const ok = major > (MIN_GIT[0] as number) || (major === MIN_GIT[0] && minor >= (MIN_GIT[1] as number));
    return ok
      ? { check: 'git', severity: 'ok', message: `git ${version}` }
      : { check: 'git', severity: 'fail', message: `git ${version} is older than ${MIN_GIT.join('.')}`, fix: 'upgrade git' };
  } catch (error) {
    return fromError('git', error);
  }
}

async function checkIgnores(paths: ShardPaths): Promise<Finding> {
  if (!existsSync(paths.gitignore)) {
    return { check: 'ignore', severity: 'fail', message: '.agence/.gitignore is missing, so local state could be committed', fix: 'run `agence ^init` to restore it' };
  }
  const missing = await unignoredDirs(paths);
  return missing.length === 0
    ? { check: 'ignore', severity: 'ok', message: 'nexus/, hermetic/ and base/ are ignored by git' }
    : {
        check: 'ignore',
        severity: 'fail',
        message: `git does not ignore ${missing.join(', ')}`,
        fix: 'run `agence ^init` to restore .agence/.gitignore, and remove any "!" rule that re-includes them',
      };
}

function checkLock(paths: ShardPaths, ensured: BaseState | Error | null): Finding[] {
  const manifest = readManifest(paths);
  const lock = readLock(paths);
  if (!manifest.master) return [{ check: 'master', severity: 'ok', message: 'no master: this shard stands alone' }];
  if (!lock) return [{ check: 'lock', severity: 'fail', message: `master ${manifest.master.url} is set but not pulled yet`, fix: 'run `agence ^pull`' }];
  const findings: Finding[] = [];
  if (lock.master.url !== manifest.master.url || lock.master.ref !== manifest.master.ref) {
    findings.push({
      check: 'lock',
      severity: 'warn',
      message: `agence.lock was pinned from ${lock.master.url} (${lock.master.ref}) but agence.json now names ${manifest.master.url} (${manifest.master.ref})`,
      fix: 'run `agence ^pull` to pin the new master',
    });
  }
  if (ensured instanceof Error) {
    findings.push(fromError('base', ensured));
    return findings;
  }
  const marker = readBaseMarker(paths);
  findings.push(
    marker?.commit === lock.master.commit
      ? { check: 'base', severity: 'ok', message: `base/ holds the locked master commit ${lock.master.commit.slice(0, 12)}` }
      : { check: 'base', severity: 'fail', message: 'base/ does not match agence.lock', fix: 'run `agence ^pull --locked`' },
  );
  return findings;
}

/** Every layered file must read cleanly, and no local file may weaken its base. */
function checkLayers(paths: ShardPaths): Finding[] {
  const findings: Finding[] = [];
  const files = listLayer(paths, 'codex');
  for (const file of files) {
    try {
      const effective = readEffective(paths, 'codex', file.path);
      for (const f of effective.findings) {
        findings.push({
          check: 'codex',
          severity: f.kind === 'item-problem' ? 'warn' : 'fail',
          message: `codex/${file.path}: ${f.message}`,
          fix: f.kind.startsWith('law') ? 'keep base laws word for word in the local LAWS.md, or list only the laws you add' : `edit .agence/codex/${file.path}`,
        });
      }
    } catch (error) {
      findings.push(fromError('codex', error));
    }
  }
  if (findings.length === 0) findings.push({ check: 'codex', severity: 'ok', message: `${files.length} codex files read cleanly; no base law or policy is weakened` });
  return findings;
}

function checkRegistry(paths: ShardPaths, env: NodeJS.ProcessEnv): Finding[] {
  try {
    const registry = readRegistry(env);
    const findings: Finding[] = [];
    if (!registry.shards.some((s) => s.path === paths.mainRoot)) {
      findings.push({ check: 'registry', severity: 'warn', message: `this shard is not in ${registryPath(env)}`, fix: 'run `agence ^init` to register it' });
    }
    for (const entry of registry.shards.filter(isMissing)) {
      findings.push({ check: 'registry', severity: 'warn', message: `registered shard ${entry.name} no longer exists at ${entry.path}`, fix: 'run `agence ^shards --prune`' });
    }
    if (findings.length === 0) findings.push({ check: 'registry', severity: 'ok', message: `${registry.shards.length} registered shard${registry.shards.length === 1 ? '' : 's'}, all present` });
    return findings;
  } catch (error) {
    return [fromError('registry', error)];
  }
}

/** `^doctor`: every check, passing ones included, each problem with its fix. */
export async function diagnose(paths: ShardPaths, env: NodeJS.ProcessEnv, ensured: BaseState | Error | null): Promise<Finding[]> {
  const findings: Finding[] = [await checkGit(paths.root)];
  try {
    readManifest(paths);
  } catch (error) {
    // Nothing else can be judged without a manifest.
    return [...findings, fromError('manifest', error), ...checkRegistry(paths, env)];
  }
  findings.push({ check: 'manifest', severity: 'ok', message: '.agence/agence.json is valid' });
  findings.push(await checkIgnores(paths));
  try {
    findings.push(...checkLock(paths, ensured));
  } catch (error) {
    findings.push(fromError('lock', error));
  }
  findings.push(...checkLayers(paths));
  findings.push(...checkRegistry(paths, env));
  return findings;
}
