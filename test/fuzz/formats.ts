/**
 * Valid values of every peer-facing Volley wire format, as fast-check arbitraries, and their encodings as
 * field lists (structured.ts) so mutations hit lengths, counts, type bytes and flags. Layouts follow
 * docs/protocol.md and the codecs in packages/protocol/src (header.ts, record.ts, control.ts,
 * control-record.ts, envelope.ts, datagram-batch.ts) and MessagePack's spec. For each format the unmutated
 * fields must encode to exactly what the library's own encoder writes (decoders.test.ts checks it), so the
 * builders cannot drift from the real format.
 *
 * Raw-UDP frames are not built here: their framing lives in @volley/udp (being redesigned), and
 * udp-frames.test.ts builds them with that package's own codecs, carrying the datagrams made here.
 */

import { ExtData } from '@msgpack/msgpack';
import fc from 'fast-check';
import {
  ClientEndpoint,
  decodeControl,
  PING_SIZE,
  PROTOCOL_VERSION,
  Random,
  seqAdd,
  type ChannelIdMode,
  type ChannelOptions,
  type ControlPacket,
  type MessageRecord,
  type PacketHeader,
  type Ping,
  type Pong,
} from '@volley/protocol';
import { bytes, f64, fuzzed, u16, u32, u8, type Field } from './structured.js';

type ConnectPacket = Extract<ControlPacket, { type: 'connect' }>;

const utf8 = new TextEncoder();
const word = fc.nat({ max: 0xffff });
const dword = fc.nat({ max: 0xffffffff });

// ---- packet header (header.ts) -------------------------------------------------------------------

const bitByte = fc.oneof(fc.constant(0xff), fc.nat({ max: 255 }));

/** The ack delay an ack delay byte stands for (docs/protocol.md §2): 100 µs steps up to 16 ms, then 1 ms steps. */
const ackDelayMs = (code: number): number => (code <= 160 ? code / 10 : 16 + (code - 160));

export const headerArb: fc.Arbitrary<PacketHeader> = fc.record(
  {
    sequence: word,
    ack: fc.record(
      {
        ack: word,
        // Each byte of the bitfield is often 0xff (then it is not on the wire): every prefix shape occurs.
        bits: fc.tuple(bitByte, bitByte, bitByte, bitByte).map(([a, b, c, d]) => (a | (b << 8) | (c << 16) | (d << 24)) >>> 0),
        delay: fc.nat({ max: 255 }).map(ackDelayMs),
      },
      { requiredKeys: ['ack', 'bits'] },
    ),
  },
  { requiredKeys: ['sequence'] },
);

export function headerFields(h: PacketHeader): Field[] {
  const seq = h.sequence & 0xffff;
  const a = h.ack;
  if (!a) return [u8('prefix', 2 << 6), u16('sequence', seq)];
  const delta = (seq - a.ack) & 0xffff;
  const delay =
    a.delay === undefined || !(a.delay > 0) ? 0 : a.delay < 16 ? Math.round(a.delay * 10) : Math.min(255, 160 + Math.round(a.delay - 16));
  let prefix = 0;
  const bitBytes: Field[] = [];
  for (let i = 0; i < 4; i++) {
    const byte = (a.bits >>> (8 * i)) & 0xff;
    if (byte !== 0xff) {
      prefix |= 1 << i;
      bitBytes.push(u8(`ack bitfield ${i}`, byte));
    }
  }
  if (delta <= 0xff) prefix |= 0x10;
  if (delay > 0) prefix |= 0x20;
  return [
    u8('prefix', prefix),
    u16('sequence', seq),
    delta <= 0xff ? u8('ack delta', delta) : u16('ack', a.ack),
    ...bitBytes,
    ...(delay > 0 ? [u8('ack delay', delay)] : []),
  ];
}

// ---- message records (record.ts) -----------------------------------------------------------------

/** Which channels carry ids: index = channel (0–14); channel 15 (control) is always 'plain'. */
export type Modes = ('id' | 'plain')[];
export const modesArb: fc.Arbitrary<Modes> = fc.array(fc.constantFrom('id' as const, 'plain' as const), { minLength: 1, maxLength: 15 });
export const idModeOf =
  (modes: Modes) =>
  (channel: number): ChannelIdMode =>
    channel === 15 ? 'plain' : modes[channel];

