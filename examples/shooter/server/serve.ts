// The shooter's server on its own, for `npm run loadtest` (which starts it as a child process, so the
// bots' CPU is not counted as the server's): PORT (0: any free one), the load token from
// VOLLEY_LOAD_TOKEN, VOLLEY_REDIS and VOLLEY_PROCESS_ID to share matchmaking with the others
// (docs/scaling.md), the page from examples/shooter/dist if it was built. Every bot comes from loopback,
// so the per-source limits are lifted (sharedSource). It prints one JSON line, { "url": … }, once it listens, and stops
// when its parent goes away (stdin closes) or on SIGTERM.
import { sharedSource } from '@volley/server';
import { startShooter } from './main.js';

const env = process.env;
const server = await startShooter(Number(env['PORT'] ?? 0), new URL('../dist/', import.meta.url), {
  udpPort: 0,
  ...sharedSource(100_000),
  ...(env['VOLLEY_LOAD_TOKEN'] ? { loadToken: env['VOLLEY_LOAD_TOKEN'] } : {}),
  ...(env['VOLLEY_REDIS'] ? { redis: env['VOLLEY_REDIS'] } : {}),
  ...(env['VOLLEY_PROCESS_ID'] ? { rooms: { processId: env['VOLLEY_PROCESS_ID'] } } : {}),
});
console.log(JSON.stringify({ url: server.address().url }));
const stop = () => void server.close().then(() => process.exit(0));
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.once('SIGTERM', stop);
