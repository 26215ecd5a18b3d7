declare const __AGENCE_VERSION__: string;

// The front door stays tiny: `agence --version` answers before anything else is loaded, and
// every other path loads the router (and only then the command it needs).
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${__AGENCE_VERSION__}\n`);
} else {
  import('./run.js')
    .then((m) => m.main(argv, __AGENCE_VERSION__))
    .then((code) => {
      process.exitCode = code;
    })
    .catch((error: unknown) => {
      process.stderr.write(`agence: failed to start: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 1;
    });
}
