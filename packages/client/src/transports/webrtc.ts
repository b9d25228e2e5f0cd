/**
 * WebRTC client transport: one unordered, unreliable (maxRetransmits 0) data channel to the server, one
 * binary message per protocol datagram. Browser-safe: no Node import here. In Node, call
 * installNodeWebRTC() (node-webrtc.ts) first so that RTCPeerConnection exists.
 *
 * @geckos.io/client 3.1.0 does the signaling against the server's /.wrtc/v2 routes on the same host and
 * port as the base URL (the path is fixed by geckos). Once connected, datagrams use the RTCDataChannel
 * itself (reached through the geckos channel's internals): geckos' own send path defers each message to a
 * microtask (a caller reusing its buffer would send changed bytes) and logs on oversize.
 *
 * Unhandled rejections, both from geckos (measured): (1) its close() fires a POST …/close whose promise
 * nobody handles — "fetch failed" when the server is gone; (2) its candidate polling (timers up to ~10 s
 * after connect; fetch errors are caught) passes each candidate to addIceCandidate() without handling
 * that promise, which rejects once the peer connection is closed. So this transport never calls geckos'
 * close(): it closes the peer connection and POSTs …/close itself, with the rejection handled (no POST
 * when the server is the one that closed), and gives its peer connection an addIceCandidate that
 * swallows errors. No process-wide handler is installed. In Node the polling timers keep the process
 * alive for up to ~10 s after the last connect.
 *
 * A close by the server is seen at once (the data channel's close event; on loopback within a few ms).
 * A server that vanishes without closing is seen when ICE gives up (peer connection 'failed'); the
 * protocol's own timeout usually comes first. A transient 'disconnected' is not a close.
 */

import geckos, { type ClientChannel } from '@geckos.io/client';
import type { ClientTransport, ServerInfo } from '../transport.js';

/** geckos' fixed signaling prefix. */
const SIGNALING_PATH = '/.wrtc/v2';

export interface WebRtcClientOptions {
  /** STUN/TURN servers for this side's candidates. Default [] (no public STUN server is contacted). */
  iceServers?: RTCIceServer[];
  /** open() rejects if the data channel is not open within this many ms. Default 10 000. */
  timeoutMs?: number;
  /** Datagrams are dropped while more than this many bytes wait in the data channel's send buffer. Default 1 MiB. */
  maxBufferedBytes?: number;
}

/** The parts of a geckos ClientChannel (3.1.0) this transport reaches into; all optional, checked at run time. */
interface GeckosInternals {
  connectionsManager?: {
    localPeerConnection?: RTCPeerConnection;
    dataChannel?: RTCDataChannel;
    remotePeerConnection?: { id?: unknown };
  };
}

function internals(channel: ClientChannel): GeckosInternals['connectionsManager'] {
  return (channel as unknown as GeckosInternals).connectionsManager;
}

export class WebRtcClientTransport implements ClientTransport {
  readonly kind = 'webrtc' as const;
  readonly reliable = false;
  onDatagram: (datagram: Uint8Array) => void = () => {};
  onClose: (reason: string) => void = () => {};
  /** The server's origin as geckos is given it, e.g. "http://127.0.0.1:8080". */
  readonly url: string;

  private readonly origin: string;
  private readonly port: number;
  private readonly iceServers: RTCIceServer[];
  private readonly timeoutMs: number;
  private readonly maxBuffered: number;
  private state: 'new' | 'opening' | 'open' | 'closed' = 'new';
  private channel: ClientChannel | undefined;
  private dc: RTCDataChannel | undefined;
  private maxMessageSize = 65_536;
  /** Rejects a pending open() (close() during open). */
  private abortOpen: ((why: string) => void) | undefined;
  /** Removes the listeners attach() added. */
  private detach: (() => void) | undefined;
  /** Set once free() had to wait for geckos to create the peer connection. */
  private reaper: ReturnType<typeof setInterval> | undefined;
  private toldServer = false;

