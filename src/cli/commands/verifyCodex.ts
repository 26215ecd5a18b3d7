import { requireShard } from '../../shard/layout.js';
import { verifyCodexSignatures } from '../../shard/codexSignatures.js';
import type { Handler } from '../types.js';

export const run: Handler = async (inv) => {
  const paths = requireShard(inv.cwd);
  const verdict = await verifyCodexSignatures(paths, inv.env);
  const s = inv.style;
  if (!verdict.anchor) return { data: verdict, text: 'No anchor yet: .agence/agence.json is not committed, so there are no CODEX commits to check.' };
  const lines = [`Anchor ${verdict.anchor.commit.slice(0, 12)} (${verdict.anchor.source === 'manifest' ? 'anchor in agence.json' : 'the commit that added agence.json'}); ${verdict.commits.length} CODEX commits since.`];
  for (const c of verdict.commits) {
    const who = c.ok ? `${c.signer}${c.bootstrap ? ', first admin keys: checked against the keys this commit adds' : ''}` : c.reason;
    lines.push(`${c.ok ? s.green('ok  ') : s.red('FAIL')} ${c.commit.slice(0, 12)} ${c.subject}  (${c.author}; ${who})`);
  }
  for (const bad of verdict.invalidKeys) lines.push(`warning: trust.yaml key of ${bad.email} is not an ssh-ed25519 public key; ignored: ${bad.key.slice(0, 40)}`);
  if (!verdict.ok) lines.push(`${verdict.offending.length} CODEX commit(s) not signed by an admin key listed in codex/trust.yaml.`);
  return { data: verdict, text: lines.join('\n'), exit: verdict.ok ? 0 : 3 };
};
