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

/**
 * What the pane's start gate prints after the agent ends: an OSC string terminals ignore, with a
 * random nonce. tmux 3.3 can close a pane whose process has ended before it has passed the last
 * output on to pipe-pane; the gate waits until the recorder has seen this mark, so everything
 * printed before it is in the buffer.
 */
export const endMarker = (nonce: string): string => `\x1b]7771;agence-end;${nonce}\x07`;

export interface MarkerScan {
  /** The bytes to record. */
  pass: Uint8Array;
  /** The end of the stream so far that could be the start of the marker: held until the next chunk. */
  held: Uint8Array;
  found: boolean;
}

/** Look for `marker` in a stream read in chunks (it may be split between two); what comes after it is dropped. */
export function scanForMarker(held: Uint8Array, chunk: Uint8Array, marker: Uint8Array): MarkerScan {
  const data = new Uint8Array(held.length + chunk.length);
  data.set(held, 0);
  data.set(chunk, held.length);
  const at = indexOf(data, marker);
  if (at >= 0) return { pass: data.subarray(0, at), held: new Uint8Array(0), found: true };
  for (let keep = Math.min(marker.length - 1, data.length); keep > 0; keep -= 1) {
    if (startsWith(marker, data.subarray(data.length - keep))) return { pass: data.subarray(0, data.length - keep), held: data.subarray(data.length - keep), found: false };
  }
  return { pass: data, held: new Uint8Array(0), found: false };
}

function indexOf(data: Uint8Array, part: Uint8Array): number {
  const first = part[0] as number;
  for (let i = data.indexOf(first); i >= 0 && i + part.length <= data.length; i = data.indexOf(first, i + 1)) {
    if (startsWith(data.subarray(i), part)) return i;
  }
  return -1;
}

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > data.length) return false;
  for (let i = 0; i < prefix.length; i += 1) if (data[i] !== prefix[i]) return false;
  return true;
}
