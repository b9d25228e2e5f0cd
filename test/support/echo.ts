/** A client's round trip through a server that echoes ('echo' back to the sender): the attack tests' check that good clients are still served. */

import type { Client } from '@volley/client';

/** Sends `n` as an 'echo' and resolves when it comes back, with how long that took (ms). */
export async function echoed(c: Client, n: number): Promise<number> {
  const t0 = performance.now();
  const back = new Promise<void>((resolve) => {
    const off = c.onMessage('echo', (v) => {
      if (v === n) {
        off();
        resolve();
      }
    });
  });
  c.send('echo', n);
  await back;
  return performance.now() - t0;
}
