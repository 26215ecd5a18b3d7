import { basename, dirname, isAbsolute } from 'node:path';
import { plainText, tailLines } from '../../core/buffers.js';
import { AgenceError } from '../../core/errors.js';
import { assertSessionId, parseSessionRef } from '../../core/session.js';
import { currentSessionId } from '../../sessions/sessions.js';
import { readBuffer, type RecordEnd, recordBuffer } from '../../swarm/buffers.js';
import { sessionContext } from '../sessionContext.js';
import type { Handler } from '../types.js';

/** `^buffers [SESSION] [--tail N] [--raw]`: read what an agent's tmux pane printed. */
export const run: Handler = async (inv) => {
  const { ctx, shardName } = await sessionContext(inv);
  const tailText = inv.opts.tail;
  const tail = tailText === undefined ? null : Number(tailText);
  if (tail !== null && (!Number.isInteger(tail) || tail < 1 || tail > 1_000_000)) {
    throw new AgenceError('usage', `--tail "${String(tailText)}" is not a number of lines from 1 to 1000000`, { fix: 'e.g. agence ^buffers --tail 50' });
  }
  const given = inv.args[0];
  const session = given === undefined ? currentSessionId(ctx) : parseSessionRef(given, shardName);
  if (!session) throw new AgenceError('not_found', 'there is no current session, so no buffer to show', { fix: 'name one: agence ^buffers SESSION (`agence ^sessions` lists them)' });
  const buffer = readBuffer(ctx.shard.nexus, session, tail ?? undefined);
  const text = inv.opts.raw === true ? buffer.text : plainText(buffer.text);
  const shown = tail === null ? text : tailLines(text, tail);
  return { data: { session, file: buffer.file, bytes: buffer.bytes, text: shown }, text: shown.replace(/\n$/, '') };
};

/**
 * `^buffers record SESSION --file PATH --max-bytes N [--end-mark NONCE --ack PATH]`: what tmux's
 * pipe-pane runs. It gets only values the launcher quoted; it still checks them, since anyone can
 * run it.
 */
export const record: Handler = async (inv) => {
  const session = assertSessionId(inv.args[0] as string);
  const file = inv.opts.file;
  if (typeof file !== 'string' || basename(file) !== `${session}.log` || basename(dirname(file)) !== 'buffers') {
    throw new AgenceError('usage', `--file must be the session's buffer, .../nexus/buffers/${session}.log`, { fix: 'this command is run by the agent launcher (agence !<agent> --tmux)' });
  }
  const cap = Number(inv.opts['max-bytes']);
  if (!Number.isInteger(cap) || cap < 1024) throw new AgenceError('usage', `--max-bytes "${String(inv.opts['max-bytes'])}" is not a number of bytes of at least 1024`, { fix: 'this command is run by the agent launcher (agence !<agent> --tmux)' });
  const { bytes } = await recordBuffer(file, cap, process.stdin, recordEnd(session, inv.opts['end-mark'], inv.opts.ack));
  return { data: { session, file, bytes }, text: '' };
};

/** The end mark and ack file, given together: a 16-hex nonce, and a file of the session's launch folder. */
function recordEnd(session: string, nonce: unknown, ack: unknown): RecordEnd | null {
  if (nonce === undefined && ack === undefined) return null;
  const fix = { fix: 'this command is run by the agent launcher (agence !<agent> --tmux)' };
  if (nonce === undefined || ack === undefined) throw new AgenceError('usage', `--end-mark and --ack go together; ${nonce === undefined ? '--end-mark' : '--ack'} is missing`, fix);
  if (typeof nonce !== 'string' || !/^[0-9a-f]{16}$/.test(nonce)) throw new AgenceError('usage', `--end-mark "${String(nonce)}" is not 16 hex digits`, fix);
  if (typeof ack !== 'string' || !isAbsolute(ack) || basename(dirname(ack)) !== session || basename(dirname(dirname(ack))) !== 'launch' || !basename(ack).endsWith('.recorded')) {
    throw new AgenceError('usage', `--ack must be a .recorded file of .../nexus/launch/${session}/`, fix);
  }
  return { nonce, ack };
}
