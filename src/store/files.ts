import { readFileSync } from 'node:fs';
import type * as z from '../core/zod.js';
import { AgenceError } from '../core/errors.js';
import { firstIssue } from '../core/schemas.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes of a file, or null when it does not exist (any other failure is thrown). */
export function readOrNull(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Decode UTF-8 strictly: a file with invalid bytes is corrupt data, not something to guess at. */
export function decodeUtf8(bytes: Uint8Array, file: string, shown = file): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new AgenceError('corrupt', `${shown} is not valid UTF-8`, {
      file,
      fix: 're-save it as UTF-8 (e.g. `iconv -t UTF-8`), or restore it with `git checkout -- <file>`',
    });
  }
}

/** A text file, or null when it does not exist. */
export function readTextFile(path: string, shown = path): string | null {
  const bytes = readOrNull(path);
  return bytes === null ? null : decodeUtf8(bytes, path, shown);
}

export interface JsonFileOptions {
  /** How the file is named in messages (a path relative to something the user knows). */
  shown?: string;
  /** How to repair it, for the one-line error. */
  fix: string;
}

/**
 * A JSON record validated by its schema, or null when the file does not exist. Anything else
 * wrong with it (bad UTF-8, bad JSON, wrong shape) is corrupt data: exit 3, file named, fix given.
 */
export function readJsonFile<S extends z.ZodMiniType>(path: string, schema: S, options: JsonFileOptions): z.infer<S> | null {
  const text = readTextFile(path, options.shown ?? path);
  return text === null ? null : parseJsonText(text, path, schema, options);
}

/** The text of a JSON record (read from `path`) validated by its schema, with the errors of readJsonFile. */
export function parseJsonText<S extends z.ZodMiniType>(text: string, path: string, schema: S, options: JsonFileOptions): z.infer<S> {
  const shown = options.shown ?? path;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = (error as Error).message.replace(/^JSON\.parse: /, '');
    throw new AgenceError('corrupt', `${shown} is not valid JSON (${detail})`, { file: path, fix: options.fix });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new AgenceError('corrupt', `${shown} is malformed (${firstIssue(parsed.error)})`, { file: path, fix: options.fix });
  }
  return parsed.data;
}
