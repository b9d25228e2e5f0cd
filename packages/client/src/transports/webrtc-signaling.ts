/**
 * The WebRTC signaling exchange, over HTTP, for one connection attempt: the routes @geckos.io/server 3.1.0
 * serves under /.wrtc/v2 on the server's HTTP port (the path is fixed by geckos). Browser-safe: only fetch
 * and timers. The data channel itself is webrtc.ts's business.
 *
 *   POST {base}/.wrtc/v2/connections                        → { id, localDescription: the server's offer, userData }
 *   POST {base}/.wrtc/v2/connections/{id}/remote-description  ← our answer { type, sdp }
 *   GET  {base}/.wrtc/v2/connections/{id}/additional-candidates → the server's new ICE candidates since the last GET
 *   POST {base}/.wrtc/v2/connections/{id}/close               the server frees its side at once
 *
 * The offer carries no candidate: they reach us only by polling additional-candidates (ours are not sent;
 * the server learns our address from the connectivity checks). Polling runs a bounded number of times
 * with back-off and stops as soon as the caller says the connection is up (stopPolling) or closes.
 *
 * Requests carry no Content-Type header (the answer goes as text/plain, which the server parses as JSON
 * all the same): cross-origin, they are then "simple" requests, with no CORS preflight round trip.
 *
 * Nothing here outlives close() for long: it stops the polling timer and aborts every request in flight,
 * except two bounded exchanges that free the server's side: the close POST, and an offer request still
 * out (its answer gives the id to close); each is given CLOSE_GRACE_MS, then aborted. Every promise is
 * handled; no request's failure surfaces after close().
 */

export const SIGNALING_PATH = '/.wrtc/v2';

/** Delays before each candidate poll, from the moment polling starts: at once, then back-off (~6.4 s in all). */
const POLL_DELAYS_MS = [0, 50, 100, 200, 400, 800, 1600, 3200];
/** After close(), how long the close POST (or an offer request still out) may take before it is aborted. */
const CLOSE_GRACE_MS = 2_000;
/** geckos' connection ids: 24 alphanumerics (its routes accept no other). */
const ID = /^[0-9a-zA-Z]{24}$/;

export class WebRtcSignaling {
  /** The server's id for this connection, once its offer is in. */
  private id: string | undefined;
  private closed = false;
  /** Set by close(true) while the offer request is out: tell the server once the id arrives. */
  private closeWhenKnown = false;
  private offerPending = false;
  private readonly inFlight = new Set<AbortController>();
  /** True from pollCandidates() until stopPolling() or close(). */
  private polling = false;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private poll: AbortController | undefined;

  /** `base`: the server's origin, e.g. "http://127.0.0.1:8080". */
  constructor(private readonly base: string) {}

  /** POST …/connections: the server creates its peer connection and data channel; resolves with its offer. */
  async requestOffer(): Promise<RTCSessionDescriptionInit> {
    if (this.closed || this.offerPending || this.id !== undefined) throw new Error('signaling: offer already requested');
    this.offerPending = true;
    let body: unknown;
    try {
      body = await this.request('POST', '/connections', undefined, 'json');
    } finally {
      this.offerPending = false;
    }
    const reply = body as { id?: unknown; localDescription?: { type?: unknown; sdp?: unknown } } | null;
    const id = reply?.id;
    const desc = reply?.localDescription;
    if (typeof id !== 'string' || !ID.test(id) || desc?.type !== 'offer' || typeof desc.sdp !== 'string') {
      throw new Error('signaling: the server sent no valid offer');
    }
    this.id = id;
    if (this.closed) {
      // Abandoned while the offer was out: free what the server made for us.
      if (this.closeWhenKnown) this.tellServerClosed();
      throw new Error('signaling closed');
    }
    return { type: 'offer', sdp: desc.sdp };
  }

  /** POST …/remote-description with our answer. */
  async sendAnswer(answer: RTCSessionDescriptionInit): Promise<void> {
    const id = this.requireId();
    await this.request('POST', `/connections/${id}/remote-description`, JSON.stringify({ type: answer.type, sdp: answer.sdp }), 'none');
  }

