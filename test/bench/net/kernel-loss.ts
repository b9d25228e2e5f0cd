/**
 * Kernel packet counters and random loss with nftables, in the benchmark's own namespace only: one table,
 * `inet volleybench`, with a chain on the prerouting hook (`type filter hook prerouting priority 0`). For
 * each watched port (a relay's client-facing port) it counts every packet to it (`dport`: client → relay,
 * "up") and from it (`sport`: relay → client, "down"), and, with a loss of N %, drops each of those packets
 * with probability N/100 (`numgen random mod 100 < N drop`), counting the drops. Counting comes before
 * dropping, so a counter sees every packet that was sent, and the bytes are whole IP packets (headers
 * included; loopback is set to one segment per packet, see isolation.ts).
 *
 * Why prerouting: on loopback, a packet dropped there has really left its sender, so TCP learns of the loss
 * only as a real network would tell it (missing ACKs). A drop on the output hook is reported to the sender as
 * a failed transmit and retried at once, so TCP would never see a network loss (docs/testing.md).
 */

import { nft, preroutingRuleset } from '../../support/nft.js';
import { assertIsolated } from './isolation.js';

export const TABLE = 'volleybench';

export interface WatchedPort {
  /** The counters' name (the relay's). */
  name: string;
  proto: 'udp' | 'tcp';
  port: number;
}

export interface DirectionCounters {
  packets: number;
  bytes: number;
  droppedPackets: number;
  droppedBytes: number;
}

export interface PortCounters {
  up: DirectionCounters;
  down: DirectionCounters;
}

/** Deletes the table if it exists (a previous run in this namespace that did not finish). */
async function deleteTable(): Promise<void> {
  const listed = await nft(['list', 'table', 'inet', TABLE]);
  if (listed.code !== 0) return;
  const r = await nft(['delete', 'table', 'inet', TABLE]);
  if (r.code !== 0) throw new Error(`nft delete table inet ${TABLE} failed: ${r.stderr.trim()}`);
}

export class KernelLoss {
  private removed = false;

  private constructor(
    readonly ports: readonly WatchedPort[],
    readonly lossPercent: number,
  ) {}

  /** Installs the table: counters on every watched port both ways, and `lossPercent` % loss (0: none). */
  static async install(ports: readonly WatchedPort[], lossPercent: number): Promise<KernelLoss> {
    assertIsolated();
    if (!Number.isInteger(lossPercent) || lossPercent < 0 || lossPercent > 100)
      throw new RangeError(`loss must be 0..100 %, got ${lossPercent}`);
    if (ports.length === 0) throw new Error('KernelLoss.install: no ports');
    await deleteTable();
    const rules: string[] = [];
    for (const p of ports) {
      for (const [dir, field] of [
        ['up', 'dport'],
        ['down', 'sport'],
      ] as const) {
        rules.push(`    ${p.proto} ${field} ${p.port} counter comment "${p.name} ${dir}"`);
        if (lossPercent > 0)
          rules.push(
            `    ${p.proto} ${field} ${p.port} numgen random mod 100 < ${lossPercent} counter drop comment "${p.name} ${dir} drop"`,
          );
      }
    }
    const ruleset = preroutingRuleset(TABLE, 'prerouting', rules);
    const r = await nft(['-f', '-'], ruleset);
    if (r.code !== 0) {
      await deleteTable().catch(() => {});
      throw new Error(`nft -f failed (${r.code}): ${r.stderr.trim()}\n${ruleset}`);
    }
    return new KernelLoss(ports, lossPercent);
  }

  /** Every watched port's counters so far. */
  async read(): Promise<Record<string, PortCounters>> {
    const r = await nft(['-j', 'list', 'table', 'inet', TABLE]);
    if (r.code !== 0) throw new Error(`nft list table inet ${TABLE} failed: ${r.stderr.trim()}`);
    const out: Record<string, PortCounters> = {};
    const zero = (): DirectionCounters => ({ packets: 0, bytes: 0, droppedPackets: 0, droppedBytes: 0 });
    for (const p of this.ports) out[p.name] = { up: zero(), down: zero() };
    const parsed = JSON.parse(r.stdout) as {
      nftables: { rule?: { comment?: string; expr: { counter?: { packets: number; bytes: number } }[] } }[];
    };
    for (const item of parsed.nftables) {
      const rule = item.rule;
      const m = rule?.comment?.match(/^(\S+) (up|down)( drop)?$/);
      const counter = rule?.expr.find((e) => e.counter)?.counter;
      const port = m ? out[m[1]!] : undefined;
      if (!m || !counter || !port) continue;
      const d = port[m[2] as 'up' | 'down'];
      if (m[3]) {
        d.droppedPackets += counter.packets;
        d.droppedBytes += counter.bytes;
      } else {
        d.packets += counter.packets;
        d.bytes += counter.bytes;
      }
    }
    return out;
  }

  /** Deletes the table (idempotent); throws if it is still there. */
  async remove(): Promise<void> {
    if (this.removed) return;
    await deleteTable();
    this.removed = true;
  }
}

/** Deletes the table if it is there (the end-of-run sweep). */
export async function removeTable(): Promise<void> {
  assertIsolated();
  await deleteTable();
}

/** True when the table exists (for the end-of-run check that nothing is left behind). */
export async function tableExists(): Promise<boolean> {
  return (await nft(['list', 'table', 'inet', TABLE])).code === 0;
}
