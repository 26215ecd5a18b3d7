import { ExitCode } from '../../core/errors.js';
import { diagnose } from '../../shard/doctor.js';
import { requireShard } from '../../shard/layout.js';
import { repairStore, sessionFindings } from '../../sessions/sessions.js';
import type { Handler } from '../types.js';
import { selfCommand } from '../selfCommand.js';
import { sessionContext } from '../sessionContext.js';

export const run: Handler = async (inv) => {
  const paths = requireShard(inv.cwd);
  const findings = await diagnose(paths, inv.env, inv.base);
  // Without a readable manifest (already a finding) the session store is not looked at.
  if (findings.every((f) => f.check !== 'manifest' || f.severity === 'ok')) {
    const { ctx } = await sessionContext(inv);
    if (inv.opts.repair) {
      const repaired = repairStore(ctx);
      for (const file of repaired.quarantined) inv.notify(`moved damaged session lines aside into nexus/sessions/${file}`);
    }
    findings.push(...sessionFindings(ctx));
    const { tangentFindings } = await import('../../swarm/tangents.js');
    findings.push(...(await tangentFindings({ paths, now: inv.now }, Boolean(inv.opts.repair))));
    const { taskDriverFinding } = await import('../../swarm/taskMergeDriver.js');
    findings.push(await taskDriverFinding(paths, selfCommand(), inv.env, Boolean(inv.opts.repair)));
  }
  const s = inv.style;
  const mark = { ok: s.green('ok  '), warn: s.yellow('warn'), fail: s.red('FAIL') };
  const lines = findings.map((f) => `${mark[f.severity]}  ${f.check.padEnd(9)} ${f.message}${f.fix ? `\n                fix: ${f.fix}` : ''}`);
  const problems = findings.filter((f) => f.severity !== 'ok').length;
  lines.push('', problems === 0 ? s.green('No problems found.') : `${problems} finding${problems === 1 ? '' : 's'}.`);
  const exit = findings.some((f) => f.integrity) ? ExitCode.integrity : findings.some((f) => f.severity === 'fail') ? ExitCode.user : ExitCode.ok;
  return { data: { ok: exit === ExitCode.ok, findings }, text: lines.join('\n'), exit };
};
