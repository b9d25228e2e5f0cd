/**
 * Why a `volley sim` run did not do all it was asked, one sentence each: the connection never came up,
 * it ended, or the simulated-time cap came first (messages still in flight, or never sent).
 */

import { reasonName } from '@volley/protocol';

export interface SimOutcome {
  reliable: boolean;
  requested: number;
  sent: number;
  undelivered: number;
  loss: number;
  rate: number;
  /** Simulated time the connection came up, ms; undefined if it never did. */
  connectedAt: number | undefined;
  /** The client's connection ended (reason code, text, simulated time ms). */
  ended: { reason: number; text: string; at: number } | undefined;
  capReached: boolean;
  timeCapMs: number;
  /** Sends refused with backpressure (reliable window or send queue full). */
  backpressured: number;
  simulatedMs: number;
}

export function simNotes(o: SimOutcome): string[] {
  if (o.connectedAt === undefined) return [`the connection never came up (${neverUp(o)})`];
  const notSent = o.requested - o.sent;
  if (o.ended) {
    const unsent = notSent > 0 ? `; ${notSent} messages were never sent` : '';
    return [`the connection ended at ${seconds(o.ended.at)} s of simulated time (${why(o.ended)})${unsent}`];
  }
  if (!o.capReached) return [];
  const cap = `the simulated-time cap (${seconds(o.timeCapMs)} s)`;
  const notes: string[] = [];
  if (o.undelivered > 0) notes.push(`${o.undelivered} messages still in flight or queued when ${cap} was reached: not lost`);
  if (notSent > 0) notes.push(`${notSent} messages not sent by ${cap}${heldBack(o)}`);
  return notes;
}

function neverUp(o: SimOutcome): string {
  if (o.loss >= 1) return `every CONNECT was lost: loss ${o.loss} each way`;
  if (o.ended) return why(o.ended);
  return `no answer to CONNECT by the simulated-time cap (${seconds(o.timeCapMs)} s)`;
}

function heldBack(o: SimOutcome): string {
  if (o.backpressured === 0) return '';
  const perSecond = Math.round(o.sent / Math.max(0.001, (o.simulatedMs - (o.connectedAt ?? 0)) / 1000));
  const full = o.reliable ? 'reliable window' : 'send queue';
  return `: the ${full} was full (backpressure), holding the sender to about ${perSecond} messages/s against --rate ${o.rate}; try fewer --messages or a lower --rate`;
}

function why(e: { reason: number; text: string }): string {
  return e.text ? `${reasonName(e.reason)}: ${e.text}` : reasonName(e.reason);
}

function seconds(ms: number): string {
  return String(Math.round(ms / 10) / 100);
}
