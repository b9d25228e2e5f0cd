/**
 * Structured fuzzing of the raw-UDP port of a real server on 127.0.0.1 (packages/server/src/transports/udp.ts,
 * frames in @volley/udp): HELLOs, COOKIE-ECHOs, DATA and RESPONSE frames built from real cookies, real connect
 * tokens and honestly sealed protocol datagrams (formats.ts: CONNECTs, data and control packets, garbage), then
 * their fields mutated (type, cookie, token, link id, packet number, sealed bytes), plus random datagrams.
 * Properties:
 *  - the server never sends the fuzzing socket anything but a COOKIE (25 B, for a HELLO of 64 B or more) or a
 *    frame that opens under one of its links' server keys (DATA or CHALLENGE): no plaintext, no junk;
 *  - it never sends more than 3× what it received from that address;
 *  - no handler error is counted;
 *  - afterwards no link and no session is left (handshake and protocol timeouts), and a well-behaved UDP
 *    client connects and is echoed.
 */

import { createSocket, type Socket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  connectTokenFromJson,
  FrameOpener,
  FrameSealer,
  readPn,
  UDP_FRAMING_VERSION,
  UDP_HELLO_SIZE,
  UdpFrame,
  type ReceivedConnectToken,
} from '@volley/udp';
import { UdpTransport } from '@volley/server';
import { SdkRig } from '../support/sdk-rig.js';
import { FUZZ_TIMEOUT, fuzzParams } from './budget.js';
import { honestConnect, modesOf, peerDatagramArb } from './formats.js';
import { echoing, ONE_SOURCE_MANY_UDP_CLIENTS, sleep, waitUntil, wellBehavedClientServed } from './live.js';
import { bytes, mutate, mutationArb, u8, type Field, type Mutation } from './structured.js';

const HOST = '127.0.0.1';
/** Our HELLOs' nonce (all zero). */
const NONCE = Buffer.alloc(8);
const rig = new SdkRig({ protocol: { timeout: 1000 }, limits: { handshakeTimeout: 500 } });

/** A token fetched from the server, with the client's sealer for it and an opener for the server's frames. */
interface Keyed {
  token: ReceivedConnectToken;
  sealer: FrameSealer;
}

type Case =
  | { kind: 'hello'; version: number; size: number }
  | { kind: 'echo'; key: number; datagram: Uint8Array }
  | { kind: 'data'; key: number; datagram: Uint8Array }
  | { kind: 'response'; key: number; challenge: Uint8Array }
  | { kind: 'random'; bytes: Uint8Array };

const mutationsArb = fc.oneof(
  { arbitrary: fc.constant<Mutation[]>([]), weight: 1 },
  { arbitrary: fc.array(mutationArb, { minLength: 1, maxLength: 2 }), weight: 3 },
);

/** One run's client: its own socket (so its own unspent cookie), a cookie and two fresh tokens. */
class FuzzPeer {
  readonly inbox: Buffer[] = [];
  bytesIn = 0;
  bytesOut = 0;
  cookie = Buffer.alloc(16);
  keyed: Keyed[] = [];

  private constructor(
    private readonly socket: Socket,
    private readonly port: number,
  ) {
    socket.on('message', (m) => {
      this.inbox.push(m);
      this.bytesIn += m.length;
    });
  }

