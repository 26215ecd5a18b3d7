import { AgenceError } from './errors.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `2w`, `90m`, `45s` in milliseconds. */
export function parseDuration(input: string, flag: string): number {
  const match = /^(\d+)([smhdw])$/.exec(input.trim());
  if (!match) throw new AgenceError('usage', `${flag} "${input}" is not a duration`, { fix: 'write a number and a unit: 45s, 90m, 12h, 30d or 2w' });
  return Number(match[1]) * (UNITS[match[2] as string] as number);
}

/**
 * A point in time for `--since`/`--until`: a date (`2026-11-01`, midnight UTC), a date and time
 * (ISO 8601), or a duration back from now (`7d`).
 */
export function parseWhen(input: string, flag: string, now: Date): string {
  const trimmed = input.trim();
  if (/^\d+[mhdw]$/.test(trimmed)) return new Date(now.getTime() - parseDuration(trimmed, flag)).toISOString();
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)) {
    const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(trimmed) ? `${trimmed}T00:00:00Z` : trimmed.replace(' ', 'T'));
    if (!Number.isNaN(date.getTime())) return date.toISOString();
  }
  throw new AgenceError('usage', `${flag} "${input}" is not a date`, { fix: 'write 2026-11-01, 2026-11-01T09:30:00Z, or a duration back from now like 7d' });
}
