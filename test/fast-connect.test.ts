/**
 * Fast connect where WebRTC cannot get through: WebRTC's UDP is dropped on the path (nftables on the
 * prerouting hook, only inside the test's loopback-only namespace). The default client opens WebRTC and
 * WebSocket at once, so connect() resolves on WebSocket in about one round trip instead of waiting out
 * WebRTC's open timeout; WebRTC's failure is reported when it comes.
 *
 * Its own file (its own worker process): the drop also eats libjuice's self-sent wake-up datagram, so after
 * the abandoned ICE attempt the next peer connection in this process could block for a minute (docs/testing.md).
 */

import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Client, type TransportKind } from '@volley/client';
import { Server } from '@volley/server';
import { NetCut, requireIsolation } from './support/netfilter.js';
import { freeUdpPort } from './support/rig.js';

const browserOrder: TransportKind[] = ['webrtc', 'websocket', 'polling'];
let server: Server | undefined;
let client: Client | undefined;
let cut: NetCut | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  await cut?.remove();
});

describe('fast connect', () => {
  it("with WebRTC's UDP dropped on the path: connected on WebSocket without waiting for WebRTC, which fails later", async () => {
    requireIsolation();
    const mediaPort = await freeUdpPort();
    server = new Server({
      host: '127.0.0.1',
      port: 0,
      udpPort: 0,
      transports: browserOrder,
      webrtc: { portRange: { min: mediaPort, max: mediaPort } },
    });
    await server.listen();
    cut = await NetCut.drop({ tcp: [], udp: [mediaPort] });
    const t0 = performance.now();
    const c = (client = await connect(server.address().url, { transports: browserOrder, openTimeout: 3000 }));
    const connectMs = performance.now() - t0;
    // Resolved before WebRTC's attempt gave up: the session did not wait for it.
    expect(c.transport).toBe('websocket');
    expect(c.failures).toEqual([]);
    const failed = await new Promise<[TransportKind, string]>((r) => c.on('transport-failed', (k, why) => r([k, why])));
    expect(failed[0]).toBe('webrtc');
    expect(c.failures.map((f) => f.transport)).toEqual(['webrtc']);
    expect(c.transport).toBe('websocket');
    console.log(
      `fast connect, WebRTC UDP dropped: connected on websocket in ${connectMs.toFixed(0)} ms; webrtc failed later: ${failed[1]}`,
    );
  });
});
