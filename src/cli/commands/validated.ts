import { usageOf } from '../../core/commandTemplate.js';
import { requireShard } from '../../shard/layout.js';
import { terminalAsk } from '../output.js';
import type { Handler } from '../types.js';

/** `agence /` lists the validated commands; `agence /<name> [args]` runs one through the guard. */
export const run: Handler = async (inv) => {
  const paths = requireShard(inv.cwd);
  const { readCommands, runValidated } = await import('../../guard/validatedCommands.js');
  const [name, ...rest] = inv.args;
  // `agence /test -- --watch`: a leading `--` only separates agence's options from the command's.
  const args = rest[0] === '--' ? rest.slice(1) : rest;
  if (name === undefined) {
    const commands = await readCommands(paths);
    const rows = Object.entries(commands).map(([n, entry]) => ({ name: n, usage: usageOf(n, entry), tier: entry.tier, description: entry.description, argv: entry.argv }));
    const width = Math.max(0, ...rows.map((r) => r.usage.length));
    return { data: rows, text: rows.map((r) => `${r.usage.padEnd(width)}  ${r.tier}  ${r.description}`).join('\n') };
  }
  const { configGet } = await import('../../git/git.js');
  const actor = inv.env.AGENCE_AGENT || (await configGet(paths.root, 'user.email')) || 'unknown';
  const outcome = await runValidated(paths, { name, args, cwd: inv.cwd, env: inv.env, actor, now: inv.now, ask: terminalAsk(inv.env, inv.json), capture: inv.json });
  const { decision } = outcome;
  const why = decision.reasons.filter((r) => r.tier === decision.tier).map((r) => `${r.rule ? `[${r.rule}] ` : ''}${r.reason}`).join('; ');
  const data = { ...outcome, decision: { tier: decision.tier, reasons: decision.reasons, grants: decision.grants } };
  switch (outcome.status) {
    case 'ran':
      return { data, text: '', exit: outcome.exit };
    case 'approval-requested':
      return {
        data,
        text: '',
        exit: 2,
        problem: `/${name} is ${decision.tier} (${why}): it needs a person's approval. Ask one to run \`agence ^approve ${outcome.approval}\`, then run the same command again (it then runs once). Approval id: ${outcome.approval}`,
      };
    case 'declined':
      return { data, text: '', exit: 2, problem: `/${name} not run: declined` };
    case 'refused':
      return { data, text: '', exit: 2, problem: `/${name} is ${decision.tier} and never runs here (${why})` };
  }
};
