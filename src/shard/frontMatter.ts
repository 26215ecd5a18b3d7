import { parse } from 'yaml';

/**
 * The YAML front matter of a Markdown knowledge item, or null when it has none (or it is not a
 * mapping). Its own module so that only commands that read items load the YAML parser.
 */
export function frontMatter(text: string): Record<string, unknown> | null {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/.exec(text);
  if (!match) return null;
  try {
    const value = parse(match[1] as string) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
