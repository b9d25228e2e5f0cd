/**
 * Structured fuzzing of the long-polling endpoint of a real server on 127.0.0.1
 * (packages/server/src/transports/polling.ts): a batch is repeated `u16 length | datagram`, and each
 * datagram is a protocol packet a peer may send (formats.ts: CONNECTs from the honest one, data packets for
 * the layout, control packets, garbage), the datagrams and the batch framing both mutated. Per run a link
 * is opened, batches are POSTed, a GET collects the answer, a DELETE ends it. Properties:
 *  - every POST is answered as the framing demands: 204 for a well-formed batch (410 once the server closed
 *    the link), 400 for a malformed one, 413 for a datagram over the limit — never anything else;
 *  - everything the server sends back is a well-formed batch of well-formed protocol packets;
 *  - requests to any method and path under the prefix get a 2xx/4xx answer, never a 5xx or no answer;
 *  - afterwards no link and no session is left (handshake and protocol timeouts), no connection counted an
 *    internal error, and a well-behaved client connects over polling and is echoed.
 */

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { inspectPacket, parseBatch } from '@volley/protocol';
import type { Session } from '@volley/server';
import { SdkRig } from '../support/sdk-rig.js';
import { FUZZ_TIMEOUT, fuzzParams } from './budget.js';
import { batchFields, honestConnect, modesOf, peerDatagramArb } from './formats.js';
import { echoing, ONE_SOURCE_MANY_CLIENTS, waitUntil, wellBehavedClientServed } from './live.js';
import { fuzzed } from './structured.js';

const TIMEOUT = 1000;
const HANDSHAKE = 500;
const MAX_DATAGRAM = 1200 + 64; // the polling default: mtu + 64
const rig = new SdkRig({
  transports: ['polling'],
  protocol: { timeout: TIMEOUT },
  limits: { handshakeTimeout: HANDSHAKE, ...ONE_SOURCE_MANY_CLIENTS },
  polling: { holdMs: 100 },
});

const request = (url: string, init: RequestInit = {}) => fetch(url, { ...init, signal: AbortSignal.timeout(5000) });

async function openLink(base: string): Promise<string> {
  const res = await request(`${base}/volley/poll/open`, { method: 'POST' });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer()).toString('hex');
}

async function serve() {
  const server = echoing(await rig.serve());
  const sessions: Session[] = [];
  server.onConnect((s) => sessions.push(s));
  server.onError(() => {}); // counted per session; the fuzz input is meant to be bad
  const withIds = modesOf(server.layout).flatMap((m, ch) => (m === 'id' ? [ch] : []));
  return { server, sessions, withIds, base: server.address().url };
}

describe('long-polling batches against a real server', () => {
  it(
    'answers every POST as its framing demands, sends only well-formed packets, and keeps serving',
    { timeout: FUZZ_TIMEOUT },
    async () => {
      const { server, sessions, withIds, base } = await serve();
      const datagram = peerDatagramArb(honestConnect(server.layout), modesOf(server.layout));
      const batch = fuzzed(fc.array(datagram, { maxLength: 5 }), batchFields, 2);
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(fc.array(batch, { minLength: 1, maxLength: 3 }), async (batches) => {
          const key = await openLink(base);
          const link = `${base}/volley/poll/${key}`;
          for (const b of batches) {
            const parsed = parseBatch(b.bytes, MAX_DATAGRAM);
            const res = await request(link, { method: 'POST', body: Buffer.from(b.bytes) });
            await res.arrayBuffer();
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (typeof parsed === 'string') expect(res.status, parsed).toBe(parsed.startsWith('datagram of') ? 413 : 400);
            else expect([204, 410]).toContain(res.status);
          }
          const got = await request(link);
          expect([200, 204, 410]).toContain(got.status);
          if (got.status === 200) {
            const back = parseBatch(new Uint8Array(await got.arrayBuffer()));
            if (typeof back === 'string') throw new Error(`the server sent a malformed batch: ${back}`);
            for (const d of back) expect(inspectPacket(d, withIds).kind, Buffer.from(d).toString('hex')).not.toBe('malformed');
          } else await got.arrayBuffer();
          const del = await request(link, { method: 'DELETE' });
          await del.arrayBuffer();
          expect([204, 404, 410]).toContain(del.status);
        }),
        fuzzParams(0.15),
      );
      console.info('polling fuzz: POST statuses', Object.fromEntries(statuses));
      expect(await waitUntil(() => server.pendingLinks === 0 && server.sessionCount === 0, HANDSHAKE + 2 * TIMEOUT + 3000)).toBe(true);
      for (const s of sessions) expect(s.stats().internalErrors, `session ${s.id}`).toBe(0);
      expect(await wellBehavedClientServed(server, 'polling')).toBe(true);
    },
  );

  it('answers any method on any path under the prefix with a 2xx or 4xx, and keeps serving', { timeout: FUZZ_TIMEOUT }, async () => {
    const { server, base } = await serve();
    const key = await openLink(base);
    const tail = fc.oneof(
      fc.constantFrom(
        '',
        '/',
        '/open',
        '/open/',
        '//open',
        '/open/x',
        `/${key}`,
        `/${key}/`,
        `/${key.toUpperCase()}`,
        `/${key.slice(1)}`,
        `/${key}0`,
        `/${'g'.repeat(32)}`,
      ),
      fc.string({ maxLength: 40, unit: 'grapheme-ascii' }).map((s) => `/${encodeURIComponent(s)}`),
    );
    const method = fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD');
    await fc.assert(
      fc.asyncProperty(method, tail, fc.option(fc.uint8Array({ maxLength: 300 }), { nil: undefined }), async (m, path, body) => {
        const withBody = body !== undefined && m !== 'GET' && m !== 'HEAD';
        const res = await request(`${base}/volley/poll${path}`, { method: m, ...(withBody ? { body: Buffer.from(body) } : {}) });
        await res.arrayBuffer();
        expect(res.status, `${m} ${path}`).toBeGreaterThanOrEqual(200);
        expect(res.status, `${m} ${path}`).toBeLessThan(500);
      }),
      fuzzParams(0.25),
    );
    expect(await wellBehavedClientServed(server, 'polling')).toBe(true);
  });
});
