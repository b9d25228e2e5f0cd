/**
 * `volley scenario abc`: the A/B/C walkthrough, played by the real protocol over the simulated link.
 * A, B and C fire one after another; the server sends each shot to the client on a reliable-ordered
 * channel; the link drops the first transmission of the packet carrying B's shot.
 *
 * Every event below comes from the protocol's trace (server and client) or the link simulator's trace;
 * this file only translates them into the walkthrough's vocabulary and numbers the seven steps.
 */

import { ConnectionPair, dropFirstMatching, inspectPacket, type LinkEvent, type TraceEvent } from '@volley/protocol';

export type Side = 'server' | 'client' | 'link';
export type Shooter = 'A' | 'B' | 'C';

export interface ScenarioEvent {
  t: number;
  side: Side;
  event: string;
  packet?: number;
  message?: number;
  shooter?: Shooter;
  messages?: number[];
  shooters?: Shooter[];
  /** For link events: 'server→client' or 'client→server'. */
  direction?: string;
  /** For control packets on the link (handshake): their name. */
  control?: string;
  /** retransmit: the packet that carried the message before. buffer: the message waited for. ack: the acking packet. */
  previousPacket?: number;
  waitingFor?: number;
  via?: number;
  reason?: string;
  /** done: messages still buffered at the client. */
  buffered?: number;
  /** Walkthrough step (1–7) this event completes, if any. */
  step?: number;
}

export interface AbcOptions {
  /** One-way link latency in ms. */
  latency: number;
  /** Time between shots in ms. */
  gap: number;
}

const SHOOTERS: Shooter[] = ['A', 'B', 'C'];