const payload = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 40 }), weight: 6 },
  { arbitrary: fc.uint8Array({ minLength: 250, maxLength: 400 }), weight: 1 },
);

/** Records valid for `modes`: ids where the channel has them, fragments with ids, often consecutive ids (implied on the wire). */
export function recordsArb(modes: Modes): fc.Arbitrary<MessageRecord[]> {
  const channels = [...modes.keys(), 15];
  const one = fc.record({
    channel: fc.constantFrom(...channels),
    id: fc.oneof(fc.constant('next' as const), word),
    fragment: fc.option(
      fc.integer({ min: 2, max: 0xffff }).chain((count) => fc.record({ index: fc.nat({ max: count - 1 }), count: fc.constant(count) })),
      { freq: 4, nil: undefined },
    ),
    data: payload,
  });
  return fc.array(one, { maxLength: 8 }).map((raw) => {
    const last: number[] = [];
    return raw.map(({ channel, id, fragment, data }) => {
      const mode = idModeOf(modes)(channel);
      const rec: MessageRecord = { channel, data };
      if (mode === 'id' || fragment) {
        rec.id = id === 'next' ? seqAdd(last[channel] ?? 0, 1) : id;
        last[channel] = rec.id;
      }
      if (fragment) rec.fragment = fragment;
      return rec;
    });
  });
}

/** The fields of a run of records, resolving implied ids exactly as encodeRecords does. */
export function recordFields(records: readonly MessageRecord[], idMode: (channel: number) => ChannelIdMode): Field[] {
  const lastId: (number | undefined)[] = [];
  const fs: Field[] = [];
  for (const rec of records) {
    const prev = lastId[rec.channel];
    const implied =
      rec.id !== undefined && !rec.fragment && idMode(rec.channel) === 'id' && prev !== undefined && seqAdd(prev, 1) === rec.id;
    lastId[rec.channel] = rec.fragment ? undefined : rec.id;
    const withId = rec.id !== undefined && !implied;
    const long = rec.data.length > 0xff;
    fs.push(u8('record flags', (rec.channel & 0x0f) | (withId ? 0x10 : 0) | (rec.fragment ? 0x20 : 0) | (long ? 0x40 : 0)));
    if (withId) fs.push(u16('message id', rec.id!));
    if (rec.fragment) fs.push(u16('fragment index', rec.fragment.index), u16('fragment count', rec.fragment.count));
    fs.push(long ? u16('record length', rec.data.length) : u8('record length', rec.data.length), bytes('record payload', rec.data));
  }
  return fs;
}

/** A data packet: a header and records for `modes`. */
export interface DataPacket {
  header: PacketHeader;
  records: MessageRecord[];
}
export const dataPacketArb = (modes: Modes): fc.Arbitrary<DataPacket> => fc.record({ header: headerArb, records: recordsArb(modes) });
export const dataPacketFields = (modes: Modes) => (p: DataPacket) => [
  ...headerFields(p.header),
  ...recordFields(p.records, idModeOf(modes)),
];

// ---- control packets (control.ts) ------------------------------------------------------------------

const MIN_CONNECT_SIZE = 48;
const text = fc.string({ maxLength: 50, unit: 'binary' });
const token = fc.uint8Array({ minLength: 16, maxLength: 16 });
const time = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 });

export const channelSpecArb = fc.record({
  kind: fc.oneof(fc.nat({ max: 3 }), fc.nat({ max: 255 })),
  window: word,
  maxMessageSize: dword,
  maxQueuedBytes: dword,
});

