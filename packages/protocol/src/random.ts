/**
 * A small seeded pseudo-random generator (sfc32, state filled by splitmix32) for deterministic
 * simulations: the same seed gives the same stream on every platform. Not for cryptography.
 * splitmix32 is the Hash Prospector variant (0x21f0aaad, 0x735a2d97); the first 12 outputs are skipped.
 */

const TWO_32 = 0x1_0000_0000;

/**
 * Where the protocol gets randomness (connection nonces, session ids and tokens): always injected, never
 * ambient, so the same seed gives the same bytes on the wire. Hosts pass a cryptographic source
 * (crypto.getRandomValues); tests and simulations pass a seeded `Random`.
 */
export interface RandomSource {
  /** A uniformly distributed integer in [0, 2^32). */
  nextU32(): number;
}

/** `count` bytes from `source`. */
export function randomBytes(source: RandomSource, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i += 4) {
    const x = source.nextU32();
    for (let j = 0; j < 4 && i + j < count; j++) out[i + j] = (x >>> (8 * j)) & 0xff;
  }
  return out;
}

/**
 * Seeded PRNG. Every method draws exactly one value from the stream, except `int`, which may
 * redraw (rarely) to stay unbiased.
 *
 * @example
 * const rng = new Random(42);
 * rng.chance(0.1); // true about 10% of the time, identically on every run with seed 42
 */
export class Random implements RandomSource {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * @param seed Any integer. Its low 32 bits pick the stream (0 is a fine seed).
   * @throws RangeError if `seed` is not an integer.
   */
  constructor(readonly seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`Random: seed must be an integer, got ${seed}`);
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) | 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** A uniformly distributed integer in [0, 2^32). */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.nextU32() / TWO_32;
  }

  /**
   * An unbiased integer in [0, maxExclusive).
   * @throws RangeError unless `maxExclusive` is an integer in [1, 2^32].
   */
  int(maxExclusive: number): number {
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > TWO_32) {
      throw new RangeError(`Random.int: maxExclusive must be an integer in [1, 2^32], got ${maxExclusive}`);
    }
    const limit = TWO_32 - (TWO_32 % maxExclusive);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % maxExclusive;
  }

  /**
   * True with probability `p` (always one draw, so the stream advances the same whatever `p` is).
   * @throws RangeError unless `p` is in [0, 1].
   */
  chance(p: number): boolean {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Random.chance: p must be in [0, 1], got ${p}`);
    return this.float() < p;
  }
}
