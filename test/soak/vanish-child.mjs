// A Volley client in its own process that the soak test SIGKILLs: it vanishes without a goodbye (test/soak/churn.ts).
// argv[2]: JSON { url, options, messages, lifetimeMs }. Connects, has `messages` numbered echoes answered in order,
// prints {"event":"ready"} and waits to be killed. Exits by itself when its stdin closes or after lifetimeMs.
import { connect } from '@volley/client';
import { say, startChild } from '../support/child-lifetime.mjs';

const { url, options, messages } = startChild();

try {
  const client = await connect(url, options);
  const got = [];
  const all = new Promise((resolve) => {
    client.onMessage('echo', (n) => {
      got.push(n);
      if (got.length === messages) resolve();
    });
  });
  for (let i = 0; i < messages; i++) client.send('echo', i);
  await all;
  const inOrder = got.every((n, i) => n === i);
  say({ event: inOrder ? 'ready' : 'error', transport: client.transport, got });
} catch (e) {
  say({ event: 'error', message: e instanceof Error ? e.message : String(e) });
  process.exit(2);
}
