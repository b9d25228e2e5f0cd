// A Volley server in its own process, for tests that SIGKILL it (test/support/child.ts starts it).
// argv[2]: JSON { options, lifetimeMs }. Prints JSON lines: {"event":"listening", url, port, udpPort}, {"event":"error"}.
// It exits by itself when its stdin closes (the test process is gone) or after lifetimeMs.
import { Server } from '@volley/server';
import { say, startChild } from './child-lifetime.mjs';

const { options } = startChild();

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
