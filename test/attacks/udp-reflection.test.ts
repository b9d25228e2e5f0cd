/**
 * UDP reflection and on-path observers, against a real server and a real client over loopback, with a relay
 * in the middle that sees (and records) every datagram, as anyone on the path would.
 *
 * Before: a frame carrying a known link id moved the link to the frame's source address before anything was
 * validated (a malformed 1-byte datagram was enough), so one spoofed 438-byte datagram made the server send
 * 885 531 bytes to the victim (2022×), and anyone who saw the packets could read every message. Now frames are
 * sealed per link (AES-256-GCM, keys from the connect token), a copy is a replay, a malformed frame is dropped,
 * and a new address gets nothing but path challenges, within 3× what came from it.
 */

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { connect, UdpClientTransport, type Client } from '@volley/client';
import { UdpTransport, type Server, type Session } from '@volley/server';
import { UdpFrame } from '@volley/udp';
import { SdkRig } from '../support/sdk-rig.js';
import { sleep, waitFor } from '../support/wait.js';

const HOST = '127.0.0.1';
const rig = new SdkRig({ transports: ['udp'] });

/** A UDP relay between one client and the server: forwards both ways and keeps a copy of everything. */
class Relay {
  readonly fromClient: Buffer[] = [];
  readonly fromServer: Buffer[] = [];
  private client: RemoteInfo | undefined;

  private constructor(
    readonly socket: Socket,
    private readonly serverPort: number,
  ) {
    socket.on('message', (m, r) => {
      if (r.port === serverPort) {
        this.fromServer.push(m);
        if (this.client) socket.send(m, this.client.port, this.client.address);
      } else {
        this.client = r;
        this.fromClient.push(m);
        socket.send(m, serverPort, HOST);
      }
    });
  }

  static async open(serverPort: number): Promise<Relay> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, HOST, () => r()));
    return new Relay(socket, serverPort);
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): void {
    this.socket.close();
  }
}

/** A socket standing for the victim whose address the attacker puts on its datagrams: counts bytes both ways. */
async function victimSocket(): Promise<{
  socket: Socket;
  /** The first byte (frame type) of every datagram that reached it. */
  types: Set<number>;
  received: () => number;
  sent: () => number;
  send: (b: Uint8Array, port: number) => void;
}> {
  const socket = createSocket('udp4');
  let inBytes = 0;
  let outBytes = 0;
  const types = new Set<number>();
  socket.on('message', (m) => {
    inBytes += m.length;
    types.add(m[0]!);
  });
  await new Promise<void>((r) => socket.bind(0, HOST, () => r()));
  return {
    socket,
    types,
    received: () => inBytes,
    sent: () => outBytes,
    send: (b, port) => {
      outBytes += b.length;
      socket.send(b, port, HOST);
    },
  };
}

describe('UDP against reflection and on-path observers', () => {
  it('copies and malformed frames from a spoofed source get the victim nothing; the session stays put and unread', async () => {
    const udp = new UdpTransport();
    const server = await rig.serve({ transports: [udp] });
    const serverUdp = server.address().udpPort!;
    const relay = await Relay.open(serverUdp);
    const victim = await victimSocket();
    try {
      let session: Session | undefined;
      server.onConnect((s) => (session = s));
      const SECRET = 'observer-must-not-read-this';
      server.onMessage('echo', (s, v) => s.send('echo', v));
      server.onMessage('download', (s, n) => {
        for (let i = 0; i < (n as number); i++) s.send('chunk', { i, pad: SECRET.repeat(30) });
      });
      const c: Client = rig.track(
        await connect(server.address().url, {
          transports: ['udp'],
          factories: {
            udp: (base, info) =>
              new UdpClientTransport(base, { ...info, endpoints: { ...info.endpoints, udp: { ...info.endpoints.udp, port: relay.port } } }),
          },
        }),
      );
      expect(c.transport).toBe('udp');
      const path = session!.link!.remote;
      expect(path).toBe(`${HOST}:${relay.port}`);

      // Traffic both ways, with a marker an observer would look for.
      let chunks = 0;
      c.onMessage('chunk', () => chunks++);
      c.send('echo', SECRET);
      await new Promise<void>((r) => c.onMessage('echo', () => r()));
      c.send('download', 200);

      // The attack, while the download runs: every datagram the client ever sent, copied from the victim's
      // address; malformed frames carrying the link id; a 1-byte datagram.
      for (let round = 0; round < 3; round++) {
        for (const m of [...relay.fromClient]) victim.send(m, serverUdp);
        for (const m of relay.fromClient.slice(0, 5)) victim.send(Buffer.concat([m.subarray(0, 17), Buffer.alloc(40)]), serverUdp);
        victim.send(Buffer.from([0xd0]), serverUdp);
        await sleep(50);
      }
      await waitFor('the download', () => chunks === 200, 10_000);
      await sleep(200);

      const sentFromVictim = victim.sent();
      const toVictim = victim.received();
      console.log(
        `spoofed source: ${sentFromVictim} B sent from it, ${toVictim} B sent to it (${(toVictim / sentFromVictim).toFixed(3)}×); ` +
          `link stayed at the relay: ${session!.link!.remote === path}; replayed ${udp.counters.replayed}, malformed ${udp.counters.malformed}`,
      );
      expect(toVictim).toBeLessThanOrEqual(3 * sentFromVictim);
      // Copies of the client's HELLOs get their (smaller) COOKIE, as any HELLO does; nothing else goes there:
      // a copy of a sealed frame is a replay and junk is junk, so not even a path validation starts.
      expect([...victim.types]).toEqual([UdpFrame.Cookie]);
      expect(udp.counters.challengesSent).toBe(0);
      expect(session!.link!.remote).toBe(path);
      expect(udp.counters.addressChanges).toBe(0);
      expect(udp.counters.replayed).toBeGreaterThan(0);
      expect(c.state).toBe('connected');

      // What the relay saw: no frame either way contains the marker, or even its first 8 bytes.
      const needle = Buffer.from(SECRET.slice(0, 8));
      expect(relay.fromClient.some((m) => m.includes(needle))).toBe(false);
      expect(relay.fromServer.some((m) => m.includes(needle))).toBe(false);
      expect(relay.fromServer.length).toBeGreaterThan(20);
    } finally {
      await rig.closeClients();
      relay.close();
      victim.socket.close();
    }
  });

  it('a session moves to a new address only once that address answers a challenge', async () => {
    const udp = new UdpTransport();
    const server: Server = await rig.serve({ transports: [udp] });
    let transport: UdpClientTransport | undefined;
    let session: Session | undefined;
    server.onConnect((s) => (session = s));
    const c = rig.track(
      await connect(server.address().url, {
        transports: ['udp'],
        factories: { udp: (base, info) => (transport = new UdpClientTransport(base, info)) },
      }),
    );
    const before = session!.link!.remote;
    await transport!.rebind();
    server.onMessage('echo', (s, v) => s.send('echo', v));
    const back = new Promise<void>((r) => c.onMessage('echo', () => r()));
    c.send('echo', 1);
    await back;
    expect(session!.link!.remote).not.toBe(before);
    expect(session!.link!.remote).toBe(`${HOST}:${transport!.localPort}`);
    expect(udp.counters.addressChanges).toBe(1);
    expect(udp.counters.challengesSent).toBeGreaterThanOrEqual(1);
    expect(transport!.counters.challengesAnswered).toBeGreaterThanOrEqual(1);
  });
});
