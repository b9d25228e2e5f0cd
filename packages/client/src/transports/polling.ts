/**
 * HTTP long-polling client transport, binary both ways (docs/transports.md). Browser-safe: only fetch.
 *
 * open() POSTs {prefix}/open and gets a 16-byte link key. Then exactly one GET {prefix}/{keyhex} is
 * outstanding at a time (re-issued as soon as each answer is read), and POSTs carrying batches
 * (`u16 length BE | datagram`, repeated) go strictly one at a time, in order: the protocol runs without
 * retransmission over this transport, so ordering must hold. Any failed request closes the transport.
 */

import { encodeBatch, parseBatch } from '@volley/protocol';
import type { ClientTransport, ServerInfo } from '../transport.js';

const DEFAULT_PREFIX = '/volley/poll';
/** Largest POST body the client builds (the server accepts 256 KiB by default). */
const MAX_POST_BYTES = 64 * 1024;
/** A GET held longer than the server's hold time plus this is taken as a dead connection. */
const GET_GRACE_MS = 15_000;
/** After close(), how long POSTs already queued (a DISCONNECT) may take to go out. */
const CLOSE_FLUSH_MS = 5_000;

export class PollingClientTransport implements ClientTransport {
  readonly kind = 'polling' as const;
  readonly reliable = true;
  onDatagram: (datagram: Uint8Array) => void = () => {};
  onClose: (reason: string) => void = () => {};
  /** The polling base URL, e.g. http://host:8080/volley/poll. */
  readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly getTimeoutMs: number;
  private linkUrl: string | undefined;
  /** open → closing (close() asked: no GETs, queued POSTs still go) → done. */
  private state: 'idle' | 'opening' | 'open' | 'closing' | 'done' = 'idle';
  private readonly getCtl = new AbortController();
  private readonly postCtl = new AbortController();
  private outbox: Uint8Array[] = [];
  private posting = false;
  private postScheduled = false;

  constructor(baseUrl: URL, info: ServerInfo, fetchImpl: typeof fetch = globalThis.fetch) {
    const p = info.endpoints.polling?.['prefix'];
    const prefix = (typeof p === 'string' && p.startsWith('/') ? p : DEFAULT_PREFIX).replace(/\/+$/, '');
    const url = new URL(prefix, baseUrl);
    url.hash = '';
    url.search = '';
    this.base = url.href;
    const hold = info.endpoints.polling?.['holdMs'];
    this.getTimeoutMs = (typeof hold === 'number' && hold > 0 ? hold : 20_000) + GET_GRACE_MS;
    // Called as a plain function: window.fetch throws "Illegal invocation" when called as a method of another object.
    this.fetchFn = (input, init) => fetchImpl(input, init);
  }

