/**
 * The relay process of the network benchmark (forked by relay-control.ts with an IPC channel): it gets one
 * `start` with the path to emulate (links, and the UDP and TCP relays that use them), answers `ready` with
 * the relays' ports, answers `stats` with the links' counters, and on `stop` closes everything, answers
 * `stopped` with the final counters and exits when the parent disconnects. The relays run here, in a process of their own, so the
 * emulated link's timers are not held up by the Volley client and server (and their GCs) that the
 * benchmark runs in its own process. It exits by itself when the parent goes away, or after MAX_LIFE_MS.
 */

import { EmulatedLink } from './emulated-link.js';
import type { FromRelay, RelaySpec, RelayStats, ToRelay } from './relay-protocol.js';
import { TcpRelay } from './tcp-relay.js';
import { UdpRelay } from './udp-relay.js';

const MAX_LIFE_MS = 240_000;

const links = new Map<string, EmulatedLink>();
const relays = new Map<string, UdpRelay | TcpRelay>();
let started = false;

function send(m: FromRelay): void {
  if (process.connected) process.send!(m);
}

function stats(): RelayStats {
  const s: RelayStats = { links: {}, peers: {} };
  for (const [name, link] of links) s.links[name] = link.stats();
  for (const [name, relay] of relays) s.peers[name] = relay.peerCount;
  return s;
}

function closeAll(): void {
  for (const r of relays.values()) r.close();
  for (const l of links.values()) l.close();
}

const life = setTimeout(() => {
  closeAll();
  process.exit(3);
}, MAX_LIFE_MS);

async function start(spec: RelaySpec): Promise<Record<string, number>> {
  for (const [name, l] of Object.entries(spec.links)) links.set(name, new EmulatedLink(l));
  const ports: Record<string, number> = {};
  for (const r of spec.relays) {
    const up = links.get(r.up);
    const down = links.get(r.down);
    if (!up || !down) throw new Error(`relay ${r.name}: no link '${up ? r.down : r.up}'`);
    const relay =
      r.kind === 'udp' ? await UdpRelay.open(r.name, r.targetPort, up, down) : await TcpRelay.open(r.name, r.targetPort, up, down);
    relays.set(r.name, relay);
    ports[r.name] = relay.port;
  }
  return ports;
}

process.on('disconnect', () => {
  closeAll();
  process.exit(0);
});

process.on('message', (m: ToRelay) => {
  if (m.type === 'start' && !started) {
    started = true;
    start(m.spec).then(
      (ports) => send({ type: 'ready', ports }),
      (e: unknown) => send({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
    );
  } else if (m.type === 'stats') send({ type: 'stats', stats: stats() });
  else if (m.type === 'stop') {
    const final = stats();
    closeAll();
    clearTimeout(life);
    send({ type: 'stopped', stats: final });
    // The parent disconnects once it has the figures (then 'disconnect' exits); this is the fallback.
    setTimeout(() => process.exit(0), 2000).unref();
  }
});