export function runAbc(options: AbcOptions = { latency: 50, gap: 50 }): ScenarioEvent[] {
  const events: ScenarioEvent[] = [];
  const shooterOf = new Map<number, Shooter>();
  const who = (id: number | undefined) => (id === undefined ? undefined : shooterOf.get(id));
  const push = (e: ScenarioEvent) => {
    const clean = Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as unknown as ScenarioEvent;
    events.push(clean);
  };

  const serverTrace = (e: TraceEvent) => {
    switch (e.type) {
      case 'message-queued':
        return push({ t: e.t, side: 'server', event: 'fire', message: e.id, shooter: who(e.id) });
      case 'packet-sent': {
        const msgs = e.records.filter((r) => r.channel === 0 && r.id !== undefined).map((r) => r.id!);
        if (msgs.length === 0) return;
        return push({
          t: e.t,
          side: 'server',
          event: 'send',
          packet: e.seq,
          messages: msgs,
          shooters: msgs.map((m) => who(m)!).filter(Boolean),
        });
      }
      case 'packet-acked':
        return push({ t: e.t, side: 'server', event: 'acked', packet: e.seq });
      case 'packet-lost':
        return push({ t: e.t, side: 'server', event: 'lost', packet: e.seq, reason: e.reason });
      case 'message-retransmitted':
        return push({
          t: e.t,
          side: 'server',
          event: 'retransmit',
          packet: e.seq,
          message: e.id,
          shooter: who(e.id),
          previousPacket: e.previousSeq,
        });
      case 'state':
        if (e.state === 'connected') push({ t: e.t, side: 'server', event: 'accepted' });
        return;
    }
  };

  const clientTrace = (e: TraceEvent) => {
    switch (e.type) {
      case 'packet-received': {
        const msgs = e.records.filter((r) => r.channel === 0 && r.id !== undefined).map((r) => r.id!);
        return push({
          t: e.t,
          side: 'client',
          event: 'receive',
          packet: e.seq,
          messages: msgs,
          shooters: msgs.map((m) => who(m)!).filter(Boolean),
        });
      }
      case 'packet-sent':
        for (const n of e.acked) push({ t: e.t, side: 'client', event: 'ack', packet: n, via: e.seq });
        return;
      case 'message-buffered':
        return push({ t: e.t, side: 'client', event: 'buffer', message: e.id, shooter: who(e.id), waitingFor: e.waitingFor });
      case 'message-delivered':
        return push({ t: e.t, side: 'client', event: 'deliver', message: e.id, shooter: who(e.id) });
      case 'message-duplicate':
        return push({ t: e.t, side: 'client', event: 'duplicate', message: e.id, shooter: who(e.id) });
      case 'state':
        if (e.state === 'connecting' || e.state === 'connected') push({ t: e.t, side: 'client', event: e.state });
        return;
    }
  };

  const linkTrace = (e: LinkEvent) => {
    const direction = e.direction === 'a-to-b' ? 'server→client' : 'client→server';
    // Only server → client data packets and the handshake tell the story; client acks show as 'ack'.
    const summary = lastDatagram.get(`${e.direction}:${e.index}`);
    if (!summary) return;
    if (summary.kind === 'control') return push({ t: e.time, side: 'link', event: e.type, direction, control: summary.name });
    if (e.direction !== 'a-to-b') return;
    return push({
      t: e.time,
      side: 'link',
      event: e.type,
      direction,
      packet: summary.seq,
      messages: summary.messages,
      shooters: summary.messages.map((m) => who(m)!).filter(Boolean),
    });
  };

  // The link's rules see each datagram before its trace event: remember what each one is.
  const lastDatagram = new Map<string, { kind: 'control'; name: string } | { kind: 'data'; seq: number; messages: number[] }>();
  const remember = (d: { direction: string; index: number; bytes: Uint8Array }) => {
    const p = inspectPacket(d.bytes, [0]);
    if (p.kind === 'control') lastDatagram.set(`${d.direction}:${d.index}`, { kind: 'control', name: p.packet.type });
    else if (p.kind === 'data') {
      lastDatagram.set(`${d.direction}:${d.index}`, {
        kind: 'data',
        seq: p.header.sequence,
        messages: p.records.filter((r) => r.channel === 0).map((r) => r.id!),
      });
    }
    return false;
  };
  const carriesB = (d: { direction: string; bytes: Uint8Array }) => {
    if (d.direction !== 'a-to-b') return false;
    const p = inspectPacket(d.bytes, [0]);
    return p.kind === 'data' && p.records.some((r) => r.channel === 0 && r.id === bId);
  };
  let bId = -1;

  const channels = [{ kind: 'reliable-ordered' as const }];
  // No pings or keepalives during the scenario, so every packet on the timeline is about the shots.
  const quiet = { channels, pingInterval: 0, keepaliveInterval: 60_000 };
  let delivered = 0;
  const pair = new ConnectionPair({
    server: { ...quiet, trace: serverTrace },
    client: { ...quiet, nonce: 0xabc, trace: clientTrace },
    link: { seed: 1, conditions: { latency: options.latency }, rules: [remember, dropFirstMatching(carriesB)], trace: linkTrace },
    onClientEvent: (e) => {
      if (e.type === 'message') delivered++;
    },
  });
  const { server, client, sim } = pair;

  const firstShot = 4 * options.latency;
  SHOOTERS.forEach((name, i) => {
    sim.at(firstShot + i * options.gap, (now) => {
      const id = server.send(0, new TextEncoder().encode(`${name} fires`), now)!;
      shooterOf.set(id, name);
      if (name === 'B') bId = id;
      // send() traced 'message-queued' before the id was known: name the shooter now.
      const fire = events[events.length - 1]!;
      if (fire.event === 'fire' && fire.message === id) fire.shooter = name;
    });
  });
  sim.runWhile(() => sim.now < firstShot || delivered < SHOOTERS.length, firstShot + 20_000);
  // Let the last acknowledgements travel back so the server's view is complete too.
  sim.runUntil(sim.now + 4 * options.latency);
  const buffered = client.stats().channels[0]!.bufferedMessages;
  push({ t: sim.now, side: 'client', event: 'done', buffered });
  return numberSteps(events);
}

