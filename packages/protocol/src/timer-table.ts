/**
 * Every timer of a Connection in one table, as in quinn-proto: one enumeration of the timers, one deadline
 * each (Infinity when not armed). `nextTimeout()` is the table's minimum and `poll()` runs exactly the
 * timers whose deadline has passed, so "the host is woken for a timer that then does not run" (or the
 * reverse) cannot happen: both read the same entries.
 */

export const Timer = {
  /** Client, connecting: send the next CONNECT attempt. */
  Connect: 0,
  /** Client, connecting: give up (ConnectTimeout). */
  ConnectDeadline: 1,
  /** Pending or connected: nothing received for `timeout` ends the connection (Timeout). */
  Idle: 2,
  /** Connected: an owed acknowledgement must go out (as an ack-only packet if nothing else does). */
  Ack: 3,
  /** Connected, retransmission on: time-threshold loss detection or the probe timeout. */
  Loss: 4,
  /** Connected: the next ping is due. */
  Ping: 5,
  /** Connected: send something so the peer does not time us out. */
  Keepalive: 6,
  /** Connected: the oldest partial unreliable message reaches its reassembly timeout. */
  Reassembly: 7,
  /** Disconnecting: the next copy of DISCONNECT. */
  Disconnect: 8,
  /** Something is ready to go out (queued messages or records with room in flight, control packets). */
  Send: 9,
} as const;
export type Timer = (typeof Timer)[keyof typeof Timer];

export const TIMER_COUNT = 10;

export const TIMER_NAMES: readonly string[] = Object.keys(Timer);

export class TimerTable {
  private readonly deadlines = new Float64Array(TIMER_COUNT).fill(Infinity);

  set(timer: Timer, deadline: number): void {
    this.deadlines[timer] = deadline;
  }

  clear(timer: Timer): void {
    this.deadlines[timer] = Infinity;
  }

  clearAll(): void {
    this.deadlines.fill(Infinity);
  }

  get(timer: Timer): number {
    return this.deadlines[timer]!;
  }

  /** The earliest deadline (Infinity when nothing is armed). */
  next(): number {
    let t = Infinity;
    for (let i = 0; i < TIMER_COUNT; i++) if (this.deadlines[i]! < t) t = this.deadlines[i]!;
    return t;
  }

  /** A bit mask (bit = Timer value) of the timers due at `now`. */
  expired(now: number): number {
    let mask = 0;
    for (let i = 0; i < TIMER_COUNT; i++) if (this.deadlines[i]! <= now) mask |= 1 << i;
    return mask;
  }
}

/** Whether `timer` is in a mask from `TimerTable.expired`. */
export function isDue(mask: number, timer: Timer): boolean {
  return (mask & (1 << timer)) !== 0;
}
