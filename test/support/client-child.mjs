// A Volley client in its own process, for tests that SIGKILL it (test/support/child.ts starts it).
// argv[2]: JSON { url, options, lifetimeMs }. Prints JSON lines: {"event":"connected"}, {"event":"disconnect"}, {"event":"error"}.
// It exits by itself when its stdin closes (the test process is gone) or after lifetimeMs.
import { connect } from '@volley/client';
import { say, startChild } from './child-lifetime.mjs';

const { url, options } = startChild();

try {
  const client = await connect(url, options);
  client.on('disconnect', (reason, text) => say({ event: 'disconnect', reason, text }));
  say({ event: 'connected', transport: client.transport, pid: process.pid });
} catch (e) {
  say({ event: 'error', message: e instanceof Error ? e.message : String(e) });
  process.exit(2);
}
