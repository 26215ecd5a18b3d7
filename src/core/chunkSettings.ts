import * as z from './zod.js';

/**
 * Which tracked files the code index reads, and how big its chunks are: the `chunk` key of
 * `.agence/agence.json`. Pure: globs and rules, no file access.
 */

export const ChunkSettingsSchema = z.deferred(() => z.object({
  /** Globs of paths to index (default: every tracked file). */
  include: z._default(z.array(z.string().check(z.minLength(1))), ['**']),
  /** Globs of paths never to index, on top of the defaults below. */
  exclude: z._default(z.array(z.string().check(z.minLength(1))), []),
  /** Keep the default exclusions (vendored and generated code); false indexes them too. */
  default_excludes: z._default(z.boolean(), true),
  /** Larger files are not read. */
  max_file_bytes: z._default(z.int().check(z.positive()), 1024 * 1024),
  /** A declaration longer than this is split at its children's boundaries. */
  max_lines: z._default(z.int().check(z.gte(10), z.lte(2000)), 150),
  /** Neighbouring small chunks are merged while the merged chunk stays within this. */
  merge_lines: z._default(z.int().check(z.gte(0), z.lte(500)), 12),
  /** Lines per window for files in languages without a grammar. */
  window_lines: z._default(z.int().check(z.gte(5), z.lte(2000)), 60),
}));
export type ChunkSettings = z.infer<typeof ChunkSettingsSchema>;

/**
 * Vendored and generated code: other people's code, or code nobody reads. Lock files and
 * source maps are generated too.
 */
const DEFAULT_EXCLUDES: readonly string[] = [
  '**/node_modules/**',
  '**/vendor/**',
  '**/third_party/**',
  '**/third-party/**',
  '**/bower_components/**',
  '**/dist/**',
  '**/build/**',
  '**/out/**',
  '**/target/**',
  '**/__pycache__/**',
  '**/.venv/**',
  '*.min.js',
  '*.min.css',
  '*.map',
  '*.lock',
  'package-lock.json',
  'pnpm-lock.yaml',
  'go.sum',
  '*.pb.go',
  '*_pb2.py',
  '*.generated.*',
  '*.g.dart',
];

/** File endings that are never text worth indexing (a NUL byte also marks a file as binary). */
const BINARY_EXTENSIONS = new Set(
  'png jpg jpeg gif bmp ico webp avif tiff psd pdf zip gz tgz bz2 xz zst 7z rar jar war class so dylib dll exe o a lib obj wasm woff woff2 ttf otf eot mp3 mp4 wav ogg flac mov avi mkv webm sqlite db bin dat pyc'.split(' '),
);

export function hasBinaryExtension(path: string): boolean {
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('/') && BINARY_EXTENSIONS.has(path.slice(dot + 1).toLowerCase());
}

const globCache = new Map<string, RegExp>();

/**
 * A glob as gitignore writes them: `*` within a path segment, `**` across segments, `?` one
 * character; a pattern without `/` matches the file name in any folder.
 */
export function globToRegExp(glob: string): RegExp {
  const known = globCache.get(glob);
  if (known) return known;
  const anchored = glob.includes('/') ? glob.replace(/^\//, '') : `**/${glob}`;
  let re = '';
  for (let i = 0; i < anchored.length; i++) {
    const c = anchored[i] as string;
    if (c === '*' && anchored[i + 1] === '*') {
      const slash = anchored[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const compiled = new RegExp(`^${re}$`);
  globCache.set(glob, compiled);
  return compiled;
}

function matchesAny(path: string, globs: readonly string[]): boolean {
  return globs.some((g) => globToRegExp(g).test(path));
}

/** Whether the settings select `path` (before its size and content are known). */
export function selectsPath(settings: ChunkSettings, path: string): boolean {
  // agence's own files are never code: knowledge items carry labels the code index does not.
  if (path === '.agence' || path.startsWith('.agence/')) return false;
  if (!matchesAny(path, settings.include)) return false;
  if (settings.default_excludes && matchesAny(path, DEFAULT_EXCLUDES)) return false;
  return !matchesAny(path, settings.exclude);
}
