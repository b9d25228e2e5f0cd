/**
 * Structured fuzzing of the MessagePack a peer sends a real server on 127.0.0.1, in a live session:
 *  - message bodies: envelopes (formats.ts: flags, type, MessagePack or raw body; every length, count and
 *    type byte mutated) as protocol messages on the reliable-ordered channel. The model is decodeMessage
 *    itself: the server's handlers get exactly the messages it decodes, in order, with the same type and
 *    value; each one it refuses is counted once in session.malformedMessages; the session stays up. A
 *    mutation that sets the room flag makes a room frame: decodeRoomFrame is its model (refused: counted).
 *  - auth payloads: MessagePack as the CONNECT payload (≤ 1 KiB) to a server with onAuth. What decodeValue
 *    reads reaches onAuth and the session connects; what it refuses is a REJECT (Rejected, saying
 *    MessagePack) and no session.
 * Afterwards no session is left, none counted an internal error, a well-behaved client is echoed.
 */

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeMessage,
  decodeRoomFrame,
  decodeValue,
  DecodeError,
  DisconnectReason,
  encodeMessage,
  isRoomFrame,
  MAX_CONNECT_PAYLOAD,
} from '@volley/protocol';
import type { Session } from '@volley/server';
import { SdkRig } from '../support/sdk-rig.js';
import { FUZZ_TIMEOUT, fuzzParams } from './budget.js';
import { envelopeArb, envelopeFields, packArb, packFields } from './formats.js';
import { echoing, ONE_SOURCE_MANY_CLIENTS, RawSession, waitUntil, wellBehavedClientServed } from './live.js';
import { decodesOr, fuzzed } from './structured.js';

const TIMEOUT = 2000;
const generous = { maxMalformedMessages: 1_000_000, messagesPerSecond: 1_000_000, bytesPerSecond: 1 << 30 };
const rig = new SdkRig({
  transports: ['websocket'],
  protocol: { timeout: TIMEOUT },
  limits: { handshakeTimeout: 1000, ...generous, ...ONE_SOURCE_MANY_CLIENTS },
});
const END = 'fuzz:end';
/** Room frame ops a client may send (room-hub.ts); any other is refused as malformed. */
const CLIENT_OPS = new Set(['join', 'list', 'send', 'leave', 'resync', 'input']);

describe('MessagePack message bodies in a live session', () => {
  it('delivers exactly what decodeMessage reads, counts each refusal once, keeps the session', { timeout: FUZZ_TIMEOUT }, async () => {
    const server = echoing(await rig.serve());
    const sessions: Session[] = [];
    server.onConnect((s) => sessions.push(s));
    server.onError(() => {});
    const got: { type: string; data: unknown }[] = [];
    let ended = -1;
    server.onAnyMessage((_s, type, data) => {
      if (type === END) ended = data as number;
      else got.push({ type, data });
    });
    const raw = rig.track(await RawSession.open(server.address().url));
    expect(raw.connected).toBe(true);
    const session = sessions.at(-1)!;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fuzzed(envelopeArb, envelopeFields, 4), { minLength: 1, maxLength: 8 }), async (messages) => {
        const n = run++;
        got.length = 0;
        const malformedBefore = session.malformedMessages;
        const expected: { type: string; data: unknown }[] = [];
        let refused = 0;
        for (const m of messages) {
          if (isRoomFrame(m.bytes)) {
            // A mutated flag byte can make it a room frame (docs/protocol.md §9): the room hub's, not a handler's.
            // Refused (and counted) when it does not decode or is an op only a server sends.
            const f = decodesOr(DecodeError, () => decodeRoomFrame(m.bytes, 'client'));
            if (!f.ok || !CLIENT_OPS.has(f.value.op)) refused++;
          } else {
            const r = decodesOr(DecodeError, () => decodeMessage(m.bytes));
            if (r.ok) expected.push({ type: r.value.type, data: r.value.data });
            else refused++;
          }
          raw.sendMessage(m.bytes);
        }
        raw.sendMessage(encodeMessage(END, n));
        expect(await waitUntil(() => ended === n, 5000), 'the end marker came back').toBe(true);
        // An echo handler answers 'echo' on the server's own: that is not ours to model.
        expect(got.filter((g) => g.type !== 'echo')).toEqual(expected.filter((e) => e.type !== 'echo'));
        expect(session.malformedMessages - malformedBefore).toBe(refused);
        expect(session.state).toBe('connected');
      }),
      fuzzParams(0.25),
    );
    expect(session.stats().internalErrors).toBe(0);
    raw.close();
    expect(await wellBehavedClientServed(server, 'websocket')).toBe(true);
    expect(await waitUntil(() => server.sessionCount === 0, 2 * TIMEOUT + 2000)).toBe(true);
  });
});

describe('MessagePack auth payloads', () => {
  it(
    'onAuth gets exactly what decodeValue reads; anything else is refused with Rejected, and no session stays',
    { timeout: FUZZ_TIMEOUT },
    async () => {
      const auths: unknown[] = [];
      const server = echoing(await rig.serve({ onAuth: (auth) => (auths.push(auth), { accept: true }) }));
      const sessions: Session[] = [];
      server.onConnect((s) => sessions.push(s));
      const payload = fuzzed(packArb, packFields, 4).filter((f) => f.bytes.length <= MAX_CONNECT_PAYLOAD);
      let seed = 1;
      await fc.assert(
        fc.asyncProperty(payload, async (f) => {
          const r = decodesOr(DecodeError, () => decodeValue(f.bytes));
          auths.length = 0;
          const raw = rig.track(await RawSession.open(server.address().url, f.bytes, seed++));
          try {
            if (r.ok) {
              expect(raw.connected, JSON.stringify(raw.ended)).toBe(true);
              expect(auths).toEqual([r.value]);
            } else {
              expect(raw.connected).toBe(false);
              expect(raw.ended?.reason).toBe(DisconnectReason.Rejected);
              expect(raw.ended?.text).toMatch(/MessagePack/);
              expect(auths).toEqual([]);
            }
          } finally {
            raw.close();
          }
        }),
        fuzzParams(0.1),
      );
      expect(await waitUntil(() => server.sessionCount === 0, 2 * TIMEOUT + 2000)).toBe(true);
      for (const s of sessions) expect(s.stats().internalErrors, `session ${s.id}`).toBe(0);
      expect(await wellBehavedClientServed(server, 'websocket')).toBe(true);
    },
  );
});
