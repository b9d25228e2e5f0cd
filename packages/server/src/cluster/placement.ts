/**
 * Where a new room goes: the live process with the most room left, by the larger of its two loads (rooms of
 * its maxRooms, clients of its maxClients). Draining processes and full ones are passed over; on a tie this
 * process wins (no redirect), then the lowest id (every process picks the same).
 */

import type { ProcessInfo } from './cluster.js';

/** A process's load, 0 (idle) to 1 (at a limit). */
export function loadOf(p: ProcessInfo): number {
  return Math.max(p.maxRooms > 0 ? p.rooms / p.maxRooms : 1, p.maxClients > 0 ? p.clients / p.maxClients : 1);
}

/** The process a new room should go to, or undefined when every one is draining or full. */
export function placeRoom(processes: readonly ProcessInfo[], selfId: string): ProcessInfo | undefined {
  let best: ProcessInfo | undefined;
  let bestLoad = Infinity;
  for (const p of processes) {
    if (p.draining || p.rooms >= p.maxRooms || p.clients >= p.maxClients) continue;
    const load = loadOf(p);
    const better =
      load < bestLoad ||
      (load === bestLoad && best !== undefined && best.processId !== selfId && (p.processId === selfId || p.processId < best.processId));
    if (better) {
      best = p;
      bestLoad = load;
    }
  }
  return best;
}
