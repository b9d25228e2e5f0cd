/**
 * Shared by the transport tests: a real HTTP server on 127.0.0.1 with a transport started on it, and the
 * small helpers every transport test needs (waiting, numbered datagrams, comparing lists of them).
 */

import { createServer, type Server as NodeHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpHost } from '../src/http-host.js';
import type { TransportLink, TransportServer } from '../src/transport.js';

export interface HttpRig {
  base: URL;
  port: number;
  server: NodeHttpServer;
  /** Stops the transport and the HTTP server; safe to call twice. */
  stop(): Promise<void>;
}

/** Starts `transport` on a fresh HTTP server listening on 127.0.0.1 (port 0); `onLink` gets every link. */
export async function startOnHttp(transport: TransportServer, onLink: (link: TransportLink) => void): Promise<HttpRig> {
  const server = createServer();
  const http = new HttpHost(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  await transport.start({ http, host: '127.0.0.1', mtu: 1200, onLink });
  const port = (server.address() as AddressInfo).port;
  let stopped = false;
  return {
    base: new URL(`http://127.0.0.1:${port}`),
    port,
    server,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await transport.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Waits (polling every 5 ms) until `cond()` holds; throws after `ms`. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Datagram number `i` of `size` bytes, recognisable byte by byte. */
export function datagram(i: number, size: number): Uint8Array {
  const d = new Uint8Array(size);
  for (let j = 0; j < size; j++) d[j] = (i * 31 + j) & 0xff;
  d[0] = i & 0xff;
  return d;
}

/** Indices where the two lists differ (fast: vitest's deep equality on 1000 byte arrays takes a second). */
export function mismatches(got: Uint8Array[], want: Uint8Array[]): number[] {
  const bad: number[] = [];
  for (let i = 0; i < Math.max(got.length, want.length); i++) {
    const a = got[i];
    const b = want[i];
    if (!a || !b || Buffer.compare(a, b) !== 0) bad.push(i);
  }
  return bad;
}