  /**
   * Polls …/additional-candidates on the POLL_DELAYS_MS schedule, one request at a time, handing each
   * candidate to `add` (whose rejection, e.g. once the peer connection is closed, is ignored). Stops early
   * on stopPolling(), close(), or a 404 (the server no longer knows the connection). Failed polls are
   * skipped.
   */
  pollCandidates(add: (candidate: RTCIceCandidateInit) => Promise<void>): void {
    const id = this.requireId();
    if (this.polling || this.closed) return;
    this.polling = true;
    let next = 0;
    const schedule = (): void => {
      if (!this.polling || next >= POLL_DELAYS_MS.length) return;
      this.pollTimer = setTimeout(run, POLL_DELAYS_MS[next++] ?? 0);
    };
    const run = (): void => {
      this.pollTimer = undefined;
      this.request('GET', `/connections/${id}/additional-candidates`, undefined, 'json', (ctl) => (this.poll = ctl)).then(
        (list) => {
          this.poll = undefined;
          if (!this.polling) return;
          for (const c of Array.isArray(list) ? (list as unknown[]) : []) {
            const candidate = toCandidate(c);
            if (!candidate) continue;
            try {
              add(candidate).catch(() => {});
            } catch {
              // the peer connection is closing: nothing to add to
            }
          }
          schedule();
        },
        (e: unknown) => {
          this.poll = undefined;
          if (!(e instanceof HttpStatusError && e.status === 404)) schedule();
        },
      );
    };
    schedule();
  }

  /** No more candidate polls (the connection is up): clears the timer, aborts a poll in flight. */
  stopPolling(): void {
    this.polling = false;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    const poll = this.poll;
    this.poll = undefined;
    poll?.abort();
  }

  /**
   * Ends signaling: no more polls, requests in flight aborted. With `tellServer`, POSTs …/close so the
   * server frees its side now rather than at its connect timeout or when ICE gives up (if the offer is
   * still out, once its id arrives). Idempotent; never throws.
   */
  close(tellServer: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.stopPolling();
    const offerOut = this.offerPending && tellServer;
    for (const ctl of this.inFlight) {
      if (offerOut)
        this.abortLater(ctl); // the offer request: its id lets us free the server's side
      else ctl.abort();
    }
    if (!tellServer) return;
    if (this.id !== undefined) this.tellServerClosed();
    else if (offerOut) this.closeWhenKnown = true;
  }

  private tellServerClosed(): void {
    const id = this.id;
    if (id === undefined) return;
    this.request('POST', `/connections/${id}/close`, undefined, 'none', (ctl) => this.abortLater(ctl), true).catch(() => {
      // the server is gone or slow: it frees the connection on its own
    });
  }

  /** Aborts `ctl` after CLOSE_GRACE_MS unless its request is done by then. */
  private abortLater(ctl: AbortController): void {
    const timer = setTimeout(() => ctl.abort(), CLOSE_GRACE_MS);
    ctl.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  }

  private requireId(): string {
    if (this.id === undefined) throw new Error('signaling: no offer yet');
    return this.id;
  }

  /**
   * One request to {base}/.wrtc/v2{path}; resolves with the JSON body ('json') or once answered ('none').
   * Rejects on a network error, a non-2xx status (HttpStatusError) or bad JSON, and when aborted: by
   * close(), or by `onController`'s owner. Its controller is aborted once it settles, which also clears any
   * grace timer on it.
   */
  private async request(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    read: 'json' | 'none',
    onController?: (ctl: AbortController) => void,
    afterClose = false,
  ): Promise<unknown> {
    if (this.closed && !afterClose) throw new Error('signaling closed');
    const ctl = new AbortController();
    this.inFlight.add(ctl);
    onController?.(ctl);
    const what = `${method} ${SIGNALING_PATH}${path}`;
    try {
      let res: Response;
      try {
        res = await fetch(`${this.base}${SIGNALING_PATH}${path}`, { method, body, signal: ctl.signal });
      } catch (e) {
        throw new Error(`${what}: ${(e as Error)?.message || String(e)}`, { cause: e });
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        throw new HttpStatusError(`${what} answered ${res.status}`, res.status);
      }
      if (read === 'none') {
        await res.body?.cancel().catch(() => {});
        return undefined;
      }
      try {
        return await res.json();
      } catch (e) {
        throw new Error(`${what}: bad JSON (${(e as Error)?.message || String(e)})`, { cause: e });
      }
    } finally {
      this.inFlight.delete(ctl);
      ctl.abort(); // settled: frees its grace timer, if any
    }
  }
}

class HttpStatusError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** A candidate from the server ({ candidate, sdpMid }), or undefined if malformed. */
function toCandidate(c: unknown): RTCIceCandidateInit | undefined {
  const o = c as { candidate?: unknown; sdpMid?: unknown } | null;
  if (typeof o?.candidate !== 'string' || o.candidate === '') return undefined;
  return { candidate: o.candidate, sdpMid: typeof o.sdpMid === 'string' ? o.sdpMid : '0' };
}
