// What every test child process shares (client-child.mjs, server-child.mjs): JSON lines to the test, and a
// bounded life: it exits when its stdin closes (the test process is gone) or after lifetimeMs, whichever first.

/** Prints one JSON line for the test to read. */
export const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

/** Ends this process after `lifetimeMs` (exit 3), or at once when the test's end of stdin closes (exit 0). */
export function liveAtMost(lifetimeMs) {
  setTimeout(() => process.exit(3), lifetimeMs);
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

/**
 * A child's start: its JSON configuration (argv[2]), refused unless it names loopback only (`url`'s host, or
 * `options.host` for a server), and a bounded life (liveAtMost(lifetimeMs)).
 */
export function startChild() {
  const config = JSON.parse(process.argv[2]);
  const host = config.url !== undefined ? new URL(config.url).hostname : config.options?.host;
  if (host !== '127.0.0.1') {
    say({ event: 'error', message: `refusing a non-loopback address: ${config.url ?? host}` });
    process.exit(2);
  }
  liveAtMost(config.lifetimeMs);
  return config;
}
