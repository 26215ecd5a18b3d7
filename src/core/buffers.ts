/**
 * Agent buffers (`nexus/buffers/<session>.log`, docs/swarm.md): what an agent's tmux pane printed,
 * kept circular under a size cap. Pure: where to cut, and the last lines.
 */

export const DEFAULT_BUFFER_MAX_MB = 8;

/** The buffer of a session, relative to `.agence/` (as `^save` records it). */
export const bufferPath = (session: string): string => `nexus/buffers/${session}.log`;

/**
 * Where to cut a buffer of `size` bytes so the newest `cap` are kept, or null while it may still
 * grow. A quarter of the cap of slack means the file is rewritten once per cap/4 bytes written,
 * not on every write.
 */
export function trimOffset(size: number, cap: number): number | null {
  return size > cap + Math.floor(cap / 4) ? size - cap : null;
}

/** The kept part starts at a line: skip to just after the first newline when one is near (a pane prints lines). */
export function lineStart(kept: Uint8Array): number {
  const newline = kept.subarray(0, Math.min(kept.length, 4096)).indexOf(10);
  return newline < 0 ? 0 : newline + 1;
}

/** The last `n` lines of a text (a final newline does not count as an empty line). */
export function tailLines(text: string, n: number): string {
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  const kept = lines.slice(Math.max(0, lines.length - n)).join('\n');
  return kept === '' ? '' : `${kept}\n`;
}

/** Terminal control sequences (colours, cursor moves, titles) and carriage returns, for reading a buffer as text. */
export function plainText(raw: string): string {
  // CSI ... final byte, OSC ... BEL/ST, other two-byte escapes; then a line redrawn after a
  // carriage return (a progress line) shows what was drawn last, as on the screen.
  const stripped = raw.replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g, '');
  return stripped
    .split('\n')
    .map((line) => {
      const drawn = line.replace(/\r+$/, '');
      return drawn.slice(drawn.lastIndexOf('\r') + 1);
    })
    .join('\n');
}
