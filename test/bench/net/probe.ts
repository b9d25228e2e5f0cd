/**
 * The probe messages of the latency figures: 64 bytes carrying the sender's clock (performance.now(), a
 * float64) and a sequence number. Sender and receiver run in the same process, so one clock times the one
 * way exactly. The receiver records each message's one-way latency and checks order and duplicates.
 */

import { performance } from 'node:perf_hooks';
import { SampleLog, summarize, type LatencySummary } from './latency.js';

export const PROBE_SIZE = 64;

export function probe(seq: number, size = PROBE_SIZE): Uint8Array {
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setFloat64(0, performance.now(), true);
  v.setUint32(8, seq, true);
  for (let i = 12; i < size; i++) b[i] = (seq + i) & 0xff;
  return b;
}

export interface ProbeFigures {
  sent: number;
  delivered: number;
  /** Delivered with a lower sequence number than one delivered before it (0 on an ordered channel). */
  outOfOrder: number;
  duplicates: number;
  /** Not of PROBE_SIZE bytes, or with the wrong filler. */
  corrupt: number;
  latency: LatencySummary | null;
}

export class ProbeReceiver {
  sent = 0;
  private delivered = 0;
  private outOfOrder = 0;
  private duplicates = 0;
  private corrupt = 0;
  private highest = -1;
  private readonly seen = new Set<number>();
  private readonly latency = new SampleLog();

  /** Records one message as it arrives. */
  receive(data: Uint8Array): void {
    const now = performance.now();
    if (data.length < 12) {
      this.corrupt++;
      return;
    }
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const sentAt = v.getFloat64(0, true);
    const seq = v.getUint32(8, true);
    let ok = data.length === PROBE_SIZE;
    for (let i = 12; ok && i < data.length; i++) ok = data[i] === ((seq + i) & 0xff);
    if (!ok) this.corrupt++;
    if (this.seen.has(seq)) {
      this.duplicates++;
      return;
    }
    this.seen.add(seq);
    this.delivered++;
    if (seq < this.highest) this.outOfOrder++;
    else this.highest = seq;
    this.latency.add(now - sentAt);
  }

  get deliveredCount(): number {
    return this.delivered;
  }

  figures(): ProbeFigures {
    return {
      sent: this.sent,
      delivered: this.delivered,
      outOfOrder: this.outOfOrder,
      duplicates: this.duplicates,
      corrupt: this.corrupt,
      latency: summarize(this.latency.samples),
    };
  }
}
