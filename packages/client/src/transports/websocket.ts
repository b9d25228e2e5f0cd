/**
 * WebSocket client transport: one binary message per protocol datagram, both ways. Browser-safe: the
 * WebSocket class is passed in (globalThis.WebSocket in browsers, the `ws` package's WebSocket in Node 20).
 */

import type { ClientTransport, ServerInfo } from '../transport.js';

const DEFAULT_PATH = '/volley/ws';
const OPEN = 1;
const CLOSED = 3;

export class WebSocketClientTransport implements ClientTransport {
  readonly kind = 'websocket' as const;
  readonly reliable = true;
  onDatagram: (datagram: Uint8Array) => void = () => {};
  onClose: (reason: string) => void = () => {};
  /** The ws:// or wss:// URL this transport connects to. */
  readonly url: string;
  private ws: WebSocket | undefined;
  private done = false;
  /** Rejects a pending open() (close() during open). */
  private abortOpen: ((why: string) => void) | undefined;

  constructor(
    baseUrl: URL,
    info: ServerInfo,
    private readonly WebSocketImpl: typeof WebSocket,
  ) {
    const p = info.endpoints.websocket?.['path'];
    const url = new URL(typeof p === 'string' && p.startsWith('/') ? p : DEFAULT_PATH, baseUrl);
    url.protocol = baseUrl.protocol === 'https:' || baseUrl.protocol === 'wss:' ? 'wss:' : 'ws:';
    url.hash = '';
    this.url = url.href;
  }

  open(signal: AbortSignal): Promise<void> {
    if (this.ws || this.done) return Promise.reject(new Error('websocket transport already used'));
    if (signal.aborted) return Promise.reject(new Error(`websocket open to ${this.url} aborted`));
    return new Promise<void>((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new this.WebSocketImpl(this.url);
      } catch (e) {
        this.done = true;
        reject(new Error(`websocket to ${this.url} failed: ${(e as Error).message}`));
        return;
      }
      this.ws = ws;
      ws.binaryType = 'arraybuffer';
      let errorText = '';
      const settle = (error: string | undefined): void => {
        signal.removeEventListener('abort', onAbort);
        this.abortOpen = undefined;
        if (error === undefined) return resolve();
        this.done = true;
        free(ws);
        reject(new Error(error));
      };
      const onAbort = (): void => settle(`websocket open to ${this.url} aborted`);
      signal.addEventListener('abort', onAbort);
      this.abortOpen = (why) => settle(why);
      ws.onopen = () => {
        settle(undefined);
        this.attach(ws);
      };
      ws.onerror = (ev: Event) => {
        // Browsers give no detail here; ws (Node) puts the cause in `message`. The close event follows.
        const m = (ev as Event & { message?: unknown }).message;
        if (typeof m === 'string' && m) errorText = m;
      };
      ws.onclose = (ev: CloseEvent) => {
        const detail = errorText || `closed before open (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`;
        settle(`websocket to ${this.url} failed: ${detail}`);
      };
    });
  }

  send(datagram: Uint8Array): void {
    const ws = this.ws;
    if (this.done || !ws || ws.readyState !== OPEN) return;
    try {
      ws.send(datagram as Uint8Array<ArrayBuffer>);
    } catch {
      // closing under us: the close event reports it
    }
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.abortOpen?.(`websocket to ${this.url} closed during open`);
    if (this.ws) free(this.ws);
  }

  private attach(ws: WebSocket): void {
    ws.onmessage = (ev: MessageEvent) => {
      if (this.done) return;
      const data: unknown = ev.data;
      if (data instanceof ArrayBuffer) return this.onDatagram(new Uint8Array(data));
      if (ArrayBuffer.isView(data)) return this.onDatagram(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      this.fail(`unexpected ${typeof data === 'string' ? 'text' : 'non-binary'} message from server`, 1003);
    };
    ws.onerror = () => {}; // the close event follows and says why
    ws.onclose = (ev: CloseEvent) => {
      if (this.done) return;
      this.done = true;
      this.onClose(`websocket closed by server (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`);
    };
  }

  private fail(reason: string, code: number): void {
    if (this.done) return;
    this.done = true;
    if (this.ws) free(this.ws, code, reason);
    this.onClose(reason);
  }
}

/** Detaches our handlers and closes the socket; keeps a no-op error handler (ws throws on an unheard 'error'). */
function free(ws: WebSocket, code = 1000, reason = ''): void {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onclose = null;
  ws.onerror = () => {};
  if (ws.readyState === CLOSED) return;
  try {
    if (ws.readyState === OPEN) ws.close(code, reason.slice(0, 120));
    else ws.close();
  } catch {
    // nothing left to free
  }
}
