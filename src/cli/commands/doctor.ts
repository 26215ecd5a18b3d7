import { ExitCode } from '../../core/errors.js';
import { diagnose } from '../../shard/doctor.js';
import { requireShard } from '../../shard/layout.js';
import type { Handler } from '../types.js';

export const run: Handler = async (inv) => {
  const findings = await diagnose(requireShard(inv.cwd), inv.env, inv.base);
  const s = inv.style;
  const mark = { ok: s.green('ok  '), warn: s.yellow('warn'), fail: s.red('FAIL') };
  const lines = findings.map((f) => `${mark[f.severity]}  ${f.check.padEnd(9)} ${f.message}${f.fix ? `\n                fix: ${f.fix}` : ''}`);
  const problems = findings.filter((f) => f.severity !== 'ok').length;
  lines.push('', problems === 0 ? s.green('No problems found.') : `${problems} finding${problems === 1 ? '' : 's'}.`);
  const exit = findings.some((f) => f.integrity) ? ExitCode.integrity : findings.some((f) => f.severity === 'fail') ? ExitCode.user : ExitCode.ok;
  return { data: { ok: exit === ExitCode.ok, findings }, text: lines.join('\n'), exit };
};
