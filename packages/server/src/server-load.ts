/**
 * What a server process carries and what it costs, for a load test or a dashboard: `server.load()`, and,
 * when `loadToken` is set, `GET /volley/load` with `Authorization: Bearer <token>` (JSON). Counters are
 * cumulative since the server started (closed sessions included), so a reader takes two and divides the
 * difference by the time between them; tick figures are the last steps of every room's simulation.
 */

export interface ServerLoad {
  /** The process's clock (performance.now, ms) when this was taken. */
  at: number;
  /** This process's id in the cluster's listings (rooms.processId; random unless given). */
  processId: string;
  /** CPU time of the whole process since it started (process.cpuUsage, µs). */
  cpuMicros: { user: number; system: number };
  sessions: number;
  rooms: number;
  /** Seats taken in this process's rooms (clients joined, joining, held, and reservations). */
  roomClients: number;
  /** Protocol datagrams and their bytes, both ways, every session since the start. */
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  /** The rooms' fixed-step simulations: their last steps (up to 256 per room), in ms, and how many ran late or were dropped. */
  ticks: { samples: number; p50: number; p99: number; max: number; lateRuns: number; dropped: number };
}

/** The `q` quantile (0–1) of `sorted` (ascending), nearest rank; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