  static async open(port: number, base: string): Promise<FuzzPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, HOST, () => r()));
    const peer = new FuzzPeer(socket, port);
    const hello = Buffer.alloc(UDP_HELLO_SIZE);
    hello[0] = UdpFrame.Hello;
    hello[1] = UDP_FRAMING_VERSION;
    await peer.send(hello);
    expect(await waitUntil(() => peer.inbox.length === 1, 3000)).toBe(true);
    peer.cookie = Buffer.from(peer.inbox[0]!.subarray(9));
    for (let i = 0; i < 2; i++) {
      const res = await fetch(new URL('/volley/udp/token', base), { method: 'POST' });
      const token = connectTokenFromJson(await res.json());
      peer.keyed.push({ token, sealer: new FrameSealer(token.clientKey, token.linkId) });
    }
    return peer;
  }

  send(frame: Uint8Array): Promise<void> {
    this.bytesOut += frame.length;
    return new Promise((r) => this.socket.send(frame, this.port, HOST, () => r()));
  }

  /** The fields of a frame, sealed honestly with this peer's cookie and keys, so that mutations hit what the server checks. */
  fields(c: Case): Field[] {
    switch (c.kind) {
      case 'hello':
        return [u8('type', UdpFrame.Hello), u8('version', c.version), bytes('rest', Buffer.alloc(Math.max(0, c.size - 2)))];
      case 'echo': {
        const k = this.keyed[c.key % this.keyed.length]!;
        const f = k.sealer.seal(UdpFrame.CookieEcho, c.datagram, { prefix: Buffer.concat([NONCE, this.cookie, k.token.token]) });
        return [
          u8('type', f[0]!),
          bytes('nonce', f.subarray(1, 9)),
          bytes('cookie', f.subarray(9, 25)),
          bytes('token', f.subarray(25, 134)),
          bytes('pn', f.subarray(134, 142)),
          bytes('sealed', f.subarray(142)),
        ];
      }
      case 'data':
      case 'response': {
        const k = this.keyed[c.key % this.keyed.length]!;
        const type = c.kind === 'data' ? UdpFrame.Data : UdpFrame.Response;
        const f = k.sealer.seal(type, c.kind === 'data' ? c.datagram : c.challenge, { withLinkId: true });
        return [u8('type', f[0]!), bytes('link id', f.subarray(1, 9)), bytes('pn', f.subarray(9, 17)), bytes('sealed', f.subarray(17))];
      }
      case 'random':
        return [bytes('bytes', c.bytes)];
    }
  }

  /** Everything the server sent after the first COOKIE is a COOKIE or opens under one of our server keys. */
  checkReplies(): void {
    const openers = this.keyed.map((k) => new FrameOpener(k.token.serverKey, k.token.linkId));
    for (const m of this.inbox) {
      if (m[0] === UdpFrame.Cookie) {
        expect(m.length).toBe(25);
        continue;
      }
      expect([UdpFrame.Data, UdpFrame.Challenge], m.toString('hex')).toContain(m[0]);
      const opened = openers.some((o) => typeof o.open(m[0] as typeof UdpFrame.Data, readPn(m, 1), m.subarray(9)) !== 'string');
      expect(opened, `a server frame none of our keys opens: ${m.toString('hex')}`).toBe(true);
    }
    expect(this.bytesIn).toBeLessThanOrEqual(3 * this.bytesOut);
  }

  close(): void {
    this.socket.close();
  }
}

describe('raw-UDP frames against a real server', () => {
  it('answers only with cookies and sealed frames, within 3× of what it got, and keeps serving', { timeout: FUZZ_TIMEOUT }, async () => {
    const udp = new UdpTransport(ONE_SOURCE_MANY_UDP_CLIENTS); // every run is a new client from 127.0.0.1
    const server = echoing(await rig.serve({ transports: [udp] }));
    server.onError(() => {}); // counted per session; the fuzz input is meant to be bad
    const port = server.address().udpPort!;
    const datagram = peerDatagramArb(honestConnect(server.layout), modesOf(server.layout));
    const key = fc.nat({ max: 1 });
    const caseArb: fc.Arbitrary<Case> = fc.oneof(
      fc.record({
        kind: fc.constant('hello' as const),
        version: fc.constantFrom(UDP_FRAMING_VERSION, 1, 3, 255),
        size: fc.nat({ max: 200 }),
      }),
      { arbitrary: fc.record({ kind: fc.constant('echo' as const), key, datagram }), weight: 3 },
      { arbitrary: fc.record({ kind: fc.constant('data' as const), key, datagram }), weight: 3 },
      fc.record({ kind: fc.constant('response' as const), key, challenge: fc.uint8Array({ minLength: 8, maxLength: 8 }) }),
      fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 1400 }) }),
    );
    let totalIn = 0;
    let totalOut = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(caseArb, mutationsArb), { minLength: 1, maxLength: 8 }), async (frames) => {
        const peer = await FuzzPeer.open(port, server.address().url);
        try {
          for (const [c, ms] of frames) await peer.send(mutate(peer.fields(c), ms));
          await sleep(20);
          peer.checkReplies();
        } finally {
          totalIn += peer.bytesOut;
          totalOut += peer.bytesIn;
          peer.close();
        }
      }),
      fuzzParams(0.25),
    );
    const k = udp.counters;
    console.info(
      `udp fuzz: ${totalIn} B in, ${totalOut} B out; links ${k.linksCreated}, cookies ${k.cookiesSent}, malformed ${k.malformed}, ` +
        `bad cookie ${k.badCookie}, spent cookie ${k.cookieSpent}, bad token ${k.badToken}, forged ${k.forged}, replayed ${k.replayed}, ` +
        `unknown link ${k.unknownLink}, challenges ${k.challengesSent}`,
    );
    // The fuzz reached past the cookie and the token: links were made and sealed frames were judged.
    expect(k.linksCreated).toBeGreaterThan(0);
    expect(k.forged + k.badToken).toBeGreaterThan(0);
    expect(k.handlerErrors).toBe(0);
    expect(await waitUntil(() => server.sessionCount === 0 && udp.linkCount === 0, 5000)).toBe(true);
    expect(await wellBehavedClientServed(server, 'udp')).toBe(true);
  });
});
