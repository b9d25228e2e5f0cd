/**
 * Regression, found by the soak test (churn.test.ts): under connect/close churn on loopback, about one raw-UDP
 * client in 150–400 never got an answer to its CONNECT ("no transport worked: udp (no answer to CONNECT within
 * 5000 ms)"); the same churn over WebSocket never failed. Cause: a UDP cookie was a function of the source
 * address, port and time bucket only, and a cookie admits one link — so a new client whose socket got the port
 * of a client that had just left found its cookie spent for up to 20 s. Now the cookie also covers the HELLO's
 * nonce (docs/transports.md, "UDP"), so each HELLO's cookie is its own.
 *
 * 8 workers connect and close UDP clients one after another, at most 600 in all and 60 s; every connect must
 * succeed.
 */

import { expect, it } from 'vitest';
import { createClient } from '@volley/client';
import { SdkRig } from '../support/sdk-rig.js';
import { ONE_SOURCE_MANY_CLIENTS, ONE_SOURCE_MANY_UDP_CLIENTS } from '../fuzz/live.js';

const rig = new SdkRig({ transports: ['udp'], limits: { ...ONE_SOURCE_MANY_CLIENTS }, udp: ONE_SOURCE_MANY_UDP_CLIENTS });

it('every raw-UDP client under connect/close churn gets its CONNECT answered', { timeout: 90_000 }, async () => {
  const server = await rig.serve();
  const url = server.address().url;
  const failures: string[] = [];
  const end = performance.now() + 60_000;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < 600 && failures.length === 0 && performance.now() < end) {
      const n = next++;
      const c = createClient(url, { transports: ['udp'] });
      try {
        await c.connect();
      } catch (e) {
        failures.push(`client ${n} of ${next}: ${(e as Error).message}`);
      }
      await c.close();
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  expect(failures).toEqual([]);
});
