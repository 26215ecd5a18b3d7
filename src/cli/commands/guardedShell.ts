import { createInterface } from 'node:readline';
import { AgenceError } from '../../core/errors.js';
import { isTerminal, writeFd } from '../output.js';
import type { Handler } from '../types.js';

/** The `!` mode: `!bash` is the guarded shell; any other name is an agent launcher (`launch.ts`). */
export const run: Handler = async (inv) => {
  const [name, ...rest] = inv.args;
  if (name === undefined || name === '') throw new AgenceError('usage', '! needs the name of an agent or bash', { fix: 'e.g. `agence !bash` (the guarded shell), `agence !claude`, or `agence !sonya` (a persona with a launch: line)' });
  if (name !== 'bash') return (await import('./launch.js')).run(inv);
  if (Object.values(inv.opts).some((v) => v !== undefined)) throw new AgenceError('usage', '!bash takes no options (--tmux, --task are for agents)', { fix: 'run `agence !bash` and type commands, or pipe them in' });
  if (rest.length > 0) throw new AgenceError('usage', '!bash takes no arguments; it reads command lines from stdin', { fix: 'run `agence !bash` and type commands, or pipe them in' });
  const { loadGuard } = await import('../../guard/guard.js');
  const { runShellLine } = await import('../../guard/guardedShell.js');
  const { configGet } = await import('../../git/git.js');
  const guard = await loadGuard({ cwd: inv.cwd, env: inv.env, mentionsCodex: true });
  const actor = inv.env.AGENCE_AGENT || (guard.shard ? await configGet(guard.shard.root, 'user.email') : null) || 'unknown';
  const interactive = process.stdin.isTTY === true && isTerminal(2);
  const lines = createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]();
  const prompt = () => interactive && writeFd(2, `${inv.style.dim('agence guard')} $ `);
  const ask = interactive && !inv.env.AGENCE_AGENT
    ? async (question: string) => {
        writeFd(2, `${question} [y/N] `);
        const answer = await lines.next();
        return !answer.done && /^y(es)?$/i.test(answer.value.trim());
      }
    : null;
  const shell = { guard, actor, env: inv.env, now: inv.now, ask, stdout: inv.json ? (2 as const) : ('inherit' as const) };
  const results = [];
  let exit = 0;
  prompt();
  for (let next = await lines.next(); !next.done; next = await lines.next()) {
    const line = next.value;
    if (line.trim() === 'exit') break;
    if (line.trim() !== '' && !line.trimStart().startsWith('#')) {
      const result = await runShellLine(shell, line);
      if (result.outcome === 'refused' || result.outcome === 'declined') {
        writeFd(2, `agence: ${result.outcome} (${result.decision?.tier}): ${result.decision?.reasons.filter((r) => r.tier === result.decision?.tier).map((r) => `${r.rule ? `[${r.rule}] ` : ''}${r.reason}`).join('; ')}\n`);
      }
      exit = result.exit;
      results.push({ line, tier: result.decision?.tier ?? null, outcome: result.outcome, exit: result.exit });
    }
    prompt();
  }
  return { data: results, text: '', exit };
};