  constructor(baseUrl: URL, _info: ServerInfo, options: WebRtcClientOptions = {}) {
    const secure = baseUrl.protocol === 'https:' || baseUrl.protocol === 'wss:';
    this.origin = `${secure ? 'https:' : 'http:'}//${baseUrl.hostname}`;
    this.port = baseUrl.port ? Number(baseUrl.port) : secure ? 443 : 80;
    this.url = `${this.origin}:${this.port}`;
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
    this.state = 'opening';
    let channel: ClientChannel;
    try {
      channel = geckos({ url: this.origin, port: this.port, iceServers: this.iceServers });
    } catch (e) {
      this.state = 'closed';
      return Promise.reject(new Error(`webrtc to ${this.url} failed: ${(e as Error).message}`));
    }
    this.channel = channel;

    return new Promise<void>((resolve, reject) => {
      const settle = (error: string | undefined): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.abortOpen = undefined;
        if (error === undefined) return resolve();
        this.state = 'closed';
        this.free(channel, true);
        reject(new Error(error));
      };
      const onAbort = (): void => settle(`webrtc open to ${this.url} aborted`);
      const timer = setTimeout(() => settle(`webrtc to ${this.url}: no connection within ${this.timeoutMs} ms`), this.timeoutMs);
      signal.addEventListener('abort', onAbort);
      this.abortOpen = (why) => settle(why);

      const onConnect = (err?: Error): void => {
        if (this.state !== 'opening') {
          // Abandoned (abort, timeout, close) while geckos was still connecting: free what it made since.
          this.free(channel, true);
          return;
        }
        if (err) return settle(`webrtc to ${this.url} failed: ${err.message || String(err)}`);
        const cm = internals(channel);
        const dc = cm?.dataChannel;
        const pc = cm?.localPeerConnection;
        if (!dc || !pc) return settle('webrtc: unsupported @geckos.io/client version (no data channel)');
        if (dc.readyState !== 'open') return settle(`webrtc to ${this.url}: data channel ${dc.readyState} right after connect`);
        this.state = 'open';
        settle(undefined);
        this.attach(dc, pc);
      };
      channel.onConnect(onConnect).catch((e: unknown) => {
        if (this.state === 'opening') settle(`webrtc to ${this.url} failed: ${(e as Error).message}`);
      });
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
    if (this.channel) this.free(this.channel, true);
  }

  private attach(dc: RTCDataChannel, pc: RTCPeerConnection): void {
    this.dc = dc;
    ignoreCandidateErrors(pc);
    const size = pc.sctp?.maxMessageSize;
    if (typeof size === 'number' && size > 0 && Number.isFinite(size)) this.maxMessageSize = size;
    const onMessage = (ev: MessageEvent): void => {
      if (this.state !== 'open') return;
      const data: unknown = ev.data;
      let bytes: Uint8Array;
      if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
      else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      else return; // text (geckos events) or anything else: not ours
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
    if (this.channel) this.free(this.channel, false);
    this.onClose(reason);
  }

  /**
   * What geckos' ClientChannel.close() does, minus its unhandled promises: close the peer connection and
   * tell the server (POST …/close) so it frees its side at once instead of waiting for ICE. If geckos has
   * not created the peer connection yet (the offer request is still out), checks back every 50 ms and
   * frees it once it exists (geckos would otherwise go on connecting an abandoned attempt).
   */
  private free(channel: ClientChannel, tellServer: boolean): void {
    this.detach?.();
    this.detach = undefined;
    this.dc = undefined;
    const cm = internals(channel);
    const pc = cm?.localPeerConnection;
    if (pc) {
      ignoreCandidateErrors(pc);
      try {
        pc.close();
      } catch {
        // already closed
      }
    } else if (this.reaper === undefined) {
      let left = Math.ceil(this.timeoutMs / 50) + 1;
      const reaper = setInterval(() => {
        if (!internals(channel)?.localPeerConnection && --left > 0) return;
        clearInterval(reaper);
        this.free(channel, tellServer); // this.reaper stays set: no second reaper
      }, 50);
      this.reaper = reaper;
    }
    const id = cm?.remotePeerConnection?.id;
    if (!tellServer || this.toldServer || typeof id !== 'string' || !/^[0-9a-zA-Z]+$/.test(id)) return;
    if (typeof fetch !== 'function') return;
    this.toldServer = true;
    try {
      fetch(`${this.url}${SIGNALING_PATH}/connections/${id}/close`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
      }).then(
        (res) => res.body?.cancel().catch(() => {}),
        () => {}, // the server is gone: nothing to tell
      );
    } catch {
      // a malformed URL: the server times the connection out
    }
  }
}

const quieted = new WeakSet<RTCPeerConnection>();

/**
 * geckos polls the server for candidates on timers for ~10 s after connecting and hands each one to
 * addIceCandidate() without handling its promise, which rejects once the peer connection is closed (and
 * on any bad candidate): an unhandled rejection (measured). Makes this one peer connection swallow those.
 */
function ignoreCandidateErrors(pc: RTCPeerConnection): void {
  if (quieted.has(pc)) return;
  quieted.add(pc);
  const add = pc.addIceCandidate.bind(pc) as (candidate?: RTCIceCandidateInit) => Promise<void>;
  try {
    Object.defineProperty(pc, 'addIceCandidate', {
      configurable: true,
      writable: true,
      value: (candidate?: RTCIceCandidateInit): Promise<void> => {
        try {
          return add(candidate).catch(() => {});
        } catch {
          return Promise.resolve();
        }
      },
    });
  } catch {
    // a frozen object: nothing to do
  }
}
