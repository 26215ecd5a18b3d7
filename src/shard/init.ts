import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { normaliseMasterUrl } from '../core/masterUrl.js';
import { MASTER_LAYERS, type Manifest, NAME_RE } from '../core/schemas.js';
import { checkIgnore, configGet } from '../git/git.js';
import { writeFileAtomic } from '../store/atomic.js';
import { requireRepo, type ShardPaths, shardPaths } from './layout.js';
import { readManifest, writeManifest } from './manifest.js';
import { type RegisterOutcome, readRegistry, registerShard } from './registry.js';
import { signingKey } from './keys.js';
import { copyTemplate, ensureDirs, readTemplate } from './templates.js';
import { addTrustedKey } from './trust.js';

/** Versioned folders of a shard, kept in git with a `.gitkeep` while empty. */
export const VERSIONED_DIRS = [
  'synthetic/lessons',
  'synthetic/docs',
  'synthetic/plans',
  'synthetic/faults',
  'organic/tasks',
  'organic/workflows',
  'organic/sequents',
  'globalcache',
] as const;

/** Local-only folders, never committed; in a linked worktree they live in the main worktree's `.agence/`. */
export const NEXUS_DIRS = ['sessions', 'logs', 'faults', 'buffers'] as const;
export const HERMETIC_DIRS = ['lessons', 'docs', 'keys'] as const;

/** What `.agence/.gitignore` must hold; `^doctor` checks git really applies it. */
export const IGNORED_DIRS = ['nexus', 'hermetic', 'base'] as const;
export const GITIGNORE = `# agence: local state, never committed (DESIGN §2)
/nexus/
/hermetic/
/base/
*.agence-tmp
`;

export interface InitInput {
  cwd: string;
  env: NodeJS.ProcessEnv;
  now: Date;
  name?: string;
  org?: string;
  master?: string;
}

export interface InitResult {
  paths: ShardPaths;
  manifest: Manifest;
  /** Paths created under `.agence/`; empty when the shard was already complete. */
  created: string[];
  manifestCreated: boolean;
  registry: RegisterOutcome;
  changed: boolean;
}

function validName(value: string, flag: string): string {
  if (!NAME_RE.test(value)) {
    throw new AgenceError('usage', `${flag} "${value}" is not a valid name`, {
      fix: 'use lowercase letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit)',
    });
  }
  return value;
}

/** A repository folder name as a shard name: `My Repo` -> `my-repo`. */
export function slugName(raw: string): string {
  const slug = raw.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64);
  return slug === '' ? 'shard' : slug;
}