export const controlArb: fc.Arbitrary<ControlPacket> = fc.oneof(
  fc.record({
    type: fc.constant('connect' as const),
    version: fc.oneof(fc.constant(PROTOCOL_VERSION), fc.nat({ max: 255 })),
    nonce: dword,
    attempt: fc.nat({ max: 255 }),
    maxAckDelay: fc.nat({ max: 100 }),
    channels: fc.array(channelSpecArb, { maxLength: 6 }),
    payload: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 900, maxLength: 1024 })),
  }),
  fc.record({
    type: fc.constant('accept' as const),
    nonce: dword,
    connectionId: dword,
    attempt: fc.nat({ max: 255 }),
    maxAckDelay: fc.nat({ max: 100 }),
    token,
    receivedAt: time,
    sentAt: time,
  }),
  fc.record({ type: fc.constant('reject' as const), nonce: dword, reason: fc.nat({ max: 255 }), text }),
  fc.record({ type: fc.constant('disconnect' as const), connectionId: dword, reason: fc.nat({ max: 255 }), text }),
  fc.record({ type: fc.constant('resume' as const), connectionId: dword, token }),
  fc.record({ type: fc.constant('resumed' as const), connectionId: dword }),
);

/** A REJECT or DISCONNECT text as it comes back: UTF-8 cut to 200 bytes without splitting a character. */
export function wireText(t: string): string {
  const b = utf8.encode(t);
  let end = Math.min(b.length, 200);
  if (end < b.length) while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(b.subarray(0, end));
}

export function controlFields(p: ControlPacket): Field[] {
  const prefix = (type: number) => u8('prefix', (1 << 6) | type);
  switch (p.type) {
    case 'connect': {
      const fs: Field[] = [
        prefix(1),
        u8('version', p.version),
        u32('nonce', p.nonce),
        u8('attempt', p.attempt),
        u8('max ack delay', p.maxAckDelay),
        u8('channel count', p.channels.length),
      ];
      for (const c of p.channels)
        fs.push(
          u8('channel kind', c.kind),
          u16('window', c.window),
          u32('max message size', c.maxMessageSize),
          u32('max queued bytes', c.maxQueuedBytes),
        );
      fs.push(u16('payload length', p.payload.length), bytes('payload', p.payload));
      const size = 11 + 11 * p.channels.length + p.payload.length;
      if (size < MIN_CONNECT_SIZE) fs.push(bytes('padding', new Uint8Array(MIN_CONNECT_SIZE - size)));
      return fs;
    }
    case 'accept':
      return [
        prefix(2),
        u32('nonce', p.nonce),
        u32('connection id', p.connectionId),
        u8('attempt', p.attempt),
        u8('max ack delay', p.maxAckDelay),
        bytes('token', p.token),
        f64('received at', p.receivedAt),
        f64('sent at', p.sentAt),
      ];
    case 'reject':
    case 'disconnect': {
      const t = utf8.encode(wireText(p.text));
      return [
        prefix(p.type === 'reject' ? 3 : 4),
        u32(p.type === 'reject' ? 'nonce' : 'connection id', p.type === 'reject' ? p.nonce : p.connectionId),
        u8('reason', p.reason),
        u8('text length', t.length),
        bytes('text', t),
      ];
    }
    case 'resume':
      return [
        prefix(5),
        u32('connection id', p.connectionId),
        bytes('token', p.token),
        bytes('padding', new Uint8Array(MIN_CONNECT_SIZE - 21)),
      ];
    case 'resumed':
      return [prefix(6), u32('connection id', p.connectionId)];
  }
}

// ---- ping and pong records (control-record.ts) --------------------------------------------------------

export type ControlRecordValue = { type: 'ping'; ping: Ping } | { type: 'pong'; pong: Pong };
export const controlRecordArb: fc.Arbitrary<ControlRecordValue> = fc.oneof(
  fc.record({ type: fc.constant('ping' as const), ping: fc.record({ seq: word, sentAt: time }) }),
  fc.record({ type: fc.constant('pong' as const), pong: fc.record({ seq: word, pingsReceived: dword, receivedAt: time, sentAt: time }) }),
);
/** PING: type | seq | sent at | zero padding to PING_SIZE; PONG: type | seq | pings received | received at | sent at. */
export function controlRecordFields(r: ControlRecordValue): Field[] {
  if (r.type === 'ping') {
    return [
      u8('control record type', 1),
      u16('ping seq', r.ping.seq),
      f64('ping time', r.ping.sentAt),
      bytes('padding', new Uint8Array(PING_SIZE - 11)),
    ];
  }
  const p = r.pong;
  return [
    u8('control record type', 2),
    u16('pong seq', p.seq),
    u32('pings received', p.pingsReceived),
    f64('receive time', p.receivedAt),
    f64('pong time', p.sentAt),
  ];
}

