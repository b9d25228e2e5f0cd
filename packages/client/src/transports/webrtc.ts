/**
 * WebRTC client transport: one unordered, unreliable (maxRetransmits 0) data channel to the server, one
 * binary message per protocol datagram. Browser-safe: only fetch, RTCPeerConnection and timers, no Node
 * import here. In Node, call installNodeWebRTC() (node-webrtc.ts) first so that RTCPeerConnection exists.
 *
 * open(): the server makes the offer and the data channel (webrtc-signaling.ts does the HTTP exchange,
 * against the server's /.wrtc/v2 routes on the base URL's host and port); here we answer it, add the
 * server's candidates as polling brings them, and wait for the server's data channel to open. Polling
 * stops once it is open. Every timer and request of the attempt ends when open() settles or close() is
 * called, so a Node process exits as soon as its last transport is closed; every promise is handled.
 *
 * A close by the server is seen at once (the data channel's close event; on loopback within a few ms).
 * A server that vanishes without closing is seen when ICE gives up (peer connection 'failed'); the
 * protocol's own timeout usually comes first. A transient 'disconnected' is not a close. Our own close()
 * tells the server (POST …/close) so that it frees its side at once; a close by the server does not.
 */

import type { ClientTransport, ServerInfo } from '../transport.js';
import { WebRtcSignaling } from './webrtc-signaling.js';

export interface WebRtcClientOptions {
  /** STUN/TURN servers for this side's candidates. Default [] (no public STUN server is contacted). */
  iceServers?: RTCIceServer[];
  /** open() rejects if the data channel is not open within this many ms. Default 10 000. */
  timeoutMs?: number;
  /** Datagrams are dropped while more than this many bytes wait in the data channel's send buffer. Default 1 MiB. */
  maxBufferedBytes?: number;
}

export class WebRtcClientTransport implements ClientTransport {
  readonly kind = 'webrtc' as const;
  readonly reliable = false;
  onDatagram: (datagram: Uint8Array) => void = () => {};
  onClose: (reason: string) => void = () => {};
  /** The server's origin, where signaling goes, e.g. "http://127.0.0.1:8080". */
  readonly url: string;

  private readonly iceServers: RTCIceServer[];
  private readonly timeoutMs: number;
  private readonly maxBuffered: number;
  private state: 'new' | 'opening' | 'open' | 'closed' = 'new';
  private signaling: WebRtcSignaling | undefined;
  private pc: RTCPeerConnection | undefined;
  private dc: RTCDataChannel | undefined;
  private maxMessageSize = 65_536;
  /** Aborted when the attempt is over (failed, abandoned or closed): ends its waits. */
  private attempt: AbortController | undefined;
  /** Rejects a pending open() (close() during open). */
  private abortOpen: ((why: string) => void) | undefined;
  /** Removes the listeners attach() added. */
  private detach: (() => void) | undefined;

  constructor(baseUrl: URL, _info: ServerInfo, options: WebRtcClientOptions = {}) {
    const secure = baseUrl.protocol === 'https:' || baseUrl.protocol === 'wss:';
    const port = baseUrl.port ? Number(baseUrl.port) : secure ? 443 : 80;
    this.url = `${secure ? 'https:' : 'http:'}//${baseUrl.hostname}:${port}`;
    this.iceServers = options.iceServers ?? [];
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxBuffered = options.maxBufferedBytes ?? 1 << 20;
  }