/** The owner part of an origin URL (`git@github.com:acme/web.git` -> `acme`), when it is a valid name. */
export function orgFromRemote(url: string | null): string | null {
  if (!url) return null;
  const path = url.replace(/^[a-z+]+:\/\/[^/]+\//i, '').replace(/^[^@/]+@[^:]+:/, '');
  const owner = path.split('/').filter((p) => p !== '').slice(-2, -1)[0];
  const slug = owner ? slugName(owner) : null;
  return slug && NAME_RE.test(slug) ? slug : null;
}

function assertNoConflict(manifest: Manifest, input: InitInput, master: string | undefined): void {
  const conflicts: string[] = [];
  if (input.name !== undefined && input.name !== manifest.shard.name) conflicts.push(`--name (it is "${manifest.shard.name}")`);
  if (input.org !== undefined && input.org !== manifest.shard.org) conflicts.push(`--org (it is "${manifest.shard.org}")`);
  if (master !== undefined && master !== manifest.master?.url) conflicts.push(`--master (it is ${manifest.master ? `"${manifest.master.url}"` : 'not set'})`);
  if (conflicts.length > 0) {
    throw new AgenceError('conflict', `this shard is already initialised with another ${conflicts.join(', ')}`, {
      fix: 'edit .agence/agence.json to change it, then run `agence ^pull` if the master changed',
    });
  }
}

/** The shard's trust.yaml names whoever initialised it as its first admin. */
function withFirstAdmin(content: string, name: string | null, email: string | null): string {
  if (!email) return content;
  const entry = `admins:\n  - name: ${JSON.stringify(name ?? email)}\n    email: ${JSON.stringify(email)}\n    keys: []`;
  return content.replace(/^admins:\s*\[\]/m, entry);
}

/**
 * `^init`: create what is missing of the `.agence/` layout and register the shard. Everything that
 * can fail on bad input is checked before anything is written; a second run creates nothing.
 */
export async function initShard(input: InitInput): Promise<InitResult> {
  const repo = requireRepo(input.cwd);
  const paths = shardPaths(repo);
  if (input.name !== undefined) validName(input.name, '--name');
  if (input.org !== undefined) validName(input.org, '--org');
  const master = input.master === undefined ? undefined : normaliseMasterUrl(input.master, input.cwd, paths.root);
  readRegistry(input.env); // a corrupt registry stops us before anything is written

  const existing = existsSync(paths.manifest) ? readManifest(paths) : null;
  if (existing) assertNoConflict(existing, input, master);

  const created: string[] = [];
  let manifest: Manifest;
  if (existing) {
    manifest = existing;
  } else {
    const origin = await configGet(paths.root, 'remote.origin.url');
    manifest = {
      schema: 1,
      shard: {
        id: randomBytes(6).toString('hex'),
        name: input.name ?? slugName(basename(paths.root)),
        org: input.org ?? orgFromRemote(origin) ?? 'local',
      },
      master: master === undefined ? null : { url: master, ref: 'HEAD', layers: [...MASTER_LAYERS] },
      exchange: { remote: null },
      default_agent: 'sonya',
    };
  }

  // The ignore rules come first, and are proven, before any local-only folder exists.
  const gitignoreText = existsSync(paths.gitignore) ? readFileSync(paths.gitignore, 'utf8') : null;
  const missingRules = GITIGNORE.split('\n').filter((line) => line !== '' && !line.startsWith('#') && !(gitignoreText ?? '').split('\n').includes(line));
  if (gitignoreText === null) {
    writeFileAtomic(paths.gitignore, GITIGNORE);
    created.push('.gitignore');
  } else if (missingRules.length > 0) {
    writeFileAtomic(paths.gitignore, `${gitignoreText.replace(/\n?$/, '\n')}${missingRules.join('\n')}\n`);
    created.push('.gitignore');
  }
  await assertIgnored(paths);

  if (!existing) {
    writeManifest(paths, manifest);
    created.push('agence.json');
  }
  const codexDir = join(paths.agence, 'codex');
  if (manifest.master) {
    if (!existsSync(join(codexDir, 'README.md'))) {
      writeFileAtomic(join(codexDir, 'README.md'), readTemplate('shard/codex-README.md'));
      created.push('codex/README.md');
    }
  } else {
    const [name, email] = await Promise.all([configGet(paths.root, 'user.name'), configGet(paths.root, 'user.email')]);
    const copied = copyTemplate('codex', codexDir, (relPath, content) => (relPath === 'trust.yaml' ? withFirstAdmin(content, name, email) : content));
    created.push(...copied.map((p) => `codex/${p}`));
  }
  created.push(...ensureDirs(paths.agence, VERSIONED_DIRS, true));
  created.push(...ensureDirs(paths.nexus, NEXUS_DIRS, false, 0o700).map((p) => `nexus/${p}`));
  created.push(...ensureDirs(paths.hermetic, HERMETIC_DIRS, false, 0o700).map((p) => `hermetic/${p}`));
  // The shard's signing key (made on first use, in hermetic/keys) is listed in its trust.yaml, so
  // once committed, other clones and shards can verify the handoffs it signs.
  if (addTrustedKey(paths, manifest.shard, signingKey(paths).publicSsh)) {
    if (!created.includes('codex/trust.yaml')) created.push('codex/trust.yaml');
  }

  const registry = registerShard(
    input.env,
    { id: manifest.shard.id, name: manifest.shard.name, org: manifest.shard.org, path: paths.mainRoot, master: manifest.master?.url ?? null },
    input.now,
  );
  return { paths, manifest, created, manifestCreated: !existing, registry, changed: created.length > 0 || registry !== 'unchanged' };
}

/** Prove with git itself that nexus/, hermetic/ and base/ are ignored (a negation rule could undo ours). */
export async function unignoredDirs(paths: ShardPaths): Promise<string[]> {
  const probes = IGNORED_DIRS.map((dir) => `.agence/${dir}/probe`);
  const ignored = await checkIgnore(paths.root, probes);
  return IGNORED_DIRS.filter((_, i) => !ignored.has(probes[i] as string)).map((dir) => `.agence/${dir}/`);
}

async function assertIgnored(paths: ShardPaths): Promise<void> {
  const missing = await unignoredDirs(paths);
  if (missing.length > 0) {
    throw new AgenceError('conflict', `git does not ignore ${missing.join(', ')} although .agence/.gitignore lists them`, {
      fix: 'remove the negation rule (a line starting with "!") that re-includes them from your .gitignore files',
    });
  }
}
