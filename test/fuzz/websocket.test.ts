/**
 * Structured fuzzing of the WebSocket endpoint of a real server on 127.0.0.1
 * (packages/server/src/transports/websocket.ts), at two levels:
 *  - binary messages: inside a connected session (an honest handshake, RawSession), datagrams a peer may
 *    send (formats.ts) go straight onto the socket. The session's connection must count each one
 *    (packetsReceived), count at least those inspectPacket cannot read as malformed, and never count an
 *    internal error; the session ends only with a reason.
 *  - frames: raw TCP after a real upgrade, RFC 6455 frames built valid (FIN, opcode, mask, 7/16/64-bit
 *    length, masked payload carrying a CONNECT or data packet) and mutated (reserved bits, opcodes, length
 *    lies, masks, truncation). The server must stay up.
 * Afterwards: no pending link or session is left once the handshake and protocol timeouts have passed, and
 * a well-behaved client connects over WebSocket and is echoed.
 */

import net from 'node:net';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeControl, encodeControl, inspectPacket } from '@volley/protocol';
import type { Session } from '@volley/server';
import { SdkRig } from '../support/sdk-rig.js';
import { FUZZ_TIMEOUT, fuzzParams } from './budget.js';
import { honestConnect, modesOf, peerDatagramArb } from './formats.js';
import { echoing, ONE_SOURCE_MANY_CLIENTS, RawSession, sleep, waitUntil, wellBehavedClientServed } from './live.js';
import { bytes, fuzzed, u16, u32, u8, type Field } from './structured.js';

const TIMEOUT = 1000;
const HANDSHAKE = 500;
const rig = new SdkRig({
  transports: ['websocket'],
  protocol: { timeout: TIMEOUT },
  limits: { handshakeTimeout: HANDSHAKE, ...ONE_SOURCE_MANY_CLIENTS },
});

async function serve() {
  const server = echoing(await rig.serve());
  const sessions: Session[] = [];
  server.onConnect((s) => sessions.push(s));
  server.onError(() => {});
  return { server, sessions };
}

const isResume = (d: Uint8Array): boolean => {
  try {
    return decodeControl(d).type === 'resume';
  } catch {
    return false;
  }
};

describe('binary messages in a live WebSocket session', () => {
  it('counts every datagram, at least the unreadable ones as malformed, never an internal error', { timeout: FUZZ_TIMEOUT }, async () => {
    const { server, sessions } = await serve();
    const withIds = modesOf(server.layout).flatMap((m, ch) => (m === 'id' ? [ch] : []));
    const datagrams = fc.array(peerDatagramArb(honestConnect(server.layout), modesOf(server.layout)), { minLength: 1, maxLength: 12 });
    let raw: RawSession | undefined;
    let session: Session | undefined;
    let cut = 0;
    try {
      await fc.assert(
        fc.asyncProperty(datagrams, async (ds) => {
          if (!raw || !session || session.state !== 'connected' || !raw.connected || raw.ended) {
            raw?.close();
            raw = rig.track(await RawSession.open(server.address().url));
            expect(raw.connected).toBe(true);
            session = sessions.at(-1)!;
          }
          const s = session;
          raw.paused = true;
          await sleep(5); // what the endpoint had already sent is in
          const before = s.stats();
          const counted = ds.filter((d) => !isResume(d));
          const unreadable = counted.filter((d) => inspectPacket(d, withIds).kind === 'malformed').length;
          raw.paused = true; // only these datagrams reach the session until they are counted
          for (const d of ds) raw.sendDatagram(d);
          const reached = await waitUntil(
            () => s.stats().packetsReceived >= before.packetsReceived + counted.length || s.state !== 'connected',
            5000,
          );
          raw.paused = false;
          expect(reached).toBe(true);
          const after = s.stats();
          expect(after.internalErrors).toBe(0);
          if (s.state === 'connected') {
            expect(after.packetsReceived).toBe(before.packetsReceived + counted.length);
            expect(after.malformedPackets - before.malformedPackets).toBeGreaterThanOrEqual(unreadable);
          } else cut++;
        }),
        fuzzParams(0.25),
      );
    } finally {
      raw?.close();
    }
    console.info(`websocket fuzz: ${sessions.length} sessions, ${cut} ended by what they were sent`);
    for (const s of sessions) expect(s.stats().internalErrors, `session ${s.id}`).toBe(0);
    expect(await waitUntil(() => server.pendingLinks === 0 && server.sessionCount === 0, HANDSHAKE + 2 * TIMEOUT + 3000)).toBe(true);
    expect(await wellBehavedClientServed(server, 'websocket')).toBe(true);
  });
});

