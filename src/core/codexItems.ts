/**
 * PRINCIPLES.md, LAWS.md and RULES.md are Markdown lists whose items carry stable ids:
 *
 *     - [law-no-secrets] Never commit keys, tokens or passwords.
 *       Continuation lines are indented.
 *
 * Everything else (headings, paragraphs) is free text. Ids are what the layering rules merge on.
 */

export const ITEM_ID_RE = /^[a-z][a-z0-9-]*$/;
const ITEM_LINE_RE = /^- \[([^\]\s]+)\](?:\s|$)/;

export type Block = { kind: 'item'; id: string; text: string } | { kind: 'text'; text: string };

export interface ItemParseProblem {
  line: number;
  message: string;
}

export interface ItemDoc {
  blocks: Block[];
  problems: ItemParseProblem[];
}

export function parseItems(markdown: string): ItemDoc {
  const lines = markdown.replace(/\r\n/g, '\n').split('\n');
  const blocks: Block[] = [];
  const problems: ItemParseProblem[] = [];
  const seen = new Set<string>();
  let current: string[] = [];
  let currentId: string | null = null;

  const flush = () => {
    const text = trimBlankLines(current).join('\n');
    if (currentId !== null) blocks.push({ kind: 'item', id: currentId, text });
    else if (text !== '') blocks.push({ kind: 'text', text });
    current = [];
    currentId = null;
  };

  lines.forEach((line, index) => {
    const match = ITEM_LINE_RE.exec(line);
    if (match) {
      flush();
      const id = match[1] as string;
      if (!ITEM_ID_RE.test(id)) {
        problems.push({ line: index + 1, message: `item id "${id}" must match ${ITEM_ID_RE.source}` });
      } else if (seen.has(id)) {
        problems.push({ line: index + 1, message: `duplicate item id "${id}"` });
      }
      seen.add(id);
      currentId = id;
      current.push(line);
      return;
    }
    const continues = currentId !== null && (line.startsWith('  ') || line.trim() === '');
    if (!continues && currentId !== null) flush();
    current.push(line);
  });
  flush();
  return { blocks, problems };
}

/** Items separated by newlines; a free-text block gets blank lines around it. */
export function renderBlocks(blocks: readonly Block[]): string {
  let out = '';
  let previous: Block['kind'] | null = null;
  for (const block of blocks) {
    if (previous !== null) out += previous === 'item' && block.kind === 'item' ? '\n' : '\n\n';
    out += block.text;
    previous = block.kind;
  }
  return out === '' ? '' : `${out}\n`;
}

/** Item text compared without layout: reflowing a law does not change it. */
export function normaliseItemText(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function trimBlankLines(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && (lines[start] as string).trim() === '') start++;
  while (end > start && (lines[end - 1] as string).trim() === '') end--;
  return lines.slice(start, end);
}
