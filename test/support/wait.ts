/** Waiting helpers for the lifecycle tests: every wait has a deadline, every loop is bounded. */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Sleeps until performance.now() reaches `at` (returns at once when it already has). */
export const sleepUntil = (at: number): Promise<void> => sleep(at - performance.now());

const POLL_MS = 10;

/**
 * Checks `f` every 10 ms until it returns something other than undefined or false, or until performance.now()
 * passes `deadline`; resolves with the value, or undefined at the deadline (the caller asserts on what it saw).
 */
export async function waitUntil<T>(f: () => T | undefined | false, deadline: number): Promise<T | undefined> {
  const maxChecks = Math.ceil(Math.max(0, deadline - performance.now()) / POLL_MS) + 2;
  for (let i = 0; i < maxChecks; i++) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (performance.now() >= deadline) return undefined;
    await sleep(Math.min(POLL_MS, deadline - performance.now()));
  }
  const v = f();
  return v === false ? undefined : v;
}

/** Like waitUntil with a duration, but throws `timed out after N ms waiting for <what>` at the deadline. */
export async function waitFor<T>(what: string, f: () => T | undefined | false, ms: number): Promise<T> {
  const v = await waitUntil(f, performance.now() + ms);
  if (v === undefined) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  return v;
}

/**
 * Polls `f` (sync or async) every `everyMs` until it is true; throws `timed out after N ms waiting for <what>`
 * after `ms`. For checks that cost a round trip (a listing, a Redis command), which waitFor's 10 ms would flood.
 */
export async function eventually(what: string, f: () => boolean | Promise<boolean>, ms: number, everyMs = 250): Promise<void> {
  const until = performance.now() + ms;
  for (let i = 0; i < Math.ceil(ms / everyMs) + 1; i++) {
    if (await f()) return;
    if (performance.now() > until) break;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** Rejects with `what` after `ms` unless `p` settles first. */
export async function withTimeout<T>(what: string, p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
