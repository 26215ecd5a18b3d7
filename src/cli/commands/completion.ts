import { AgenceError } from '../../core/errors.js';
import { displayName, GLOBAL_OPTIONS, MODES, ROUTES } from '../routes.js';
import type { Handler } from '../types.js';

/** Completion scripts generated from the routing table, so they never drift from dispatch. */

function firstWords(): Map<string, string> {
  const words = new Map<string, string>();
  for (const route of ROUTES) {
    if (route.hidden) continue;
    const word = displayName(route).split(' ')[0] as string;
    if (!words.has(word)) words.set(word, route.name.includes(' ') ? `${route.name.split(' ')[0]} commands` : route.summary);
  }
  for (const mode of MODES) words.set(mode.alias, `${mode.summary} (${mode.placeholder})`);
  return words;
}

/**
 * What may follow the first word(s): keys are the typed words joined by "_" (`^master`,
 * `^master_init`, `shared`, `shared_init`), values the candidates.
 */
function followers(): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const add = (key: string, words: string[]) => map.set(key, [...new Set([...(map.get(key) ?? []), ...words])]);
  const globals = GLOBAL_OPTIONS.filter((o) => o.name !== 'version').map((o) => `--${o.name}`);
  for (const route of ROUTES) {
    if (route.hidden) continue;
    const options = [...(route.options ?? []).map((o) => `--${o.name}`), ...globals];
    const [head, sub] = route.name.split(' ') as [string, string | undefined];
    const mode = MODES.find((m) => m.name === route.mode);
    const prefixes = mode ? [mode.prefix, `${mode.alias}_`] : [''];
    if (mode) add(mode.alias, [head]);
    for (const prefix of prefixes) {
      if (sub) add(`${prefix}${head}`, [sub]);
      add(`${prefix}${route.name.replace(' ', '_')}`, options);
    }
  }
  add('completion', ['bash', 'zsh', 'fish']);
  add('help', [...firstWords().keys()].filter((w) => w !== 'help'));
  return map;
}

function bash(): string {
  const cases = [...followers()].map(([key, words]) => `    ${JSON.stringify(key)}) echo ${JSON.stringify(words.join(' '))} ;;`).join('\n');
  return `# agence bash completion: eval "$(agence completion bash)"
_agence_follow() {
  case "$1" in
${cases}
  esac
}
_agence() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" words=""
  if [ "$COMP_CWORD" -le 1 ]; then
    words=${JSON.stringify([...firstWords().keys()].join(' '))}
  else
    if [ "$COMP_CWORD" -ge 3 ]; then words=$(_agence_follow "\${COMP_WORDS[1]}_\${COMP_WORDS[2]}"); fi
    if [ -z "$words" ]; then words=$(_agence_follow "\${COMP_WORDS[1]}"); fi
  fi
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F _agence agence
`;
}

function zsh(): string {
  // zsh runs the bash function through bashcompinit: one script to keep right, not two.
  return `#compdef agence
# agence zsh completion: eval "$(agence completion zsh)"
autoload -U +X bashcompinit && bashcompinit
${bash().split('\n').slice(1).join('\n')}`;
}

const fishWord = (w: string) => `'${w.replace(/'/g, "\\'")}'`;

function fish(): string {
  const lines = ['# agence fish completion: agence completion fish | source', 'complete -c agence -f'];
  for (const [word, summary] of firstWords()) {
    lines.push(`complete -c agence -n __fish_use_subcommand -a ${fishWord(word)} -d ${fishWord(summary)}`);
  }
  for (const [key, words] of followers()) {
    const [first, second] = key.split('_') as [string, string | undefined];
    const seen = `__fish_seen_subcommand_from ${fishWord(first)}`;
    const condition = second ? `${seen}; and __fish_seen_subcommand_from ${fishWord(second)}` : `${seen}`;
    lines.push(`complete -c agence -n ${fishWord(condition)} -a ${fishWord(words.join(' '))}`);
  }
  return `${lines.join('\n')}\n`;
}

const SHELLS: Record<string, () => string> = { bash, zsh, fish };

export const run: Handler = async (inv) => {
  const shell = inv.args[0] as string;
  const make = SHELLS[shell];
  if (!make) throw new AgenceError('usage', `no completion for shell "${shell}"`, { fix: 'use one of: bash, zsh, fish' });
  const script = make();
  return { data: { shell, script }, text: script.trimEnd() };
};
