import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/**
 * Where a command's program is: a name is looked up on PATH, a path (with a slash) is taken
 * from `cwd`. Null when there is no executable file there, so a launch can say so before it
 * changes anything.
 */
export function findExecutable(command: string, env: NodeJS.ProcessEnv, cwd: string): string | null {
  const candidates = command.includes('/') ? [isAbsolute(command) ? command : resolve(cwd, command)] : (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const file of candidates) {
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}
