// The shooter's server on its own, for `npm run loadtest` (which starts it as a child process, so the
// bots' CPU is not counted as the server's): PORT (0: any free one), the load token from
// VOLLEY_LOAD_TOKEN, the page from examples/shooter/dist if it was built. It prints one JSON line,
// { "url": … }, once it listens, and stops when its parent goes away (stdin closes) or on SIGTERM.
import { startShooter } from './main.js';

const server = await startShooter(Number(process.env['PORT'] ?? 0), new URL('../dist/', import.meta.url), {
  udpPort: 0,
  ...(process.env['VOLLEY_LOAD_TOKEN'] ? { loadToken: process.env['VOLLEY_LOAD_TOKEN'] } : {}),
});
console.log(JSON.stringify({ url: server.address().url }));
const stop = () => void server.close().then(() => process.exit(0));
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.once('SIGTERM', stop);
