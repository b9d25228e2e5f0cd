// A Node process that uses the built @volley/client over WebRTC and then must exit by itself
// (webrtc-exit.test.ts starts it). argv[2]: JSON { url, scenario, lifetimeMs }.
//   scenario 'session': connect (webrtc only), one message and its echo, close().
//   scenario 'abandon': four bare WebRTC transports, each closed or aborted 0–100 ms into open().
// Prints JSON lines: {"event":"done", "at", …} once its work is over, {"event":"exit", "at", "unhandled"} on exit.
// Nothing here keeps the process alive once the work is done: the lifetime timer is unref'd (it only
// fires if something else holds the process), stdin is not read.
import { performance } from 'node:perf_hooks';
import { connect, installNodeWebRTC, WebRtcClientTransport } from '@volley/client';

const { url, scenario, lifetimeMs } = JSON.parse(process.argv[2]);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const unhandled = [];
process.on('unhandledRejection', (e) => unhandled.push(String(e?.stack ?? e)));
process.on('exit', () => say({ event: 'exit', at: performance.now(), unhandled }));

if (new URL(url).hostname !== '127.0.0.1') {
  say({ event: 'error', message: `refusing a non-loopback address: ${url}` });
  process.exit(2);
}
setTimeout(() => {
  say({ event: 'lifetime-over' });
  process.exit(3);
}, lifetimeMs).unref();

// libdatachannel binds 0.0.0.0 unless told otherwise: keep every socket on loopback.
await installNodeWebRTC();
const Base = globalThis.RTCPeerConnection;
globalThis.RTCPeerConnection = class extends Base {
  constructor(config) {
    super({ ...config, bindAddress: '127.0.0.1' });
  }
};

try {
  if (scenario === 'session') {
    const client = await connect(url, { transports: ['webrtc'], openTimeout: 8000 });
    const transport = client.transport;
    const echoed = await new Promise((resolve) => {
      client.onMessage('echo', resolve);
      client.send('echo', 'hello');
    });
    const closing = performance.now();
    await client.close();
    say({ event: 'done', at: performance.now(), closing, transport, echoed });
  } else if (scenario === 'abandon') {
    const info = { protocol: 1, transports: ['webrtc'], endpoints: {} };
    const outcomes = await Promise.all(
      [0, 10, 40, 100].map(async (ms) => {
        const t = new WebRtcClientTransport(new URL(url), info);
        const ac = new globalThis.AbortController();
        const opening = t.open(ac.signal);
        if (ms === 0) t.close();
        else setTimeout(() => ac.abort(), ms);
        try {
          await opening;
          t.close(); // opened before the abort: close it now
          return 'opened';
        } catch (e) {
          return e instanceof Error ? e.message : String(e);
        }
      }),
    );
    say({ event: 'done', at: performance.now(), outcomes });
  } else {
    throw new Error(`unknown scenario ${scenario}`);
  }
} catch (e) {
  say({ event: 'error', message: e instanceof Error ? e.message : String(e) });
  process.exit(2);
}
