import { parse } from 'yaml';
import { AgenceError } from '../core/errors.js';

/**
 * The YAML front matter of a Markdown item (persona, lesson), or null when it has none. Front
 * matter that is not a YAML mapping is corrupt data, named with `shown`: never read as empty.
 * Its own module so that only commands that read items load the YAML parser.
 */
export function frontMatter(text: string, shown: string): Record<string, unknown> | null {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/.exec(text);
  if (!match) return null;
  let value: unknown;
  try {
    value = parse(match[1] as string);
  } catch (error) {
    throw new AgenceError('corrupt', `${shown}: the front matter is not valid YAML (${(error as Error).message.split('\n')[0]})`, { fix: 'fix the YAML between the --- lines' });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AgenceError('corrupt', `${shown}: the front matter is not a mapping of keys to values`, { fix: 'write it as `key: value` lines between the --- lines' });
  }
  return value as Record<string, unknown>;
}
