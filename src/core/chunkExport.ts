import * as z from './zod.js';
import { CHUNK_KINDS } from './chunkLanguages.js';
import { firstIssue } from './schemas.js';

/**
 * A pre-built chunk export (`*.chunks.jsonl`): one chunk per line, as `^chunk export` writes it, so
 * a master can share the code knowledge of libraries whose source its shards do not carry. Pure.
 */

export const ChunkRecordSchema = z.deferred(() => z.object({
  /** Where the chunk comes from, relative to the exported repository. */
  path: z.string().check(z.minLength(1), z.maxLength(1000)),
  language: z.nullable(z.string()),
  kind: z.enum(CHUNK_KINDS as [string, ...string[]]),
  name: z.nullable(z.string()),
  scope: z.nullable(z.string()),
  start: z.int().check(z.positive()),
  end: z.int().check(z.positive()),
  signature: z._default(z.string(), ''),
  doc: z._default(z.string(), ''),
  text: z.string(),
}));
export type ChunkRecord = z.infer<typeof ChunkRecordSchema>;

export interface ParsedExport {
  records: ChunkRecord[];
  /** Lines that are not chunk records: `line N: what is wrong`. */
  problems: string[];
}

/** The records of an export; bad lines are reported, never guessed at. */
export function parseChunkExport(text: string): ParsedExport {
  const records: ChunkRecord[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      problems.push(`line ${i + 1}: not JSON`);
      return;
    }
    const parsed = ChunkRecordSchema.safeParse(value);
    if (!parsed.success) problems.push(`line ${i + 1}: ${firstIssue(parsed.error)}`);
    else if (parsed.data.end < parsed.data.start) problems.push(`line ${i + 1}: end is before start`);
    else records.push(parsed.data);
  });
  return { records, problems };
}

export function formatChunkExport(records: readonly ChunkRecord[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}