// ---- MessagePack (what msgpack-bounds.ts checks and message.ts decodes) ---------------------------

export type Pack =
  | { t: 'nil' }
  | { t: 'bool'; v: boolean }
  | { t: 'int'; enc: 'posfix' | 'negfix' | 'u8' | 'u16' | 'u32' | 'i8' | 'i16' | 'i32' | 'u64' | 'i64'; v: number; hi: number }
  | { t: 'float'; enc: 32 | 64; v: number }
  | { t: 'str'; enc: 'fix' | 8 | 16 | 32; v: string }
  | { t: 'bin'; enc: 8 | 16 | 32; v: Uint8Array }
  | { t: 'ext'; enc: 'fix' | 8 | 16 | 32; type: number; data: Uint8Array }
  | { t: 'arr'; enc: 'fix' | 16 | 32; items: Pack[] }
  | { t: 'map'; enc: 'fix' | 16 | 32; entries: [Pack, Pack][] };

/** Map keys the way games use them, plus the ones a hostile peer tries. */
const KEYS = ['a', 'type', 'x', 'id', '__proto__', 'constructor', 'prototype', ''];

const strArb = (v: fc.Arbitrary<string>) =>
  fc
    .tuple(v, fc.constantFrom('fix' as const, 8 as const, 16 as const, 32 as const))
    .map(([s, enc]): Pack => ({ t: 'str', enc: enc === 'fix' && utf8.encode(s).length > 31 ? 8 : enc, v: s }));

const leafArb: fc.Arbitrary<Pack> = fc.oneof(
  fc.constant<Pack>({ t: 'nil' }),
  fc.boolean().map((v): Pack => ({ t: 'bool', v })),
  fc
    .tuple(fc.constantFrom('posfix', 'negfix', 'u8', 'u16', 'u32', 'i8', 'i16', 'i32', 'u64', 'i64'), dword, dword)
    .map(([enc, v, hi]): Pack => ({ t: 'int', enc: enc as never, v, hi })),
  fc.tuple(fc.constantFrom(32 as const, 64 as const), fc.double()).map(([enc, v]): Pack => ({ t: 'float', enc, v })),
  strArb(fc.string({ maxLength: 40, unit: 'binary' })),
  fc
    .tuple(fc.constantFrom(8 as const, 16 as const, 32 as const), fc.uint8Array({ maxLength: 40 }))
    .map(([enc, v]): Pack => ({ t: 'bin', enc, v })),
  fc
    .tuple(
      fc.constantFrom('fix' as const, 8 as const, 16 as const, 32 as const),
      fc.integer({ min: 0, max: 127 }),
      fc.constantFrom(1, 2, 4, 8, 16, 0, 3, 20),
    )
    .chain(([enc, type, n]) =>
      fc
        .uint8Array({ minLength: n, maxLength: n })
        .map((data): Pack => ({ t: 'ext', enc: enc === 'fix' && ![1, 2, 4, 8, 16].includes(n) ? 8 : enc, type, data })),
    ),
);

export const packArb: fc.Arbitrary<Pack> = fc.letrec<{ pack: Pack }>((tie) => ({
  pack: fc.oneof(
    { maxDepth: 4, depthSize: 'small' },
    { arbitrary: leafArb, weight: 4 },
    fc
      .tuple(fc.constantFrom('fix' as const, 16 as const, 32 as const), fc.array(tie('pack'), { maxLength: 6 }))
      .map(([enc, items]): Pack => ({ t: 'arr', enc, items })),
    fc
      .tuple(
        fc.constantFrom('fix' as const, 16 as const, 32 as const),
        fc.array(fc.tuple(strArb(fc.constantFrom(...KEYS)), tie('pack')), { maxLength: 5 }),
      )
      .map(([enc, entries]): Pack => ({ t: 'map', enc, entries })),
  ),
})).pack;

function f32bits(v: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, v);
  return dv.getUint32(0);
}

const lenField = (enc: 8 | 16 | 32, name: string, n: number): Field => (enc === 8 ? u8(name, n) : enc === 16 ? u16(name, n) : u32(name, n));

