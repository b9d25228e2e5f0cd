/**
 * The UDP transport's connect tokens on the server (the format is @volley/udp's connect-token.ts): the HTTP
 * route that mints them (POST /volley/udp/token, rate-limited per source) and their redemption by a COOKIE-ECHO:
 * a token opens with `tokenKey`, has not expired, does not claim to live longer than `ttlMs` (so what is
 * remembered of spent tokens is bounded by it), and admits one link (its link id is remembered until it expires).
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { connectTokenToJson, mintConnectToken, openConnectToken, type ConnectGrant } from '@volley/udp';
import { TokenBuckets } from '../source-buckets.js';
import { sourceOf } from '../source-address.js';

/** Where clients get connect tokens (POST, on the HTTP port). */
export const UDP_TOKEN_PATH = '/volley/udp/token';
/** A token minted by another process may run this far ahead of our clock and still be taken. */
const CLOCK_SLACK_MS = 5_000;

export class UdpTokens {
  /** Link ids whose token admitted a link → until the token expires. */
  private readonly spent = new Map<bigint, number>();
  private readonly rate: TokenBuckets;

  constructor(
    private readonly key: Uint8Array,
    private readonly ttlMs: number,
    perSecondPerSource: number,
    /** Most spent tokens remembered at once; past it no new link is admitted. */
    private readonly maxSpent: number,
    private readonly clock: () => number,
  ) {
    this.rate = new TokenBuckets(perSecondPerSource, Math.max(1, Math.ceil(2 * perSecondPerSource)), clock);
  }

  /** The route handler: a fresh token as JSON, 405 for anything but POST, 429 past the source's rate. */
  serve(req: IncomingMessage, res: ServerResponse): 'issued' | 'refused' | 'wrong-method' {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' });
      res.end('POST for a connect token\n');
      return 'wrong-method';
    }
    if (!this.rate.take(sourceOf(req.socket.remoteAddress ?? '') ?? 'unknown')) {
      res.writeHead(429, { 'retry-after': '1', 'content-type': 'text/plain' });
      res.end('too many connect tokens from this address\n');
      return 'refused';
    }
    const now = this.clock();
    const token = mintConnectToken(this.key, now + this.ttlMs);
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(connectTokenToJson(token, now)));
    return 'issued';
  }

  /** The grant in `token` for link `id`, or why not. Spends nothing (see spend). */
  redeem(token: Uint8Array, id: bigint): ConnectGrant | 'bad' | 'spent' | 'full' {
    const now = this.clock();
    const grant = openConnectToken(this.key, token, now);
    if (!grant || grant.expires > now + this.ttlMs + CLOCK_SLACK_MS) return 'bad';
    if ((this.spent.get(id) ?? -Infinity) > now) return 'spent';
    if (this.spent.size >= this.maxSpent) return 'full';
    return grant;
  }

  /** The token for link `id` admitted a link: it admits no other before it expires. */
  spend(id: bigint, grant: ConnectGrant): void {
    this.spent.set(id, grant.expires);
  }

  /** Forgets expired tokens and refilled rate buckets. */
  sweep(): void {
    const now = this.clock();
    for (const [id, until] of this.spent) if (until <= now) this.spent.delete(id);
    this.rate.prune();
  }
}
