/** Turning counters into the result's figures, and ratios that stay JSON-safe. */

import type { PortCounters } from './kernel-loss.js';
import type { BottleneckFigures, WireFigures } from './net-result.js';
import type { FlowStats } from './relay-protocol.js';

export const round = (x: number, digits = 3): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** a ÷ b, rounded, or null when either is missing or b is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined, digits = 3): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0 || !Number.isFinite(a / b)) return null;
  return round(a / b, digits);
}

export function wireFigures(c: PortCounters | undefined): WireFigures | null {
  if (!c) return null;
  return {
    upPackets: c.up.packets,
    upBytes: c.up.bytes,
    downPackets: c.down.packets,
    downBytes: c.down.bytes,
    upDropped: c.up.droppedPackets,
    downDropped: c.down.droppedPackets,
  };
}

export function bottleneckFigures(f: FlowStats | undefined): BottleneckFigures | null {
  if (!f) return null;
  return {
    packets: f.packets,
    bytes: f.bytes,
    dropped: f.dropped,
    dropRate: f.packets ? round(f.dropped / f.packets, 4) : 0,
    stalls: f.stalls,
    queueDelay: f.queueDelay,
  };
}

/** Bytes over seconds as Mbit/s. */
export const mbps = (bytes: number, seconds: number): number => (seconds > 0 ? round((bytes * 8) / seconds / 1e6, 3) : 0);
