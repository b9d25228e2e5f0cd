/**
 * The Colyseus 0.18 side of the rooms benchmark: @colyseus/core's Server on @colyseus/ws-transport, one room
 * type holding the bench state, patches at its default rate (50 ms) from its own timer, the tick's mutations
 * in onBeforePatch. (`colyseus`, the meta-package, cannot install here: its peer @colyseus/uwebsockets-transport
 * pulls uWebSockets.js from GitHub. @colyseus/core is what it re-exports.)
 */

import { Room, Server, type Client } from '@colyseus/core';
import { WebSocketTransport } from '@colyseus/ws-transport';
import { benchTicker, createBenchState, INPUT_TYPE, ROOM_NAME, TICK_MS, type BenchState } from './bench-state.js';
import type { StartServer } from './bench-server.js';
import type { ServerMeter } from './server-meter.js';

export const startColyseus: StartServer = async (http, meterOf) => {
  let clients = 0;
  class BenchRoom extends Room<{ state: BenchState }> {
    override state = createBenchState();
    private readonly tick = benchTicker(this.state);
    private readonly meter: ServerMeter = meterOf();
    override messages = {
      [INPUT_TYPE]: (_client: Client, _input: unknown) => this.meter.input(),
    };
    override onCreate(): void {
      this.patchRate = TICK_MS;
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
    override broadcastPatch(): boolean {
      const changed = super.broadcastPatch();
      this.meter.patched();
      return changed;
    }
  }
  const server = new Server({ transport: new WebSocketTransport({ server: http }), greet: false });
  server.define(ROOM_NAME, BenchRoom);
  await server.listen(0, '127.0.0.1');
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `ws://127.0.0.1:${port}`,
    clients: () => clients,
    close: () => server.gracefullyShutdown(false),
  };
};