  async open(signal: AbortSignal): Promise<void> {
    if (this.state !== 'idle') throw new Error('polling transport already used');
    if (signal.aborted) throw new Error(`polling open to ${this.base} aborted`);
    this.state = 'opening';
    const ctl = new AbortController();
    const onAbort = (): void => ctl.abort();
    signal.addEventListener('abort', onAbort);
    const stopOnClose = (): void => ctl.abort();
    this.getCtl.signal.addEventListener('abort', stopOnClose);
    let key: Uint8Array;
    try {
      const res = await this.fetchFn(`${this.base}/open`, { method: 'POST', signal: ctl.signal });
      const body = new Uint8Array(await res.arrayBuffer());
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${textOf(body)}`);
      if (body.byteLength !== 16) throw new Error(`expected a 16-byte link key, got ${body.byteLength} bytes`);
      key = body;
    } catch (e) {
      const wasClosed = (this.state as string) === 'done';
      this.state = 'done';
      this.getCtl.abort();
      if (signal.aborted) throw new Error(`polling open to ${this.base} aborted`, { cause: e });
      if (wasClosed) throw new Error(`polling transport to ${this.base} closed during open`, { cause: e });
      throw new Error(`polling open to ${this.base} failed: ${(e as Error).message}`, { cause: e });
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.getCtl.signal.removeEventListener('abort', stopOnClose);
    }
    if ((this.state as string) === 'done') throw new Error(`polling transport to ${this.base} closed during open`);
    this.linkUrl = `${this.base}/${hex(key)}`;
    this.state = 'open';
    void this.pollLoop(this.linkUrl);
    if (this.outbox.length > 0) this.schedulePost();
  }

  send(datagram: Uint8Array): void {
    if ((this.state !== 'open' && this.state !== 'opening') || datagram.byteLength > 0xffff) return;
    this.outbox.push(datagram.slice());
    if (this.state === 'open') this.schedulePost();
  }

  close(): void {
    if (this.state === 'done' || this.state === 'closing') return;
    const hadLink = this.state === 'open';
    this.state = hadLink && (this.posting || this.outbox.length > 0) ? 'closing' : 'done';
    this.getCtl.abort();
    if (!hadLink) {
      this.postCtl.abort();
      return;
    }
    if (this.state === 'done') return void this.sayGoodbye();
    // Let the POSTs already queued go out (bounded), then tell the server we are gone.
    const t = setTimeout(() => this.postCtl.abort(), CLOSE_FLUSH_MS);
    if (typeof t === 'object' && t && 'unref' in t) t.unref();
  }

  // ---- receiving ------------------------------------------------------------------------------

  private async pollLoop(url: string): Promise<void> {
    while (this.state === 'open') {
      let res: Response;
      let body: Uint8Array;
      const timer = setTimeout(() => this.fail(`poll timed out (no answer in ${this.getTimeoutMs} ms)`), this.getTimeoutMs);
      try {
        res = await this.fetchFn(url, { method: 'GET', signal: this.getCtl.signal });
        body = new Uint8Array(await res.arrayBuffer());
      } catch (e) {
        if (this.state === 'open') this.fail(`poll failed: ${(e as Error).message}`);
        return;
      } finally {
        clearTimeout(timer);
      }
      if (this.state !== 'open') return;
      if (res.status === 204) continue;
      if (res.status !== 200) return this.fail(statusReason('poll', res.status, body));
      const datagrams = parseBatch(body);
      if (typeof datagrams === 'string') return this.fail(`bad poll answer from server: ${datagrams}`);
      for (const d of datagrams) {
        if (this.state !== 'open') return;
        this.onDatagram(d);
      }
    }
  }

  // ---- sending --------------------------------------------------------------------------------

  /** Sends on the next microtask, so datagrams sent together go in one POST. */
  private schedulePost(): void {
    if (this.posting || this.postScheduled) return;
    this.postScheduled = true;
    queueMicrotask(() => {
      this.postScheduled = false;
      void this.postLoop();
    });
  }

  private async postLoop(): Promise<void> {
    if (this.posting || !this.linkUrl) return;
    this.posting = true;
    try {
      while (this.outbox.length > 0 && (this.state === 'open' || this.state === 'closing')) {
        let n = 0;
        let size = 0;
        while (n < this.outbox.length && (n === 0 || size + 2 + this.outbox[n]!.byteLength <= MAX_POST_BYTES)) {
          size += 2 + this.outbox[n]!.byteLength;
          n++;
        }
        const batch = encodeBatch(this.outbox.splice(0, n), size);
        let res: Response;
        let body: Uint8Array;
        try {
          res = await this.fetchFn(this.linkUrl, { method: 'POST', body: batch, signal: this.postCtl.signal });
          body = new Uint8Array(await res.arrayBuffer());
        } catch (e) {
          return this.fail(`send failed: ${(e as Error).message}`);
        }
        if (res.status !== 204 && res.status !== 200) return this.fail(statusReason('send', res.status, body));
      }
    } finally {
      this.posting = false;
    }
    if (this.state === 'closing') {
      this.state = 'done';
      this.sayGoodbye();
    }
  }

  /** Tells the server the link is over (best effort), so it need not wait for the abandon timeout. */
  private sayGoodbye(): void {
    this.postCtl.abort();
    const url = this.linkUrl;
    if (!url) return;
    this.fetchFn(url, { method: 'DELETE' }).then(
      (r) => r.arrayBuffer().catch(() => undefined),
      () => undefined,
    );
  }

  /** The transport died on its own: free everything, report once. */
  private fail(reason: string): void {
    const report = this.state === 'open';
    if (this.state === 'done') return;
    this.state = 'done';
    this.outbox = [];
    this.getCtl.abort();
    this.postCtl.abort();
    if (report) this.onClose(reason);
  }
}

function statusReason(what: string, status: number, body: Uint8Array): string {
  const text = textOf(body);
  if (status === 404) return `link not found on server (expired or unknown)${text ? `: ${text}` : ''}`;
  if (status === 410) return `closed by server${text ? `: ${text}` : ''}`;
  return `${what} failed: HTTP ${status}${text ? `: ${text}` : ''}`;
}

function textOf(body: Uint8Array): string {
  return new TextDecoder().decode(body.subarray(0, 200)).trim();
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
