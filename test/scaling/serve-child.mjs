// `volley serve` in a child process the scale-out test can SIGKILL (processes.test.ts): argv[2] is JSON
// { args, lifetimeMs }, the command line after `volley serve`. Refused unless it listens on 127.0.0.1 and
// talks to a Redis there; like every test child it exits when its stdin closes or its lifetime ends.
import { main } from '../../packages/cli/dist/main.js';
import { liveAtMost, say } from '../support/child-lifetime.mjs';

const { args, lifetimeMs } = JSON.parse(process.argv[2]);
const value = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const loopback = (url) => url === undefined || new URL(url).hostname === '127.0.0.1';
if (!args.includes('--host') || value('--host') !== '127.0.0.1' || !loopback(value('--redis')) || !loopback(value('--public-url'))) {
  say({ event: 'error', message: `refusing a non-loopback address: ${JSON.stringify(args)}` });
  process.exit(2);
}
liveAtMost(lifetimeMs);
process.exitCode = await main(['serve', ...args]);
say({ event: 'exit', code: process.exitCode });
process.exit();
