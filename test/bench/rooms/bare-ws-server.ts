/**
 * The floor of the rooms benchmark: no framework, a bare `ws` server doing what a room must do at the least
 * — the full state to a client that connects, then each tick one @colyseus/schema patch, encoded once and
 * the same bytes written to every client; inputs read and MessagePack-decoded. No rooms, matchmaking, acks,
 * reconnection or anything else; what any WebSocket server in Node pays for this traffic.
 */

import { Encoder } from '@colyseus/schema';
import { decode } from '@msgpack/msgpack';
import { WebSocketServer, type WebSocket } from 'ws';
import { benchTicker, createBenchState, TICK_MS } from './bench-state.js';
import type { StartServer } from './bench-server.js';

export const startBareWs: StartServer = async (http, meterOf) => {
  const meter = meterOf();
  const state = createBenchState();
  const tick = benchTicker(state);
  const encoder = new Encoder(state);
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws) => {
    ws.binaryType = 'nodebuffer';
    ws.send(Buffer.from(encoder.encodeAll()));
    sockets.add(ws);
    ws.on('message', (data: Buffer) => {
      decode(data);
      meter.input();
    });
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', () => sockets.delete(ws));
  });
  const timer = setInterval(() => {
    tick();
    meter.mutated();
    if (sockets.size > 0) {
      const patch = Buffer.from(encoder.encode()); // one copy: the encoder reuses its buffer next tick
      for (const ws of sockets) ws.send(patch);
    }
    encoder.discardChanges();
    meter.patched();
  }, TICK_MS);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => resolve());
  });
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `ws://127.0.0.1:${port}`,
    clients: () => sockets.size,
    close: async () => {
      clearInterval(timer);
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
};
