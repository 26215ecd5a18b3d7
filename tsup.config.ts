import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

// One small entry file and lazily loaded chunks, so `agence --version` pays for almost nothing
// beyond Node's own start-up.
export default defineConfig({
  entry: { agence: 'src/cli/main.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  outDir: 'dist',
  splitting: true,
  clean: true,
  sourcemap: false,
  minify: false,
  define: { __AGENCE_VERSION__: JSON.stringify(pkg.version) },
  // yaml's Node build is CommonJS and requires node built-ins; give the ESM bundle a `require`.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __agenceRequire } from 'node:module';\nconst require = __agenceRequire(import.meta.url);" },
  // Bundle zod and yaml: loading them file by file from node_modules costs more start-up time.
  noExternal: ['zod', 'yaml'],
});
