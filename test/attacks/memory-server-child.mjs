// A Volley server in its own process for the memory test (memory.test.ts), so that what it holds is measured
// apart from the hostile clients' own memory. argv[2]: JSON { options, lifetimeMs }. It sends to every client
// on connect until told to stop, and on the stdin line "measure" prints, after a full collection:
// {"event":"measure", held, heap, buffers, sessions, maxRx, maxTx, refused}.
import v8 from 'node:v8';
import vm from 'node:vm';
import { Server } from '@volley/server';
import { SendError } from '@volley/protocol';
import { say, startChild } from '../support/child-lifetime.mjs';

const { options } = startChild();
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const sessions = new Set();
let refused = 0;
const server = new Server(options);
server.onError(() => {}); // the sends that fail are the point
server.onConnect((s) => {
  sessions.add(s);
  const chunk = new Uint8Array(48 * 1024);
  for (let i = 0; i < 200; i++) {
    try {
      s.send('fill', chunk, { channel: i % 4 });
    } catch (e) {
      if (!(e instanceof SendError)) throw e;
      refused++;
    }
  }
});
server.onDisconnect((s, reason, text) => {
  sessions.delete(s);
  say({ event: 'disconnect', reason, text });
});

async function measure() {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  const m = process.memoryUsage();
  let maxRx = 0;
  let maxTx = 0;
  for (const s of sessions) {
    const st = s.stats();
    maxRx = Math.max(
      maxRx,
      st.channels.reduce((n, c) => n + c.bufferedBytes, 0),
    );
    maxTx = Math.max(
      maxTx,
      st.channels.reduce((n, c) => n + c.queuedBytes, 0),
    );
  }
  say({
    event: 'measure',
    held: m.heapUsed + m.arrayBuffers,
    heap: m.heapUsed,
    buffers: m.arrayBuffers,
    sessions: server.sessionCount,
    maxRx,
    maxTx,
    refused,
  });
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text) => {
  input += text;
  for (let nl = input.indexOf('\n'); nl >= 0; nl = input.indexOf('\n')) {
    const line = input.slice(0, nl);
    input = input.slice(nl + 1);
    if (line === 'measure') void measure();
  }
});

await server.listen();
say({ event: 'listening', ...server.address(), pid: process.pid });
