/**
 * The one budget every fuzz target reads (docs/testing.md, "Fuzzing and soak").
 *
 *   VOLLEY_FUZZ_RUNS   runs per property (default 200: `npm test` stays fast; `npm run fuzz` sets 20 000).
 *                      Targets that cost a real request or session per run take a fraction (`scale`).
 *   VOLLEY_FUZZ_SEED   fast-check's seed. Unset: a fresh one per file, printed before the file runs, so even
 *                      a run that hangs can be replayed.
 *   VOLLEY_FUZZ_PATH   with the seed, replays exactly the failing case fast-check reported (its `path`).
 *
 * A failing property throws fast-check's report: the counterexample (shrunk), `seed` and `path`.
 * Replay: `VOLLEY_FUZZ_SEED=<seed> VOLLEY_FUZZ_PATH=<path> npx vitest run test/fuzz/<file>`.
 */

import type fc from 'fast-check';

function int(name: string, fallback: number | undefined): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** Runs per property at scale 1. */
export const FUZZ_RUNS = Math.max(1, int('VOLLEY_FUZZ_RUNS', 200)!);
/** True when someone asked for a budget (npm run fuzz): then the per-test timeout grows with it. */
export const LONG_FUZZ = process.env.VOLLEY_FUZZ_RUNS !== undefined && FUZZ_RUNS > 200;
export const FUZZ_SEED = int('VOLLEY_FUZZ_SEED', undefined) ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const FUZZ_PATH = process.env.VOLLEY_FUZZ_PATH || undefined;

/** The timeout of one fuzz test: vitest's 60 s by default, hours for a long budget. */
export const FUZZ_TIMEOUT = LONG_FUZZ ? 4 * 3600_000 : 60_000;

let announced = false;

/** Runs for a target that costs `scale` of a cheap one per run (live-server targets take 0.05–0.25). */
export function runs(scale = 1): number {
  return Math.max(1, Math.round(FUZZ_RUNS * scale));
}

/** fast-check parameters for one property: the budget, the seed (printed once per file), a replay path. */
export function fuzzParams<T>(scale = 1): fc.Parameters<T> {
  if (!announced) {
    announced = true;
    console.info(
      `fuzz: seed ${FUZZ_SEED}, ${FUZZ_RUNS} runs per property at scale 1 (replay: VOLLEY_FUZZ_SEED=${FUZZ_SEED} [VOLLEY_FUZZ_PATH=…])`,
    );
  }
  return { numRuns: runs(scale), seed: FUZZ_SEED, ...(FUZZ_PATH ? { path: FUZZ_PATH } : {}) };
}