export function packFields(p: Pack): Field[] {
  const type = (b: number) => u8('msgpack type', b);
  switch (p.t) {
    case 'nil':
      return [type(0xc0)];
    case 'bool':
      return [type(p.v ? 0xc3 : 0xc2)];
    case 'int':
      switch (p.enc) {
        case 'posfix':
          return [type(p.v & 0x7f)];
        case 'negfix':
          return [type(0xe0 | (p.v & 0x1f))];
        case 'u8':
        case 'i8':
          return [type(p.enc === 'u8' ? 0xcc : 0xd0), u8('int', p.v)];
        case 'u16':
        case 'i16':
          return [type(p.enc === 'u16' ? 0xcd : 0xd1), u16('int', p.v)];
        case 'u32':
        case 'i32':
          return [type(p.enc === 'u32' ? 0xce : 0xd2), u32('int', p.v)];
        case 'u64':
        case 'i64':
          return [type(p.enc === 'u64' ? 0xcf : 0xd3), u32('int high', p.hi), u32('int low', p.v)];
      }
      break;
    case 'float':
      return p.enc === 32 ? [type(0xca), u32('float32', f32bits(p.v))] : [type(0xcb), f64('float64', p.v)];
    case 'str': {
      const b = utf8.encode(p.v);
      if (p.enc === 'fix') return [type(0xa0 | b.length), bytes('str', b)];
      return [type(p.enc === 8 ? 0xd9 : p.enc === 16 ? 0xda : 0xdb), lenField(p.enc, 'str length', b.length), bytes('str', b)];
    }
    case 'bin':
      return [type(p.enc === 8 ? 0xc4 : p.enc === 16 ? 0xc5 : 0xc6), lenField(p.enc, 'bin length', p.v.length), bytes('bin', p.v)];
    case 'ext': {
      const n = p.data.length;
      if (p.enc === 'fix')
        return [type({ 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 }[n]!), u8('ext type', p.type), bytes('ext', p.data)];
      return [
        type(p.enc === 8 ? 0xc7 : p.enc === 16 ? 0xc8 : 0xc9),
        lenField(p.enc, 'ext length', n),
        u8('ext type', p.type),
        bytes('ext', p.data),
      ];
    }
    case 'arr': {
      const head =
        p.enc === 'fix' && p.items.length < 16
          ? [type(0x90 | p.items.length)]
          : [type(p.enc === 32 ? 0xdd : 0xdc), lenField(p.enc === 32 ? 32 : 16, 'array count', p.items.length)];
      return [...head, ...p.items.flatMap(packFields)];
    }
    case 'map': {
      const n = p.entries.length;
      const head =
        p.enc === 'fix' && n < 16 ? [type(0x80 | n)] : [type(p.enc === 32 ? 0xdf : 0xde), lenField(p.enc === 32 ? 32 : 16, 'map count', n)];
      return [...head, ...p.entries.flatMap(([k, v]) => [...packFields(k), ...packFields(v)])];
    }
  }
}

/** True if any map in `p` has a key the decoder may refuse on purpose (prototype keys). */
export function hasPrototypeKey(p: Pack): boolean {
  if (p.t === 'arr') return p.items.some(hasPrototypeKey);
  if (p.t === 'map')
    return p.entries.some(([k, v]) => (k.t === 'str' && ['__proto__', 'constructor', 'prototype'].includes(k.v)) || hasPrototypeKey(v));
  return false;
}

/**
 * Values in a decoded MessagePack value, counting each string's, key's and binary's length. Linear in the
 * input, at most 4 per byte: a one-byte integer key becomes a string of up to 3 characters (127 → "127").
 */
export const SIZE_PER_BYTE = 4;
export function decodedSize(v: unknown, seen = new Set<unknown>()): number {
  if (typeof v === 'string') return 1 + v.length;
  if (v instanceof Uint8Array) return 1 + v.length;
  if (v === null || typeof v !== 'object') return 1;
  if (seen.has(v)) throw new Error('a decoded value refers to itself');
  seen.add(v);
  if (Array.isArray(v)) return 1 + v.reduce((n: number, x) => n + decodedSize(x, seen), 0);
  if (v instanceof Date) return 1;
  if (v instanceof ExtData) return 1 + (v.data instanceof Uint8Array ? v.data.length : 1);
  if (v instanceof Map) return 1 + [...v].reduce((n, [k, x]) => n + decodedSize(k, seen) + decodedSize(x, seen), 0);
  return 1 + Object.entries(v).reduce((n, [k, x]) => n + k.length + decodedSize(x, seen), 0);
}

