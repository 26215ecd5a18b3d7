// Tangent create + destroy against plain `git worktree add` + `git worktree remove` (and the
// `git branch -D` that leaves the repository as it was), in the same run, on a repository of
// 2,000 source files (a worktree's cost is mostly checking the files out).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, interleaved, sandbox, sh } from './lib.mjs';

export const name = 'tangent';
const FILES = 2000;

function project(dir, env) {
  const repo = join(dir, 'project');
  sh('git', ['init', '-q', repo], { env });
  for (let i = 0; i < FILES; i++) {
    const folder = join(repo, 'src', `m${i % 40}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `f${i}.ts`), `export function f${i}(x: number): number {\n${'  x = x * 31 + 7;\n'.repeat(60)}  return x;\n}\n`);
  }
  sh('git', ['add', '.'], { cwd: repo, env });
  sh('git', ['commit', '-qm', 'project'], { cwd: repo, env });
  sh(process.execPath, [CLI, '^init'], { cwd: repo, env });
  sh('git', ['add', '.'], { cwd: repo, env });
  sh('git', ['commit', '-qm', 'shard'], { cwd: repo, env });
  return repo;
}

export function run({ rounds }) {
  const { dir, env } = sandbox();
  const repo = project(dir, env);
  const at = { cwd: repo, env, stdio: 'ignore' };
  const plainPath = join(dir, 'plain-worktree');
  const cases = [
    {
      name: 'git worktree add + remove',
      run: () => {
        sh('git', ['worktree', 'add', '--quiet', '-b', 'plain/bench', plainPath], at);
        sh('git', ['worktree', 'remove', plainPath], at);
        sh('git', ['branch', '-D', '--quiet', 'plain/bench'], at);
      },
    },
    {
      name: 'tangent create + destroy',
      target: 1.5,
      run: () => {
        sh(process.execPath, [CLI, '^tangent', 'create', 'bench'], at);
        sh(process.execPath, [CLI, '^tangent', 'destroy', 'bench'], at);
      },
    },
  ];
  const results = interleaved(cases, { rounds: Math.max(10, Math.round(rounds / 2)) });
  const baseline = results[0].median_ms;
  return results.map((r, i) => ({ ...r, baseline: cases[0].name.slice(0, 12), ratio: i === 0 ? null : r.median_ms / baseline, target: cases[i].target ?? null }));
}
