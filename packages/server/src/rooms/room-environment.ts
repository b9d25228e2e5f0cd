/**
 * What the room layer needs of the world, injected: the clock, timers and randomness. The server gives it
 * the real ones (`nodeRoomEnvironment`); @volley/testing gives it simulated time and a seeded generator, so
 * the same rooms run deterministically in tests.
 */

import { randomBytes } from 'node:crypto';

export interface RoomEnvironment {
  /** Now, ms (the server's clock: what clients read with serverTime()). */
  now(): number;
  /** Runs `run` after `ms` (0: as soon as the current task is done); returns the function that cancels it. */
  after(ms: number, run: () => void): () => void;
  /** `n` unpredictable bytes (room ids, seat ids, reconnection secrets). */
  randomBytes(n: number): Uint8Array;
}

/** Real time and the OS's cryptographic randomness; timers do not keep the process alive (the server's sockets do). */
export const nodeRoomEnvironment: RoomEnvironment = {
  now: () => performance.now(),
  after: (ms, run) => {
    if (ms <= 0) {
      const immediate = setImmediate(run);
      immediate.unref();
      return () => clearImmediate(immediate);
    }
    const timer = setTimeout(run, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
  randomBytes: (n) => new Uint8Array(randomBytes(n)),
};

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_';

/** An id of `length` characters from [0-9A-Za-z_-] (6 random bits each): room ids, seat ids, secrets. */
export function randomId(env: RoomEnvironment, length: number): string {
  const bytes = env.randomBytes(length);
  let s = '';
  for (const b of bytes) s += ALPHABET[b & 63];
  return s;
}