// ---- message envelopes (envelope.ts) --------------------------------------------------------------

export interface EnvelopeValue {
  type: string;
  body: { raw: Uint8Array } | { pack: Pack };
}

export const messageTypeArb = fc.oneof(
  fc.constantFrom('echo', 'chat', 'move', 'x'),
  fc.string({ minLength: 1, maxLength: 30, unit: 'binary' }),
);
export const envelopeArb: fc.Arbitrary<EnvelopeValue> = fc.record({
  type: messageTypeArb.filter((t) => utf8.encode(t).length >= 1 && utf8.encode(t).length <= 255),
  body: fc.oneof(
    { arbitrary: packArb.map((pack) => ({ pack })), weight: 4 },
    fc.uint8Array({ maxLength: 60 }).map((raw) => ({ raw })),
  ),
});

export function envelopeFields(e: EnvelopeValue): Field[] {
  const t = utf8.encode(e.type);
  const raw = 'raw' in e.body;
  return [
    u8('envelope flags', raw ? 1 : 0),
    u8('type length', t.length),
    bytes('message type', t),
    ...('raw' in e.body ? [bytes('raw body', e.body.raw)] : packFields(e.body.pack)),
  ];
}

// ---- long-polling batches (datagram-batch.ts) ------------------------------------------------------

export function batchFields(datagrams: readonly Uint8Array[]): Field[] {
  return datagrams.flatMap((d) => [u16('datagram length', d.length), bytes('datagram', d)]);
}

// ---- any datagram a peer may send ----------------------------------------------------------------

/** The CONNECT an honest client sends for `channels` (what a server with that layout accepts). */
export function honestConnect(channels: readonly ChannelOptions[], payload = new Uint8Array(0)): ConnectPacket {
  const c = new ClientEndpoint<number>({ connection: { channels: [...channels] }, random: new Random(1) });
  c.connect(0, false, payload, 0);
  const p = decodeControl(c.poll(0)[0]!.datagram);
  if (p.type !== 'connect') throw new Error('the first datagram of a client is not a CONNECT');
  return p;
}

/** Which channels of `channels` carry ids. */
export const modesOf = (channels: readonly ChannelOptions[]): Modes => channels.map((c) => (c.kind === 'unreliable' ? 'plain' : 'id'));

/**
 * A datagram a peer may send a server with this layout: CONNECTs that start from the honest one, data
 * packets for the layout, any control packet, garbage — each structure mutated or not.
 */
export function peerDatagramArb(template: ConnectPacket, modes: Modes): fc.Arbitrary<Uint8Array> {
  const connect: fc.Arbitrary<ControlPacket> = fc.record({
    type: fc.constant('connect' as const),
    version: fc.oneof({ arbitrary: fc.constant(template.version), weight: 5 }, fc.nat({ max: 255 })),
    nonce: dword,
    attempt: fc.nat({ max: 255 }),
    maxAckDelay: fc.oneof(fc.constant(template.maxAckDelay), fc.nat({ max: 100 })),
    channels: fc.oneof({ arbitrary: fc.constant(template.channels), weight: 5 }, fc.array(channelSpecArb, { maxLength: 5 })),
    payload: fc.uint8Array({ maxLength: 40 }),
  });
  return fc.oneof(
    { arbitrary: fuzzed(connect, controlFields, 2).map((f) => f.bytes), weight: 4 },
    { arbitrary: fuzzed(dataPacketArb(modes), dataPacketFields(modes)).map((f) => f.bytes), weight: 4 },
    { arbitrary: fuzzed(controlArb, controlFields).map((f) => f.bytes), weight: 2 },
    { arbitrary: fc.uint8Array({ maxLength: 80 }), weight: 1 },
  );
}
