import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { startEarlyGit, WORK_TREE_STATUS_ARGS } from '../git/early.js';
import { cacheVariant, requireWithCompileCache } from './compileCache.js';
import type { EarlyAnswers } from './types.js';

declare const __AGENCE_VERSION__: string;

/** First words that pick a mode or command other than chat (`cacheVariant` calls them "other"). */
const NOT_CHAT = new Set(['run', 'system', 'completion']);

// The front door stays tiny: `agence --version` answers before anything else is loaded, and
// every other path loads the app bundle (see scripts/build.mjs), whose commands load lazily.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  writeSync(1, `${__AGENCE_VERSION__}\n`);
} else {
  const variant = cacheVariant(argv);
  // `^save` records the work tree's state, and so does chat (its turns are saved in the session):
  // git answers while the app loads. Chat is plain text (variant "other", not `/run`, `!system`,
  // their word aliases or `completion`, which a shell runs at every start) or `ask`.
  const first = argv.find((a) => !a.startsWith('-') && !a.startsWith('@'));
  const chat = variant === 'ask' || (variant === 'other' && first !== undefined && !/^[/!]/.test(first) && !NOT_CHAT.has(first));
  const early: EarlyAnswers = variant === 'save' || chat ? { workTree: startEarlyGit(WORK_TREE_STATUS_ARGS, process.cwd(), process.env) } : {};
  const app = requireWithCompileCache<typeof import('./run.js')>(join(__dirname, 'app.cjs'), __AGENCE_VERSION__, variant, process.env);
  app.exports
    .main(argv, __AGENCE_VERSION__, early)
    .then((code) => {
      process.exitCode = code;
      app.saveCache();
    })
    .catch((error: unknown) => {
      writeSync(2, `agence: failed to start: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 1;
    });
}
