// The command guard: classification per command in-process over the corpus (target: median under
// 1 ms), and `agence ^guard hook claude` as Claude Code runs it, one process per Bash call
// (target: at most 1.5x `node -e 0`, measured side by side).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { CLI, interleaved, sandbox, sh } from './lib.mjs';

export const name = 'guard';

const root = resolve(import.meta.dirname, '..');
const corpus = JSON.parse(readFileSync(join(root, 'test/fixtures/guardCorpus.json'), 'utf8'));

/** The guard's classifier straight from the sources, bundled for this process. */
async function loadClassifier() {
  // Inside node_modules, so the bundle finds the wasm files of its dependencies.
  const out = mkdtempSync(join(root, 'node_modules', '.agence-bench-guard-'));
  const entry = `
    export { classifyScript } from ${JSON.stringify(join(root, 'src/core/commandGuard.ts'))};
    export { compilePolicy } from ${JSON.stringify(join(root, 'src/core/guardPolicy.ts'))};
    export { bashParser, parseScript } from ${JSON.stringify(join(root, 'src/guard/bashSyntax.ts'))};
    export { parse as parseYaml } from 'yaml';`;
  await build({ stdin: { contents: entry, resolveDir: root, loader: 'ts' }, bundle: true, platform: 'node', format: 'cjs', outfile: join(out, 'guard.cjs'), external: ['web-tree-sitter', 'yaml'], logLevel: 'warning', define: { 'import.meta.filename': '__filename', 'import.meta.dirname': '__dirname' } });
  const mod = createRequire(import.meta.url)(join(out, 'guard.cjs'));
  rmSync(out, { recursive: true, force: true });
  return mod;
}

function inProcess(g, parser) {
  const policy = g.compilePolicy(g.parseYaml(readFileSync(join(root, 'templates/codex/AIPOLICY.yaml'), 'utf8')), ['main', 'master']);
  const ctx = { cwd: '/work/repo', repoRoot: '/work/repo', home: '/home/dev', isAdmin: false };
  const parse = (script) => g.parseScript(parser, script);
  const commands = [...corpus.safe, ...corpus.risky.map((e) => e.command)];
  for (const c of commands) g.classifyScript(c, policy, parse, ctx); // warm-up
  const perCommand = commands.map((c) => {
    const times = [];
    for (let i = 0; i < 21; i++) {
      const start = process.hrtime.bigint();
      g.classifyScript(c, policy, parse, ctx);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return times.sort((a, b) => a - b)[10];
  });
  perCommand.sort((a, b) => a - b);
  const q = (p) => perCommand[Math.min(perCommand.length - 1, Math.floor(p * perCommand.length))];
  return { name: `classify in-process (${commands.length} cmds)`, runs: commands.length, median_ms: q(0.5), p90_ms: q(0.9), baseline: '1 ms', ratio: q(0.5) / 1, target: 1 };
}

export async function run({ rounds }) {
  const g = await loadClassifier();
  const rows = [inProcess(g, await g.bashParser())];

  const { dir, env } = sandbox();
  const node = process.execPath;
  const shard = join(dir, 'shard');
  sh('git', ['init', '-q', shard], { env });
  sh(node, [CLI, '^init'], { cwd: shard, env });
  const payload = (command) => JSON.stringify({ session_id: 'bench', cwd: shard, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command } });
  const hook = [CLI, '^guard', 'hook', 'claude'];
  const cases = [
    { name: 'node -e 0', cmd: node, args: ['-e', '0'], options: { cwd: shard, env } },
    { name: 'hook: git status', cmd: node, args: hook, options: { cwd: shard, env, input: payload('git status') }, target: 1.5 },
    { name: 'hook: pipeline + bash -c', cmd: node, args: hook, options: { cwd: shard, env, input: payload(`git log --oneline -5 | head -3 && bash -c 'rm -rf build' 2>/dev/null`) }, target: 1.5 },
  ];
  const results = interleaved(cases, { rounds });
  const baseline = results[0].median_ms;
  rows.push(...results.map((r, i) => ({ ...r, baseline: 'node -e 0', ratio: i === 0 ? null : r.median_ms / baseline, target: cases[i].target ?? null })));
  return rows;
}
