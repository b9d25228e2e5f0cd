/**
 * One cookie, one link: a UDP cookie is bound to a source address, not to a link id, so one HELLO followed by
 * 10 000 COOKIE-ECHOs with fresh link ids (260 KB) used to create 10 000 links, fill `maxLinks` for 10 s, and
 * lock new UDP clients out. Now a cookie admits exactly one link id — even when every COOKIE-ECHO carries a
 * valid connect token of its own (an attacker can fetch as many as the HTTP port lets it; here they are minted
 * with the server's token key, which is the same). (A cookie now also covers its HELLO's nonce, so many HELLOs
 * give many cookies: what bounds one address's new links then is `linksPerSecondPerSource` and the endpoint's
 * per-source caps, tested in packages/server/test/udp-transport.test.ts and per-source.test.ts.)
 */

import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Client } from '@volley/client';
import {
  FrameSealer,
  mintConnectToken,
  UDP_COOKIE_FRAME_SIZE,
  UDP_FRAMING_VERSION,
  UDP_HELLO_SIZE,
  UDP_NONCE_SIZE,
  UdpFrame,
} from '@volley/udp';
import { Server, UdpTransport } from '@volley/server';

let server: Server | undefined;
let socket: Socket | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  socket?.close();
  await server?.close();
});

describe('UDP cookies', () => {
  it('admit exactly one link id: 10 000 COOKIE-ECHOs with one cookie create one link, and others still connect', async () => {
    const tokenKey = randomBytes(32);
    const udp = new UdpTransport({ maxLinks: 100, tokenKey });
    server = new Server({ host: '127.0.0.1', port: 0, udpPort: 0, transports: [udp] });
    await server.listen();
    const port = server.address().udpPort!;
    const s = (socket = createSocket('udp4'));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const cookie = new Promise<Buffer>((resolve) => {
      s.on('message', (m: Buffer) => {
        if (m.length === UDP_COOKIE_FRAME_SIZE && m[0] === UdpFrame.Cookie) resolve(m.subarray(1 + UDP_NONCE_SIZE));
      });
    });
    const hello = Buffer.alloc(UDP_HELLO_SIZE);
    hello[0] = UdpFrame.Hello;
    hello[1] = UDP_FRAMING_VERSION;
    const nonce = randomBytes(UDP_NONCE_SIZE);
    nonce.copy(hello, 2);
    s.send(hello, port, '127.0.0.1');
    const c = await cookie;
    const total = 10_000;
    for (let i = 0; i < total; i++) {
      const t = mintConnectToken(tokenKey, Date.now() + 30_000);
      const sealer = new FrameSealer(t.clientKey, t.linkId);
      // A datagram the core will not take: only the transport matters here.
      const echo = sealer.seal(UdpFrame.CookieEcho, new Uint8Array([0x41]), { prefix: Buffer.concat([nonce, c, t.token]) });
      s.send(echo, port, '127.0.0.1');
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 2)); // paced: the server reads in the same process
    }
    const counted = () => udp.counters.linksCreated + udp.counters.cookieSpent;
    // Loopback may drop some of a burst (a full receive buffer): wait until the counts stop moving.
    let last = -1;
    for (let i = 0; i < 100 && counted() !== last; i++) {
      last = counted();
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log(
      `one cookie: ${counted()} of ${total} COOKIE-ECHOs reached the server; links ${udp.counters.linksCreated}, refused as spent ${udp.counters.cookieSpent}`,
    );
    expect(udp.counters.cookieSpent).toBeGreaterThan(total / 2); // most arrive (a full receive buffer drops some)
    expect(udp.counters.linksCreated).toBe(1);
    expect(udp.counters.full).toBe(0);
    // A real client (its own socket, so its own address and cookie) still gets in.
    client = await connect(server.address().url, { transports: ['udp'] });
    expect(client.transport).toBe('udp');
    expect(udp.counters.linksCreated).toBe(2);
  });
});