// ---- frames --------------------------------------------------------------------------------------

interface Frame {
  fin: boolean;
  opcode: number;
  masked: boolean;
  mask: number;
  payload: Uint8Array;
  /** Which length encoding (7-bit when it fits, else 16; 64 forced sometimes). */
  long: 7 | 16 | 64;
}

function frameFields(f: Frame): Field[] {
  const n = f.payload.length;
  const len = f.long === 64 ? 127 : f.long === 16 || n > 125 ? 126 : n;
  const fs: Field[] = [u8('fin rsv opcode', (f.fin ? 0x80 : 0) | (f.opcode & 0x0f)), u8('mask length', (f.masked ? 0x80 : 0) | len)];
  if (len === 126) fs.push(u16('length 16', n));
  if (len === 127) fs.push(u32('length 64 high', 0), u32('length 64 low', n));
  if (f.masked) fs.push(u32('mask key', f.mask));
  const body = f.payload.slice();
  if (f.masked) for (let i = 0; i < body.length; i++) body[i]! ^= (f.mask >>> (8 * (3 - (i & 3)))) & 0xff;
  fs.push(bytes('payload', body));
  return fs;
}

/** Opens a TCP connection to the server and upgrades it; resolves with the socket once 101 is in. */
function upgraded(port: number, sockets: net.Socket[]): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    sockets.push(socket);
    let head = '';
    socket.on('error', () => {});
    const timer = setTimeout(() => reject(new Error('no 101 within 3 s')), 3000);
    socket.on('data', function onData(d: Buffer) {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      clearTimeout(timer);
      if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      else resolve(socket);
    });
    socket.once('connect', () =>
      socket.write(
        'GET /volley/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      ),
    );
  });
}

describe('WebSocket frames on a raw socket', () => {
  it('survives any mutated frame, leaves nothing behind, and keeps serving', { timeout: FUZZ_TIMEOUT }, async () => {
    const { server, sessions } = await serve();
    const port = server.address().port;
    const connect = encodeControl(honestConnect(server.layout));
    const frame: fc.Arbitrary<Frame> = fc.record({
      fin: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, fc.constant(false)),
      opcode: fc.oneof({ arbitrary: fc.constant(2), weight: 6 }, fc.constantFrom(0, 1, 8, 9, 10), fc.nat({ max: 15 })),
      masked: fc.oneof({ arbitrary: fc.constant(true), weight: 6 }, fc.constant(false)),
      mask: fc.nat({ max: 0xffffffff }),
      payload: fc.oneof(
        fc.constant(connect),
        peerDatagramArb(honestConnect(server.layout), modesOf(server.layout)),
        fc.uint8Array({ minLength: 126, maxLength: 1400 }),
      ),
      long: fc.constantFrom(7 as const, 7 as const, 16 as const, 64 as const),
    });
    const sockets: net.Socket[] = [];
    let closedByServer = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(fuzzed(frame, frameFields, 3), { minLength: 1, maxLength: 3 }), async (frames) => {
          const socket = await upgraded(port, sockets);
          let closed = false;
          socket.once('close', () => (closed = true));
          for (const f of frames) if (!socket.destroyed) socket.write(f.bytes);
          await waitUntil(() => closed, 30);
          if (closed) closedByServer++;
          socket.destroy();
          await sleep(0);
        }),
        fuzzParams(0.25),
      );
    } finally {
      for (const s of sockets) s.destroy();
    }
    console.info(`websocket frames: ${closedByServer} connections closed by the server, ${sessions.length} sessions started`);
    expect(await waitUntil(() => server.pendingLinks === 0 && server.sessionCount === 0, HANDSHAKE + 2 * TIMEOUT + 3000)).toBe(true);
    for (const s of sessions) expect(s.stats().internalErrors, `session ${s.id}`).toBe(0);
    expect(await wellBehavedClientServed(server, 'websocket')).toBe(true);
  });
});
