/** Bounded waits: every wait of the network benchmark ends by itself. */

import { performance } from 'node:perf_hooks';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `done` every `pollMs` until it is true (resolves true) or `timeoutMs` passed (resolves false). */
export async function waitUntil(done: () => boolean, timeoutMs: number, pollMs = 5): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() >= end) return false;
    await sleep(pollMs);
  }
  return true;
}

/** Waits for `p` at most `ms`; true if it settled in time (the timer is cleared either way). */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with `p`, or rejects after `ms` (the timer is cleared either way). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every cleanup, each bounded by `ms`, and never throws (a failure is returned as text). */
export async function cleanup(steps: (() => unknown)[], ms = 5000): Promise<string[]> {
  const errors: string[] = [];
  for (const step of steps) {
    try {
      await within(Promise.resolve().then(step), ms, 'cleanup');
    } catch (e) {
      errors.push(e instanceof Error ? e.message : String(e));
    }
  }
  return errors;
}

export const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
