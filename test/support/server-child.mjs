// A Volley server in its own process, for tests that SIGKILL it (test/support/child.ts starts it).
// argv[2]: JSON { options, lifetimeMs }. Prints JSON lines: {"event":"listening", url, port, udpPort}, {"event":"error"}.
// It exits by itself when its stdin closes (the test process is gone) or after lifetimeMs.
import { Server } from '@volley/server';
import { liveAtMost, say } from './child-lifetime.mjs';

const { options, lifetimeMs } = JSON.parse(process.argv[2]);

if (options.host !== '127.0.0.1') {
  say({ event: 'error', message: `refusing a non-loopback host: ${options.host}` });
  process.exit(2);
}
liveAtMost(lifetimeMs);

try {
  const server = new Server(options);
  server.onConnect((s) => say({ event: 'session', id: s.id }));
  server.onDisconnect((s, reason, text) => say({ event: 'disconnect', id: s.id, reason, text }));
  await server.listen();
  say({ event: 'listening', ...server.address(), pid: process.pid });
} catch (e) {
  say({ event: 'error', message: e instanceof Error ? e.message : String(e) });
  process.exit(2);
}
