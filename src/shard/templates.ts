import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { AgenceError } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic.js';

/**
 * The built-in content set ships beside the code in `templates/`: `codex/` (the default CODEX),
 * `master/` (the rest of a new master repository) and `shard/` (files only a shard gets).
 */
let cachedRoot: string | null = null;

export function templatesRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = import.meta.dirname;
  for (;;) {
    const candidate = join(dir, 'templates');
    if (existsSync(join(candidate, 'codex', 'LAWS.md'))) return (cachedRoot = candidate);
    const parent = dirname(dir);
    if (parent === dir) {
      throw new AgenceError('corrupt', 'the agence installation has no templates/ folder', {
        fix: 'reinstall agence (`npm ci` in its checkout, or `npm i -g agence`)',
      });
    }
    dir = parent;
  }
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(relative(dir, full));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Copy a template folder into `target`, creating only what is missing: a file that exists (the
 * user's own, or an earlier copy) is never touched. Returns the paths created, relative to target.
 */
export function copyTemplate(name: string, target: string, transform?: (relPath: string, content: string) => string): string[] {
  const source = join(templatesRoot(), name);
  const created: string[] = [];
  for (const relPath of listFiles(source)) {
    const destination = join(target, relPath);
    if (existsSync(destination)) continue;
    const content = readFileSync(join(source, relPath), 'utf8');
    writeFileAtomic(destination, transform ? transform(relPath, content) : content);
    created.push(relPath);
  }
  return created;
}

export function readTemplate(relPath: string): string {
  return readFileSync(join(templatesRoot(), relPath), 'utf8');
}

/** Make each folder, with a `.gitkeep` when it must be versioned while still empty. */
export function ensureDirs(root: string, dirs: readonly string[], keep: boolean, mode?: number): string[] {
  const created: string[] = [];
  for (const dir of dirs) {
    const full = join(root, dir);
    if (!existsSync(full)) {
      mkdirSync(full, { recursive: true, ...(mode === undefined ? {} : { mode }) });
      if (!keep) created.push(`${dir}/`);
    }
    if (keep && readdirSync(full).length === 0) {
      writeFileAtomic(join(full, '.gitkeep'), '');
      created.push(`${dir}/.gitkeep`);
    }
  }
  return created;
}