/** Marks the events that complete each of the seven steps of the walkthrough. */
function numberSteps(events: ScenarioEvent[]): ScenarioEvent[] {
  const mark = (step: number, pred: (e: ScenarioEvent) => boolean, from = 0) => {
    const i = events.findIndex((e, k) => k >= from && pred(e));
    if (i >= 0) events[i]!.step = step;
    return i;
  };
  const sendOf = (s: Shooter) => (e: ScenarioEvent) => e.side === 'server' && e.event === 'send' && !!e.shooters?.includes(s);
  const firstA = events.find(sendOf('A'));
  const firstB = events.find(sendOf('B'));
  const firstC = events.find(sendOf('C'));
  mark(1, sendOf('A'));
  if (firstA) mark(2, (e) => e.side === 'client' && e.event === 'ack' && e.packet === firstA.packet);
  if (firstB) mark(3, (e) => e.side === 'link' && e.event === 'drop' && e.packet === firstB.packet);
  mark(4, sendOf('C'));
  if (firstC) mark(5, (e) => e.side === 'client' && e.event === 'ack' && e.packet === firstC.packet);
  const r = mark(6, (e) => e.side === 'server' && e.event === 'retransmit' && e.shooter === 'B');
  if (r >= 0) mark(7, (e) => e.event === 'done' && e.buffered === 0, r);
  return events;
}

/** The human timeline: one numbered line per event, step markers in the margin. */
export function formatAbc(events: ScenarioEvent[], options: AbcOptions = { latency: 50, gap: 50 }): string {
  const lines: string[] = [
    `Volley A/B/C walkthrough: the real protocol over a simulated link (${options.latency} ms each way, nothing lost but`,
    "the first transmission of the packet carrying B's shot). Server → client, reliable-ordered channel 0.",
    "Every line comes from the protocol's own trace. [n] marks step n of the walkthrough.",
    '',
  ];
  const shot = (m?: number, s?: string) => (m === undefined ? '' : `message ${m}${s ? ` (${s}'s shot)` : ''}`);
  const list = (ms?: number[], ss?: string[]) => (ms ?? []).map((m, i) => shot(m, ss?.[i])).join(', ') || 'no messages';
  events.forEach((e, i) => {
    let text: string;
    switch (e.event) {
      case 'connecting':
        text = 'starts connecting (CONNECT)';
        break;
      case 'connected':
        text = 'is connected (ACCEPT received)';
        break;
      case 'accepted':
        text = 'accepts the connection';
        break;
      case 'fire':
        text = `${e.shooter ?? '?'} fires: ${shot(e.message, e.shooter)} queued`;
        break;
      case 'send':
        text = `sends packet ${e.packet} carrying ${list(e.messages, e.shooters)}`;
        break;
      case 'pass':
      case 'drop':
        text = e.control
          ? `${e.event === 'drop' ? 'LOSES' : 'carries'} ${e.control.toUpperCase()} ${e.direction}`
          : `${e.event === 'drop' ? 'LOSES' : 'carries'} packet ${e.packet} ${e.direction}`;
        break;
      case 'receive':
        text = `receives packet ${e.packet} with ${list(e.messages, e.shooters)}`;
        break;
      case 'buffer':
        text = `buffers ${shot(e.message, e.shooter)}: message ${e.waitingFor} is missing`;
        break;
      case 'ack':
        text = `acknowledges packet ${e.packet} (on its packet ${e.via})`;
        break;
      case 'acked':
        text = `learns packet ${e.packet} arrived`;
        break;
      case 'lost':
        text = `declares packet ${e.packet} lost (${e.reason})`;
        break;
      case 'retransmit':
        text = `retransmits ${shot(e.message, e.shooter)} in NEW packet ${e.packet} (first sent in packet ${e.previousPacket})`;
        break;
      case 'deliver':
        text = `delivers ${shot(e.message, e.shooter)} to the game`;
        break;
      case 'duplicate':
        text = `ignores a duplicate of ${shot(e.message, e.shooter)}`;
        break;
      case 'done':
        text = `done: ${e.buffered} message(s) left buffered`;
        break;
      default:
        text = e.event;
    }
    const step = e.step ? `[${e.step}]` : '';
    lines.push(`${String(i + 1).padStart(3)}. ${step.padEnd(4)}t=${String(e.t).padStart(4)} ms  ${e.side.padEnd(6)}  ${text}`);
  });
  return lines.join('\n');
}