  open(signal: AbortSignal): Promise<void> {
    if (this.state !== 'new') return Promise.reject(new Error('webrtc transport already used'));
    if (signal.aborted) return Promise.reject(new Error(`webrtc open to ${this.url} aborted`));
    if (typeof globalThis.RTCPeerConnection !== 'function') {
      this.state = 'closed';
      return Promise.reject(new Error('webrtc: RTCPeerConnection is not available here (in Node, call installNodeWebRTC() first)'));
    }
    if (typeof globalThis.fetch !== 'function') {
      this.state = 'closed';
      return Promise.reject(new Error('webrtc: fetch is not available here'));
    }
    this.state = 'opening';
    const attempt = new AbortController();
    this.attempt = attempt;
    this.signaling = new WebRtcSignaling(this.url);

    return new Promise<void>((resolve, reject) => {
      const settle = (error: string | undefined): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.abortOpen = undefined;
        if (error === undefined) return resolve();
        this.state = 'closed';
        this.free(true);
        reject(new Error(error));
      };
      const onAbort = (): void => settle(`webrtc open to ${this.url} aborted`);
      const timer = setTimeout(() => settle(`webrtc to ${this.url}: no connection within ${this.timeoutMs} ms`), this.timeoutMs);
      signal.addEventListener('abort', onAbort);
      this.abortOpen = (why) => settle(why);

      this.connect(attempt.signal).then(
        () => {
          if (this.state !== 'opening') return; // settled already; free() has closed everything
          this.state = 'open';
          settle(undefined);
        },
        (e: unknown) => {
          if (this.state === 'opening') settle(`webrtc to ${this.url} failed: ${(e as Error)?.message || String(e)}`);
        },
      );
    });
  }

  send(datagram: Uint8Array): void {
    const dc = this.dc;
    if (this.state !== 'open' || !dc || dc.readyState !== 'open') return;
    if (datagram.length > this.maxMessageSize || dc.bufferedAmount > this.maxBuffered) return;
    try {
      dc.send(datagram as Uint8Array<ArrayBuffer>);
    } catch {
      // closing under us: the close event reports it
    }
  }

  close(): void {
    if (this.state === 'closed' || this.state === 'new') {
      this.state = 'closed';
      return;
    }
    if (this.state === 'opening') {
      this.abortOpen?.(`webrtc to ${this.url} closed during open`);
      return;
    }
    this.state = 'closed';
    this.free(true);
  }

  /**
   * The attempt, up to an open data channel (then attached); rejects on any failure. Once `abandoned` is
   * aborted (by free()) it creates nothing more, and its waits reject.
   */
  private async connect(abandoned: AbortSignal): Promise<void> {
    const signaling = this.signaling!;
    const offer = await signaling.requestOffer();
    if (abandoned.aborted) throw new Error('abandoned');
    const pc = new RTCPeerConnection({ iceServers: this.iceServers.map((s) => ({ ...s })) });
    this.pc = pc;
    const channel = serverChannel(pc, abandoned);
    channel.catch(() => {}); // awaited below, unless a step before fails
    await pc.setRemoteDescription(offer);
    const answer = await pc.createAnswer();
    if (abandoned.aborted) throw new Error('abandoned');
    await pc.setLocalDescription(answer);
    await signaling.sendAnswer(pc.localDescription ?? answer);
    if (abandoned.aborted) throw new Error('abandoned');
    // Only once the server has our answer: a connectivity check that reaches it sooner is lost, and the
    // next retransmission comes about a second later (measured on loopback with node-datachannel).
    signaling.pollCandidates((candidate) => pc.addIceCandidate(candidate));
    const dc = await channel;
    if (abandoned.aborted) throw new Error('abandoned');
    signaling.stopPolling();
    this.attach(dc, pc);
  }

  private attach(dc: RTCDataChannel, pc: RTCPeerConnection): void {
    this.dc = dc;
    const size = pc.sctp?.maxMessageSize;
    if (typeof size === 'number' && size > 0 && Number.isFinite(size)) this.maxMessageSize = size;
    const onMessage = (ev: MessageEvent): void => {
      if (this.state !== 'open') return;
      const data: unknown = ev.data;
      let bytes: Uint8Array;
      if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
      else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      else return; // text or anything else: not ours
      if (bytes.length > 0) this.onDatagram(bytes);
    };
    const onDcClose = (): void => this.died('webrtc: data channel closed by server');
    const onDcError = (ev: Event): void => {
      const e = (ev as Event & { error?: { message?: unknown } }).error;
      this.died(`webrtc: data channel error${typeof e?.message === 'string' && e.message ? `: ${e.message}` : ''}`);
    };
    const onState = (): void => {
      const s = pc.connectionState;
      if (s === 'failed' || s === 'closed') this.died(`webrtc: peer connection ${s}`);
    };
    dc.addEventListener('message', onMessage);
    dc.addEventListener('close', onDcClose);
    dc.addEventListener('error', onDcError);
    pc.addEventListener('connectionstatechange', onState);
    this.detach = () => {
      dc.removeEventListener('message', onMessage);
      dc.removeEventListener('close', onDcClose);
      dc.removeEventListener('error', onDcError);
      pc.removeEventListener('connectionstatechange', onState);
    };
  }

  /** The connection died on its own: free it (no POST: the server is gone or has closed it) and report. */
  private died(reason: string): void {
    if (this.state !== 'open') return;
    this.state = 'closed';
    this.free(false);
    this.onClose(reason);
  }

  /** Ends the attempt and frees everything: listeners, signaling (telling the server if `tellServer`), the peer connection. */
  private free(tellServer: boolean): void {
    this.detach?.();
    this.detach = undefined;
    this.dc = undefined;
    this.attempt?.abort();
    this.signaling?.close(tellServer);
    const pc = this.pc;
    this.pc = undefined;
    try {
      pc?.close();
    } catch {
      // already closed
    }
  }
}

/**
 * The data channel the server creates, once open (binary as ArrayBuffer). Rejects if the peer connection
 * fails or closes first, the channel closes before opening, or `abandoned` is aborted.
 */
function serverChannel(pc: RTCPeerConnection, abandoned: AbortSignal): Promise<RTCDataChannel> {
  return new Promise((resolve, reject) => {
    let dc: RTCDataChannel | undefined;
    const done = (error: string | undefined): void => {
      pc.removeEventListener('datachannel', onChannel);
      pc.removeEventListener('connectionstatechange', onState);
      abandoned.removeEventListener('abort', onAbandoned);
      dc?.removeEventListener('open', onOpen);
      dc?.removeEventListener('close', onEarlyClose);
      if (error !== undefined) reject(new Error(error));
      else resolve(dc!);
    };
    const onChannel = (ev: RTCDataChannelEvent): void => {
      if (dc) return; // the server makes one
      dc = ev.channel;
      dc.binaryType = 'arraybuffer';
      if (dc.readyState === 'open') return done(undefined);
      if (dc.readyState !== 'connecting') return done(`data channel ${dc.readyState} before it opened`);
      dc.addEventListener('open', onOpen);
      dc.addEventListener('close', onEarlyClose);
    };
    const onOpen = (): void => done(undefined);
    const onEarlyClose = (): void => done('data channel closed before it opened');
    const onState = (): void => {
      const s = pc.connectionState;
      if (s === 'failed' || s === 'closed') done(`peer connection ${s}`);
    };
    const onAbandoned = (): void => done('abandoned');
    pc.addEventListener('datachannel', onChannel);
    pc.addEventListener('connectionstatechange', onState);
    abandoned.addEventListener('abort', onAbandoned);
  });
}
