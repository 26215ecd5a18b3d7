/** How this agence runs (node and its CLI script): what git runs as the task merge driver. */
export const selfCommand = (): string[] => [process.execPath, process.argv[1] as string];
