/** POSIX shell quoting of one word, for the few command strings that tmux, git and Claude Code run through sh. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** An argv as one command line for sh: each word quoted. */
export function shellLine(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
