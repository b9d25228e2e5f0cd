/**
 * @volley/udp's wire: test vectors for sealed frames (checked against an independent AES-GCM implementation,
 * Python's `cryptography`), connect tokens (round trip, tampering, expiry, another key), and the replay window.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONNECT_TOKEN_SIZE,
  connectTokenFromJson,
  connectTokenToJson,
  FrameOpener,
  FrameSealer,
  mintConnectToken,
  openConnectToken,
  readPn,
  REPLAY_WINDOW,
  ReplayWindow,
  UdpFrame,
  writePn,
} from '../src/index.js';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const LINK = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const hello = new TextEncoder().encode('hello');

describe('sealed frames', () => {
  it('match the test vectors: key 00..1f, link id 0102030405060708, "hello" as pn 0 (c→s DATA) and pn 1 (s→c DATA)', () => {
    const s = new FrameSealer(KEY, LINK);
    // 0xD0 | link id | pn 0 | AES-256-GCM(nonce 00000000|pn, aad d0|link id|pn)("hello") | tag
    expect(hex(s.seal(UdpFrame.Data, hello, { withLinkId: true }))).toBe(
      'd00102030405060708' + '0000000000000000' + '66d9d9b2da' + '0b5444b6c29df90dbdbef5f2511680ee',
    );
    // 0xD0 | pn 1 | sealed: the link id is associated data only
    expect(hex(s.seal(UdpFrame.Data, hello))).toBe('d0' + '0000000000000001' + '7db3d3902b' + '0e41b766a63824863cee12a727ae9bfa');
    expect(s.nextPn).toBe(2);
  });

  it('open only under the same key, link id, type and number, and only once', () => {
    const frame = new FrameSealer(KEY, LINK).seal(UdpFrame.Data, hello, { withLinkId: true });
    const sealed = frame.subarray(17);
    const open = (key: Uint8Array, link: Uint8Array, type: typeof UdpFrame.Data | typeof UdpFrame.Response, pn: number) =>
      new FrameOpener(key, link).open(type, pn, sealed);
    expect(open(Uint8Array.from(KEY).fill(9, 0, 1), LINK, UdpFrame.Data, 0)).toBe('forged');
    expect(open(KEY, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 9]), UdpFrame.Data, 0)).toBe('forged');
    expect(open(KEY, LINK, UdpFrame.Response, 0)).toBe('forged');
    expect(open(KEY, LINK, UdpFrame.Data, 1)).toBe('forged');
    const opener = new FrameOpener(KEY, LINK);
    expect(opener.open(UdpFrame.Data, 0, sealed)).toEqual(hello);
    expect(opener.open(UdpFrame.Data, 0, sealed)).toBe('replay');
    expect(opener.open(UdpFrame.Data, -1, sealed)).toBe('replay');
    expect(opener.open(UdpFrame.Data, 1, sealed.subarray(0, 3))).toBe('forged');
  });

  it('any flipped bit is refused, and a forged frame does not move the replay window', () => {
    const s = new FrameSealer(KEY, LINK);
    const frames = Array.from({ length: 8 }, () => s.seal(UdpFrame.Data, hello, { withLinkId: true }));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 17, max: 17 + 5 + 16 - 1 }),
        fc.integer({ min: 0, max: 7 }),
        (i, at, bit) => {
          const opener = new FrameOpener(KEY, LINK);
          const bad = Buffer.from(frames[i]!);
          bad[at] = bad[at]! ^ (1 << bit);
          expect(opener.open(UdpFrame.Data, readPn(bad, 9), bad.subarray(17))).toBe('forged');
          expect(opener.highest).toBe(-1);
          expect(opener.open(UdpFrame.Data, i, frames[i]!.subarray(17))).toEqual(hello);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('packet numbers round-trip up to 2^53 - 1, and larger ones read as -1', () => {
    const b = new Uint8Array(8);
    for (const pn of [0, 1, 0xffff_ffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER]) {
      writePn(b, 0, pn);
      expect(readPn(b, 0)).toBe(pn);
    }
    b.fill(0xff);
    expect(readPn(b, 0)).toBe(-1);
  });
});

describe('connect tokens', () => {
  const tokenKey = Uint8Array.from({ length: 32 }, (_, i) => 100 + i);

  it('open with their key before they expire, and carry the link id and both keys', () => {
    const t = mintConnectToken(tokenKey, 10_000);
    expect(t.token.length).toBe(CONNECT_TOKEN_SIZE);
    const g = openConnectToken(tokenKey, t.token, 9_999);
    expect(g && { linkId: hex(g.linkId), c: hex(g.clientKey), s: hex(g.serverKey), e: g.expires }).toEqual({
      linkId: hex(t.linkId),
      c: hex(t.clientKey),
      s: hex(t.serverKey),
      e: 10_000,
    });
    expect(openConnectToken(tokenKey, t.token, 10_000)).toBeUndefined(); // expired
    expect(openConnectToken(new Uint8Array(32), t.token, 0)).toBeUndefined(); // another key
  });

  it('refuse any change to any byte, and any other length', () => {
    const t = mintConnectToken(tokenKey, 10_000);
    for (let i = 0; i < CONNECT_TOKEN_SIZE; i++) {
      const bad = Uint8Array.from(t.token);
      bad[i] = bad[i]! ^ 0x01;
      // (Bit 0 of the expiry's last byte moves it to 10 001 ms: still refused, the expiry is authenticated.)
      expect(openConnectToken(tokenKey, bad, 0), `byte ${i}`).toBeUndefined();
    }
    expect(openConnectToken(tokenKey, t.token.subarray(1), 0)).toBeUndefined();
    expect(openConnectToken(tokenKey, new Uint8Array(CONNECT_TOKEN_SIZE + 1), 0)).toBeUndefined();
  });

  it('go to the client as JSON and back, and a bad answer is a clear error', () => {
    const t = mintConnectToken(tokenKey, 40_000);
    const json = connectTokenToJson(t, 10_000);
    expect(json.expiresIn).toBe(30_000);
    const back = connectTokenFromJson(JSON.parse(JSON.stringify(json)));
    expect(hex(back.token)).toBe(hex(t.token));
    expect(hex(back.clientKey)).toBe(hex(t.clientKey));
    expect(() => connectTokenFromJson('x')).toThrow(/not a JSON object/);
    expect(() => connectTokenFromJson({ ...json, clientKey: 'AA' })).toThrow(/clientKey is not 32 bytes/);
    expect(() => connectTokenFromJson({ ...json, expiresIn: -1 })).toThrow(/expiresIn/);
    expect(() => mintConnectToken(new Uint8Array(16), 1)).toThrow(/tokenKey must be 32 bytes/);
  });
});

describe('ReplayWindow', () => {
  it('takes each number once, within the window of the largest', () => {
    const w = new ReplayWindow();
    expect(w.take(5)).toBe(true);
    expect(w.take(5)).toBe(false);
    expect(w.take(3)).toBe(true);
    expect(w.take(3)).toBe(false);
    expect(w.take(5 + REPLAY_WINDOW)).toBe(true);
    expect(w.fresh(5)).toBe(false); // fell out of the window
    expect(w.fresh(6)).toBe(true);
  });

  it('agrees with a set of seen numbers on any sequence of arrivals', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 * REPLAY_WINDOW }), { maxLength: 400 }), (pns) => {
        const w = new ReplayWindow();
        const seen = new Set<number>();
        let largest = -1;
        for (const pn of pns) {
          const expected = !seen.has(pn) && pn > largest - REPLAY_WINDOW;
          expect(w.take(pn)).toBe(expected);
          if (expected) {
            seen.add(pn);
            largest = Math.max(largest, pn);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
