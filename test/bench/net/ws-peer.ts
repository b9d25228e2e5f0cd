/**
 * Bare WebSocket (the `ws` package, no compression) as the loss case's reference peer: a WebSocketServer on
 * 127.0.0.1 that hands every binary message to `onMessage`, and a `ws` client reaching it through the TCP
 * relay. One message = one WebSocket frame; TCP alone makes it reliable and ordered.
 */

import { WebSocket, WebSocketServer, type RawData } from 'ws';

const HOST = '127.0.0.1';
const OPEN_TIMEOUT_MS = 10_000;

function bytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

export class WsSink {
  private constructor(private readonly wss: WebSocketServer) {}

  static open(onMessage: (data: Uint8Array) => void): Promise<WsSink> {
    const wss = new WebSocketServer({ host: HOST, port: 0, perMessageDeflate: false });
    wss.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => isBinary && onMessage(bytes(data)));
      ws.on('error', () => {});
    });
    return new Promise((resolve, reject) => {
      wss.once('error', reject);
      wss.once('listening', () => {
        wss.off('error', reject);
        resolve(new WsSink(wss));
      });
    });
  }

  get port(): number {
    const a = this.wss.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

/** A `ws` client to ws://127.0.0.1:port/ (the relay); resolves once open. */
export function openWsClient(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://${HOST}:${port}/`, { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`ws: not open within ${OPEN_TIMEOUT_MS} ms`)), OPEN_TIMEOUT_MS);
    const fail = (e: Error): void => {
      clearTimeout(timer);
      ws.terminate();
      reject(e);
    };
    ws.once('error', fail);
    ws.once('open', () => {
      clearTimeout(timer);
      ws.off('error', fail);
      ws.on('error', () => {});
      resolve(ws);
    });
  });
}
