/**
 * The Volley side of the rooms benchmark: @volley/server on one transport (WebSocket or UDP), one room type
 * holding the bench state. Its patches run from the room's clock every 50 ms, as its own patch timer does,
 * through broadcastPatch (so the meter sees each one end); the tick's mutations in onBeforePatch.
 */

import { Room, Server } from '@volley/server';
import { benchTicker, createBenchState, INPUT_TYPE, ROOM_NAME, TICK_MS, type BenchState } from './bench-state.js';
import type { StartServer } from './bench-server.js';

/** Out of the way: the benchmark connects many clients from one address, quickly. */
const LIMITS = {
  maxSessionsPerSource: 1e6,
  maxPendingLinksPerSource: 1e6,
  newSessionsPerSecondPerSource: 1e6,
};

export function volleyServer(transport: 'websocket' | 'udp'): StartServer {
  return async (http, meterOf) => {
    let clients = 0;
    class BenchRoom extends Room<BenchState> {
      private readonly meter = meterOf();
      private tick: () => void = () => {};
      override onCreate(): void {
        const state = createBenchState();
        this.tick = benchTicker(state);
        this.setState(state);
        this.onMessage(INPUT_TYPE, () => this.meter.input());
        this.setPatchRate(0);
        this.clock.setInterval(() => {
          this.broadcastPatch();
          this.meter.patched();
        }, TICK_MS);
      }
      override onJoin(): void {
        clients++;
      }
      override onLeave(): void {
        clients--;
      }
      override onBeforePatch(): void {
        this.tick();
        this.meter.mutated();
      }
    }
    const server = new Server({ host: '127.0.0.1', udpPort: 0, transports: [transport], server: http, limits: LIMITS });
    server.define(ROOM_NAME, BenchRoom);
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(0, '127.0.0.1', () => resolve());
    });
    await server.listen();
    return {
      url: server.address().url,
      clients: () => clients,
      close: async () => {
        await server.close();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      },
    };
  };
}
