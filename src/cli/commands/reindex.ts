import { reindexKnowledge } from '../../knowledge/knowledge.js';
import { reindexSessions } from '../../sessions/sessions.js';
import type { Handler } from '../types.js';
import { indexCodeFor } from './chunk.js';
import { withKnowledge } from '../knowledgeContext.js';
import { sessionContext } from '../sessionContext.js';

export const run: Handler = async (inv) => {
  const { ctx } = await sessionContext(inv);
  const result = reindexSessions(ctx);
  const full = inv.opts.full === true;
  const knowledge = await withKnowledge(inv, (k) => reindexKnowledge(k, full));
  const code = await indexCodeFor(inv, full);
  const lines = [
    `Rebuilt .agence/nexus/index.db from the session files: ${result.sessions} sessions.`,
    `Knowledge: ${knowledge.items} items${full ? ' (rebuilt from the files)' : `; ${knowledge.indexed} files (re)indexed, ${knowledge.removed} removed`}.`,
    ...knowledge.notIndexed.map((p) => `  not indexed: ${p.problem}`),
    `Code: ${code.stats.chunks} chunks of ${code.stats.files} files${full ? ' (re-chunked)' : `; ${code.stats.parsed} files parsed, ${code.stats.removed} removed`}.`,
  ];
  return { data: { ok: true, ...result, knowledge, code: code.stats }, text: lines.join('\n'), ...code.problem };
};
