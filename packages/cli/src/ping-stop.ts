/**
 * Why a `volley ping` run ended before its last probe was answered: the server closed the session, the
 * server was lost (no transport left, or nothing heard from it), a send failed, or the user interrupted.
 * The first reason wins; waits in the run wake up as soon as there is one.
 */

import { DisconnectReason, reasonName, SendError } from '@volley/protocol';

export interface StopReason {
  why: 'closed' | 'lost' | 'send-failed' | 'interrupted';
  /** One line for the user, e.g. "the server closed the session: ShuttingDown (server shutting down)". */
  message: string;
  /** The protocol's disconnect reason code, when the session ended with one. */
  reason?: number;
}

export class PingStop {
  private reasonValue: StopReason | undefined;
  private readonly sleepers = new Set<() => void>();

  constructor(signal?: AbortSignal) {
    const interrupted = () => this.end({ why: 'interrupted', message: 'interrupted' });
    if (signal?.aborted) interrupted();
    else signal?.addEventListener('abort', interrupted, { once: true });
  }

  get reason(): StopReason | undefined {
    return this.reasonValue;
  }

  /** Ends the run (the first call wins) and wakes every sleep(). */
  end(reason: StopReason): void {
    if (this.reasonValue) return;
    this.reasonValue = reason;
    for (const wake of [...this.sleepers]) wake();
  }

  /** Waits `ms`, or less if the run ends meanwhile. */
  sleep(ms: number): Promise<void> {
    if (this.reasonValue) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}

const LOST: ReadonlySet<number> = new Set([DisconnectReason.Timeout, DisconnectReason.TransportLost]);

/** The client's 'disconnect' event as a stop reason: lost (timeout, no transport left) or closed by the server. */
export function disconnectStop(reason: number, text: string): StopReason {
  const what = `${reasonName(reason)}${text ? ` (${text})` : ''}`;
  return LOST.has(reason)
    ? { why: 'lost', reason, message: `lost the server: ${what}` }
    : { why: 'closed', reason, message: `the server closed the session: ${what}` };
}

/** A SendError that ends the run (anything but backpressure). */
export function sendStop(e: SendError, size: number): StopReason {
  return e.code === 'closed'
    ? { why: 'closed', message: `the session ended (the client gave no reason): ${e.message}` }
    : { why: 'send-failed', message: `cannot send a ${size}-byte probe: ${e.message}` };
}
