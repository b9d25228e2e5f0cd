/**
 * Sealed-UDP benchmark: what @volley/udp's AES-256-GCM framing (docs/transports.md "UDP") costs per packet, in
 * this process, for datagrams of 32, 64, 256 and 1200 bytes:
 *  - seal: FrameSealer.seal of a client→server DATA frame ({ withLinkId: true }), ns per packet;
 *  - open: what the server does with it: readPn, the sealed part's view, FrameOpener.open, ns per packet;
 *  - beside them, in the same repetitions, the unsealed framing this replaced: building the frame
 *    (Buffer.allocUnsafe, 0xD0, link id, copy of the datagram) and taking the datagram's view on receipt;
 *  - a peer: Node's TLS (what WebSocket over wss pays) as process CPU time (process.cpuUsage, both ends in
 *    this process) per record of the same sizes over a tls client/server pair on 127.0.0.1 (self-signed
 *    certificate made with `openssl` in a temp dir; skipped with a note if there is none), and the same over
 *    plain TCP, so the TLS share of it can be told from the socket's;
 *  - minting and opening a connect token, µs each;
 *  - bytes each frame adds on the wire (from the frames' lengths), and heap allocation per packet with
 *    --expose-gc (as protocol.bench.ts measures it).
 * Times are process CPU time (process.cpuUsage: user + system, all threads), as for the TLS peer, so the two
 * compare, and a loaded machine moves them less than wall time (also in the JSON). Repetitions are interleaved
 * and the median is reported. Every loop is bounded in count, each phase in time (PHASE_MS, < 20 s in all).
 * Figures only: nothing here asserts on speed.
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { GCProfiler } from 'node:v8';
import {
  FrameOpener,
  FrameSealer,
  mintConnectToken,
  openConnectToken,
  readPn,
  UDP_CLIENT_HEADER_SIZE,
  UDP_LINK_ID_SIZE,
  UdpFrame,
} from '@volley/udp';

const SIZES = [32, 64, 256, 1200];
/** Sealed operations per timed batch (one batch per repetition and size); the unsealed ones do BASE_FACTOR× more. */
const OPS = 2_000;
const BASE_FACTOR = 50;
const WARMUP_OPS = 2_000;
const REPEATS = 9;
/** The old unsealed client→server DATA frame: 0xD0 | link id 8 B | datagram; server→client: 0xD0 | datagram. */
const UNSEALED_CLIENT_HEADER = 1 + UDP_LINK_ID_SIZE;
const UNSEALED_SERVER_HEADER = 1;
/** TLS / TCP peer: records written one after another (the next in the previous one's write callback). */
const RECORDS = 2_000;
const RECORD_WARMUP = 500;
const PEER_REPEATS = 5;
const PEER_TIMEOUT_MS = 10_000;
const TOKEN_OPS = 1_000;
const TOKEN_REPEATS = 5;
const ALLOC_CHUNK = 1_000;
const ALLOC_SAMPLES = 3;
const ALLOC_ATTEMPTS = 8;
/**
 * Time cap of each phase, ms from its start: repetitions not started by then are skipped (at least one always
 * runs; the result says `capped`), so a slow phase cannot take a later one's time. 16 s in all at most, plus
 * the last repetition of each phase.
 */
const SETTLE_MS = 100;
/** Idle pause at the end of each timed batch, inside its CPU-time span (timeBatch). */
const BATCH_TAIL_MS = 10;
const PHASE_MS = { seal: 5_000, alloc: 3_500, tokens: 1_500, peers: 6_000 };

export interface UdpSealSizeResult {
  datagramBytes: number;
  /** Medians over the repetitions: process CPU time (user + system) per packet, ns. */
  sealNs: number;
  openNs: number;
  unsealedBuildNs: number;
  unsealedReceiveNs: number;
  /** sealNs / unsealedBuildNs, openNs / unsealedReceiveNs, (seal + open) / (build + receive). */
  sealVsUnsealed: number;
  openVsUnsealed: number;
  roundTripVsUnsealed: number;
  /** The same, wall-clock (hrtime), ns per packet (medians). */
  wallNs: { seal: number; open: number; unsealedBuild: number; unsealedReceive: number };
  /** CPU ns per packet of every repetition. */
  runs: { sealNs: number[]; openNs: number[]; unsealedBuildNs: number[]; unsealedReceiveNs: number[] };
  wire: {
    sealedClientFrame: number;
    unsealedClientFrame: number;
    sealedServerFrame: number;
    unsealedServerFrame: number;
    /** Bytes sealing adds per frame, each direction. */
    addedClientToServer: number;
    addedServerToClient: number;
  };
  /** Heap + ArrayBuffer bytes per packet (median of GC-free chunks); null without --expose-gc. */
  allocatedBytes: { seal: number | null; open: number | null; unsealedBuild: number | null };
  tls: PeerSize | null;
}

export interface PeerSize {
  records: number;
  /** Process CPU (user + system) per record, both ends, ns: TLS and, the same writes, plain TCP (medians). */
  tlsCpuNs: number;
  tcpCpuNs: number;
  /** tlsCpuNs − tcpCpuNs: what TLS adds to the socket's own cost. */
  tlsOverTcpNs: number;
  /** Wall time per record over TLS, ns (median run). */
  tlsWallNs: number;
  /** (sealNs + openNs) / tlsCpuNs and / tlsOverTcpNs. */
  sealedVsTls: number;
  sealedVsTlsOverTcp: number;
  runs: { tlsCpuNs: number[]; tcpCpuNs: number[] };
}

export interface UdpSealBenchResult {
  config: { sizes: number[]; ops: number; baseFactor: number; repeats: number; records: number; peerRepeats: number; tokenOps: number };
  method: string;
  allocationMethod: string;
  tlsMethod: string;
  /** Why there is no TLS peer (no openssl, or it failed), if so. */
  tlsSkipped?: string;
  tlsCipher?: string;
  tlsProtocol?: string;
  sizes: UdpSealSizeResult[];
  /** Process CPU time per token minted / opened, µs (medians). */
  tokens: { mintUs: number; openUs: number; tokenBytes: number; runs: { mintUs: number[]; openUs: number[] } };
  seconds: number;
  /** True when a phase's time cap (PHASE_MS) stopped its repetitions early. */
  capped: boolean;
}

function fail(message: string): never {
  throw new Error(`BENCHMARK ABORTED: udp-seal: ${message}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1] ?? Number.NaN;
}

/** Folded into the result so no loop's work can be optimized away. */
let _sink = 0;
const opts = { withLinkId: true };

/** One timed batch: process CPU time (user + system, all threads) and wall time per operation, ns. */
interface Batch {
  cpuNs: number;
  wallNs: number;
}

/**
 * Runs `body` (n operations). The CPU time is read after a short idle pause: V8 frees what a batch allocated
 * (ArrayBuffer backing stores, swept pages) partly on background threads, which process CPU time counts, so
 * read at once it lands on the next batch (a 100 ns view was charged ~900 ns after the opens, measured).
 */
async function timeBatch(n: number, body: () => number): Promise<Batch> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const x = body();
  const wall = Number(process.hrtime.bigint() - t0);
  await new Promise((resolve) => setTimeout(resolve, BATCH_TAIL_MS));
  const c = process.cpuUsage(c0);
  _sink ^= x;
  return { cpuNs: ((c.user + c.system) * 1000) / n, wallNs: wall / n };
}

/**
 * A full GC, then a pause: the GC's background threads (sweeping) go on after gc() returns, and process CPU time
 * counts them, so a batch timed right after gc() was charged ~2× (measured). Timed phases start after this and
 * run without forced GCs; the collections their own allocations cause are part of what they cost.
 */
async function settle(): Promise<void> {
  globalThis.gc?.();
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

function sealLoop(sealer: FrameSealer, datagram: Uint8Array, n: number): Promise<Batch> {
  return timeBatch(n, () => {
    let x = 0;
    for (let i = 0; i < n; i++) x ^= sealer.seal(UdpFrame.Data, datagram, opts).length;
    return x;
  });
}

/** What the server does with a client DATA frame after the link lookup: readPn, a view of the sealed part, open. */
function openFrame(opener: FrameOpener, msg: Buffer): Uint8Array | 'replay' | 'forged' {
  return opener.open(UdpFrame.Data, readPn(msg, 1 + UDP_LINK_ID_SIZE), msg.subarray(UDP_CLIENT_HEADER_SIZE));
}

function openLoop(opener: FrameOpener, frames: Buffer[], n: number): Promise<Batch> {
  return timeBatch(n, () => {
    let x = 0;
    for (let i = 0; i < n; i++) {
      const plain = openFrame(opener, frames[i]!);
      if (typeof plain === 'string') fail(`frame ${i} did not open (${plain})`);
      x ^= plain.length;
    }
    return x;
  });
}

/** The unsealed client→server DATA frame as the transport built it before sealing. */
function buildUnsealed(linkId: Buffer, datagram: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(UNSEALED_CLIENT_HEADER + datagram.length);
  frame[0] = UdpFrame.Data;
  linkId.copy(frame, 1);
  frame.set(datagram, UNSEALED_CLIENT_HEADER);
  return frame;
}

function buildLoop(linkId: Buffer, datagram: Uint8Array, n: number): Promise<Batch> {
  return timeBatch(n, () => {
    let x = 0;
    for (let i = 0; i < n; i++) x ^= buildUnsealed(linkId, datagram).length;
    return x;
  });
}

/** What the unsealed receive did with a DATA frame after the link lookup (which both do): a view of the datagram. */
function receiveLoop(frame: Buffer, n: number): Promise<Batch> {
  return timeBatch(n, () => {
    let x = 0;
    for (let i = 0; i < n; i++) {
      const inner = new Uint8Array(frame.buffer, frame.byteOffset + UNSEALED_CLIENT_HEADER, frame.length - UNSEALED_CLIENT_HEADER);
      x ^= inner.length;
    }
    return x;
  });
}

/**
 * Bytes allocated per operation: global.gc(), then process.memoryUsage() heapUsed + arrayBuffers growth over
 * a chunk; chunks in which v8.GCProfiler saw a GC are discarded (the chunk halves). `make` prepares a chunk
 * runner outside the measured span. Null without --expose-gc (or if no chunk was clean before `deadline`).
 */
function allocPerOp(make: () => (n: number) => void, deadline: number): number | null {
  const gc = globalThis.gc;
  if (!gc) return null;
  let chunk = ALLOC_CHUNK;
  const samples: number[] = [];
  for (let i = 0; i < ALLOC_ATTEMPTS && samples.length < ALLOC_SAMPLES && performance.now() < deadline; i++) {
    const run = make();
    gc();
    const profiler = new GCProfiler();
    profiler.start();
    const m0 = process.memoryUsage();
    run(chunk);
    const m1 = process.memoryUsage();
    if (profiler.stop().statistics.length > 0) {
      if (chunk > 100) chunk >>= 1;
      samples.length = 0;
      continue;
    }
    samples.push((m1.heapUsed - m0.heapUsed + m1.arrayBuffers - m0.arrayBuffers) / chunk);
  }
  return samples.length === 0 ? null : Math.round(median(samples));
}

function datagramOf(size: number): Uint8Array {
  const d = new Uint8Array(size);
  for (let i = 0; i < size; i++) d[i] = (i * 7 + 3) & 0xff;
  return d;
}

/** One datagram size's keys, frames and timed batches. */
class SizeCase {
  readonly clientKey = randomBytes(32);
  readonly linkId = randomBytes(UDP_LINK_ID_SIZE);
  readonly datagram: Uint8Array;
  readonly sealer: FrameSealer;
  /** Frames to open: pn 0…OPS−1 from their own sealer; each repetition opens them with a fresh opener. */
  readonly frames: Buffer[];
  readonly unsealed: Buffer;
  readonly batches = { seal: [] as Batch[], open: [] as Batch[], unsealedBuild: [] as Batch[], unsealedReceive: [] as Batch[] };

  constructor(readonly size: number) {
    this.datagram = datagramOf(size);
    this.sealer = new FrameSealer(this.clientKey, this.linkId);
    const frameSealer = new FrameSealer(this.clientKey, this.linkId);
    this.frames = Array.from({ length: OPS }, () => frameSealer.seal(UdpFrame.Data, this.datagram, opts));
    const first = openFrame(this.opener(), this.frames[0]!);
    if (typeof first === 'string' || Buffer.compare(Buffer.from(first), Buffer.from(this.datagram)) !== 0) {
      fail(`${size} B: the opened frame is not the datagram`);
    }
    this.unsealed = buildUnsealed(this.linkId, this.datagram);
  }

  opener(): FrameOpener {
    return new FrameOpener(this.clientKey, this.linkId);
  }

  /** One repetition (or an untimed warm-up of `n` sealed operations). */
  async run(n: number, keep: boolean): Promise<void> {
    const build = await buildLoop(this.linkId, this.datagram, n * BASE_FACTOR);
    const seal = await sealLoop(this.sealer, this.datagram, n);
    const open = await openLoop(this.opener(), this.frames, n);
    const receive = await receiveLoop(this.unsealed, n * BASE_FACTOR);
    if (!keep) return;
    this.batches.unsealedBuild.push(build);
    this.batches.seal.push(seal);
    this.batches.open.push(open);
    this.batches.unsealedReceive.push(receive);
  }

  allocations(deadline: number): UdpSealSizeResult['allocatedBytes'] {
    const { sealer, datagram, frames, linkId } = this;
    return {
      seal: allocPerOp(
        () => (n) => {
          for (let i = 0; i < n; i++) sealer.seal(UdpFrame.Data, datagram, opts);
        },
        deadline,
      ),
      open: allocPerOp(() => {
        const opener = this.opener();
        return (n) => {
          for (let i = 0; i < n; i++) openFrame(opener, frames[i]!);
        };
      }, deadline),
      unsealedBuild: allocPerOp(
        () => (n) => {
          for (let i = 0; i < n; i++) buildUnsealed(linkId, datagram);
        },
        deadline,
      ),
    };
  }

  result(allocatedBytes: UdpSealSizeResult['allocatedBytes']): Omit<UdpSealSizeResult, 'tls'> {
    const b = this.batches;
    const cpu = (xs: Batch[]): number => median(xs.map((x) => x.cpuNs));
    const wall = (xs: Batch[]): number => median(xs.map((x) => x.wallNs));
    const m = {
      sealNs: cpu(b.seal),
      openNs: cpu(b.open),
      unsealedBuildNs: cpu(b.unsealedBuild),
      unsealedReceiveNs: cpu(b.unsealedReceive),
    };
    const round1 = (xs: Batch[]): number[] => xs.map((x) => Math.round(x.cpuNs * 10) / 10);
    const sealedClientFrame = this.frames[0]!.length;
    const sealedServerFrame = new FrameSealer(randomBytes(32), this.linkId).seal(UdpFrame.Data, this.datagram).length;
    const unsealedServerFrame = UNSEALED_SERVER_HEADER + this.size;
    return {
      datagramBytes: this.size,
      ...m,
      sealVsUnsealed: m.sealNs / m.unsealedBuildNs,
      openVsUnsealed: m.openNs / m.unsealedReceiveNs,
      roundTripVsUnsealed: (m.sealNs + m.openNs) / (m.unsealedBuildNs + m.unsealedReceiveNs),
      wallNs: { seal: wall(b.seal), open: wall(b.open), unsealedBuild: wall(b.unsealedBuild), unsealedReceive: wall(b.unsealedReceive) },
      runs: {
        sealNs: round1(b.seal),
        openNs: round1(b.open),
        unsealedBuildNs: round1(b.unsealedBuild),
        unsealedReceiveNs: round1(b.unsealedReceive),
      },
      wire: {
        sealedClientFrame,
        unsealedClientFrame: this.unsealed.length,
        sealedServerFrame,
        unsealedServerFrame,
        addedClientToServer: sealedClientFrame - this.unsealed.length,
        addedServerToClient: sealedServerFrame - unsealedServerFrame,
      },
      allocatedBytes,
    };
  }
}

async function measureTokens(deadline: number): Promise<UdpSealBenchResult['tokens'] & { capped: boolean }> {
  const tokenKey = randomBytes(32);
  const now = Date.now();
  const expires = now + 30_000;
  const token = mintConnectToken(tokenKey, expires).token;
  const loop = async (what: 'mint' | 'open', n: number): Promise<number> =>
    (
      await timeBatch(n, () => {
        let x = 0;
        if (what === 'mint') for (let i = 0; i < n; i++) x ^= mintConnectToken(tokenKey, expires).token.length;
        else
          for (let i = 0; i < n; i++) {
            const grant = openConnectToken(tokenKey, token, now);
            if (!grant) fail('a minted token did not open');
            x ^= grant.expires;
          }
        return x;
      })
    ).cpuNs / 1000;
  await loop('mint', TOKEN_OPS / 5);
  await loop('open', TOKEN_OPS / 5);
  const runs = { mintUs: [] as number[], openUs: [] as number[] };
  let capped = false;
  for (let r = 0; r < TOKEN_REPEATS; r++) {
    if (r > 0 && performance.now() > deadline) {
      capped = true;
      break;
    }
    runs.mintUs.push(await loop('mint', TOKEN_OPS));
    runs.openUs.push(await loop('open', TOKEN_OPS));
  }
  const round2 = (xs: number[]): number[] => xs.map((x) => Math.round(x * 100) / 100);
  return {
    mintUs: median(runs.mintUs),
    openUs: median(runs.openUs),
    tokenBytes: token.length,
    runs: { mintUs: round2(runs.mintUs), openUs: round2(runs.openUs) },
    capped,
  };
}

/** A self-signed certificate for 127.0.0.1 made by `openssl` in a temp dir, or why not. */
function selfSigned(): { key: Buffer; cert: Buffer } | string {
  let dir: string | undefined;
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore', timeout: 5000 });
  } catch {
    return 'no openssl on PATH: node:crypto cannot make an X.509 certificate by itself';
  }
  try {
    dir = mkdtempSync(path.join(os.tmpdir(), 'volley-bench-tls-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      // prettier-ignore
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
        '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'],
      { stdio: 'ignore', timeout: 10_000 },
    );
    return { key: readFileSync(key), cert: readFileSync(cert) };
  } catch (e) {
    return `openssl could not make a certificate: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Counts what the receiving end reads, and wakes whoever waits for a total. */
class Sink {
  received = 0;
  private waiter: { target: number; resolve: () => void } | undefined;

  take(n: number): void {
    this.received += n;
    if (this.waiter && this.received >= this.waiter.target) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve();
    }
  }

  until(target: number): Promise<void> {
    if (this.received >= target) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = { target, resolve }));
  }
}

interface Pair {
  client: net.Socket;
  sink: Sink;
  close(): Promise<void>;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`udp-seal: ${what} took over ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A connected client/server pair on 127.0.0.1 (TLS with `creds`, plain TCP without); the server counts bytes. */
async function openPair(creds: { key: Buffer; cert: Buffer } | undefined): Promise<Pair> {
  const sink = new Sink();
  const accepted: net.Socket[] = [];
  const onSocket = (s: net.Socket): void => {
    accepted.push(s);
    s.setNoDelay(true);
    s.on('data', (d: Buffer) => sink.take(d.length));
    s.on('error', () => {});
  };
  const server = creds ? tls.createServer({ key: creds.key, cert: creds.cert }, onSocket) : net.createServer(onSocket);
  const close = async (): Promise<void> => {
    client?.destroy();
    for (const s of accepted) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  let client: net.Socket | undefined;
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      }),
      PEER_TIMEOUT_MS,
      'listen',
    );
    const { port } = server.address() as net.AddressInfo;
    const c = await withTimeout(
      new Promise<net.Socket>((resolve, reject) => {
        const s = creds
          ? tls.connect({ host: '127.0.0.1', port, ca: creds.cert }, () => resolve(s))
          : net.connect({ host: '127.0.0.1', port }, () => resolve(s));
        client = s;
        s.once('error', reject);
      }),
      PEER_TIMEOUT_MS,
      creds ? 'TLS connect' : 'TCP connect',
    );
    c.setNoDelay(true);
    c.on('error', () => {});
    return { client: c, sink, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Writes `count` records of `payload`, each in the previous one's write callback (so no two are ever coalesced
 * into one TLS record), and waits until the server has read them all: process CPU and wall time per record, ns.
 */
async function stream(pair: Pair, payload: Buffer, count: number): Promise<Batch> {
  const target = pair.sink.received + payload.length * count;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const written = new Promise<void>((resolve, reject) => {
    let i = 0;
    const next = (err?: Error | null): void => {
      if (err) return reject(err);
      if (++i >= count) return resolve();
      pair.client.write(payload, next);
    };
    pair.client.write(payload, next);
  });
  await withTimeout(Promise.all([written, pair.sink.until(target)]), PEER_TIMEOUT_MS, `${count} records of ${payload.length} B`);
  const wallNs = (performance.now() - t0) * 1e6;
  await new Promise((resolve) => setTimeout(resolve, BATCH_TAIL_MS));
  const cpu = process.cpuUsage(cpu0);
  return { cpuNs: ((cpu.user + cpu.system) * 1000) / count, wallNs: wallNs / count };
}

async function measurePeers(
  creds: { key: Buffer; cert: Buffer },
  deadline: number,
): Promise<{
  bySize: Map<number, Omit<PeerSize, 'sealedVsTls' | 'sealedVsTlsOverTcp'>>;
  cipher: string;
  protocol: string;
  capped: boolean;
}> {
  await settle();
  const tlsPair = await openPair(creds);
  let tcpPair: Pair | undefined;
  try {
    tcpPair = await openPair(undefined);
    const tlsSocket = tlsPair.client as tls.TLSSocket;
    const cipher = tlsSocket.getCipher().standardName;
    const protocol = tlsSocket.getProtocol() ?? 'unknown';
    const payloads = SIZES.map((size) => Buffer.from(datagramOf(size)));
    for (const payload of payloads) {
      await stream(tlsPair, payload, RECORD_WARMUP);
      await stream(tcpPair, payload, RECORD_WARMUP);
    }
    // Repetitions outermost, TLS and TCP interleaved, so a slow spell of the machine does not land on one case only.
    const tlsRuns: Batch[][] = SIZES.map(() => []);
    const tcpRuns: number[][] = SIZES.map(() => []);
    let capped = false;
    for (let r = 0; r < PEER_REPEATS; r++) {
      if (r > 0 && performance.now() > deadline) {
        capped = true;
        break;
      }
      for (let i = 0; i < SIZES.length; i++) {
        tlsRuns[i]!.push(await stream(tlsPair, payloads[i]!, RECORDS));
        tcpRuns[i]!.push((await stream(tcpPair, payloads[i]!, RECORDS)).cpuNs);
      }
    }
    const bySize = new Map<number, Omit<PeerSize, 'sealedVsTls' | 'sealedVsTlsOverTcp'>>();
    SIZES.forEach((size, i) => {
      const tlsCpu = tlsRuns[i]!.map((x) => x.cpuNs);
      const tlsCpuNs = median(tlsCpu);
      const tcpCpuNs = median(tcpRuns[i]!);
      bySize.set(size, {
        records: RECORDS,
        tlsCpuNs,
        tcpCpuNs,
        tlsOverTcpNs: tlsCpuNs - tcpCpuNs,
        tlsWallNs: median(tlsRuns[i]!.map((x) => x.wallNs)),
        runs: { tlsCpuNs: tlsCpu.map(Math.round), tcpCpuNs: tcpRuns[i]!.map(Math.round) },
      });
    });
    return { bySize, cipher, protocol, capped };
  } finally {
    await tlsPair.close();
    await tcpPair?.close();
  }
}

export async function runUdpSealBench(): Promise<UdpSealBenchResult> {
  const start = performance.now();
  const end = (phase: keyof typeof PHASE_MS): number => performance.now() + PHASE_MS[phase];
  let capped = false;
  const cases = SIZES.map((size) => new SizeCase(size));
  await settle();
  for (const c of cases) await c.run(WARMUP_OPS, false); // every loop JIT-compiled before anything is timed
  // Repetitions outermost, so a slow spell of the machine does not land on one size only.
  const sealEnd = end('seal');
  for (let r = 0; r < REPEATS; r++) {
    if (r > 0 && performance.now() > sealEnd) {
      capped = true;
      break;
    }
    for (const c of cases) await c.run(OPS, true);
  }
  const allocEnd = end('alloc');
  const sealed = cases.map((c) => c.result(c.allocations(allocEnd)));
  cases.length = 0;
  await settle();
  const { capped: tokensCapped, ...tokens } = await measureTokens(end('tokens'));
  capped ||= tokensCapped;

  const creds = selfSigned();
  let tlsSkipped: string | undefined;
  let peers: Awaited<ReturnType<typeof measurePeers>> | undefined;
  if (typeof creds === 'string') tlsSkipped = creds;
  else {
    try {
      peers = await measurePeers(creds, end('peers'));
      capped ||= peers.capped;
    } catch (e) {
      tlsSkipped = `TLS peer failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  const sizes = sealed.map((s): UdpSealSizeResult => {
    const p = peers?.bySize.get(s.datagramBytes);
    const both = s.sealNs + s.openNs;
    return { ...s, tls: p ? { ...p, sealedVsTls: both / p.tlsCpuNs, sealedVsTlsOverTcp: both / p.tlsOverTcpNs } : null };
  });
  return {
    config: {
      sizes: SIZES,
      ops: OPS,
      baseFactor: BASE_FACTOR,
      repeats: REPEATS,
      records: RECORDS,
      peerRepeats: PEER_REPEATS,
      tokenOps: TOKEN_OPS,
    },
    method:
      `per size: ${OPS} seals (a client→server DATA frame, { withLinkId: true }) and ${OPS} opens (readPn, view, ` +
      `FrameOpener.open of frames pn 0…, fresh opener each repetition), and ${BASE_FACTOR}× as many unsealed builds ` +
      '(allocUnsafe, 0xD0, link id, copy) and unsealed receives (a view of the datagram), after one global.gc() and a pause, ' +
      `timed as process CPU time (process.cpuUsage user + system, read after a ${BATCH_TAIL_MS} ms idle tail so the batch's ` +
      'background GC work is in it: comparable with the TLS peer, and steadier than wall ' +
      `time on a loaded machine; wall time in wallNs); ${REPEATS} repetitions interleaved across sizes after a warm-up, medians`,
    allocationMethod:
      'global.gc(), then process.memoryUsage() heapUsed + arrayBuffers growth over a chunk of operations; chunks in ' +
      'which v8.GCProfiler saw any GC are discarded (chunk halves); median per operation of the clean chunks',
    tlsMethod:
      `a tls (and a plain net) client/server pair on 127.0.0.1, both ends in this process, noDelay; ${RECORDS} records ` +
      "per run written one at a time (the next in the previous write's callback, so one write is one TLS record), " +
      'until the server has read them all; process.cpuUsage() user + system per record (both ends, all threads, ' +
      `socket syscalls and loopback included); ${PEER_REPEATS} repetitions interleaved across ` +
      'sizes and TLS/TCP after a warm-up, medians',
    ...(tlsSkipped === undefined ? {} : { tlsSkipped }),
    ...(peers ? { tlsCipher: peers.cipher, tlsProtocol: peers.protocol } : {}),
    sizes,
    tokens,
    seconds: (performance.now() - start) / 1000,
    capped,
  };
}

export function udpSealTable(r: UdpSealBenchResult): string {
  const f0 = (x: number): string => Math.round(x).toLocaleString('en-US');
  const f2 = (x: number): string => x.toFixed(2);
  const alloc = (x: number | null): string => (x === null ? 'n/a' : String(x));
  const head = [
    'datagram',
    'seal ns',
    'open ns',
    'unsealed build ns',
    'unsealed rx ns',
    'seal/unsealed',
    'open/unsealed',
    'wire c→s sealed/unsealed',
    'wire s→c',
    'alloc B seal/open/unsealed',
  ];
  const body = r.sizes.map((s) => [
    `${s.datagramBytes} B`,
    f0(s.sealNs),
    f0(s.openNs),
    f0(s.unsealedBuildNs),
    f0(s.unsealedReceiveNs),
    f2(s.sealVsUnsealed),
    f2(s.openVsUnsealed),
    `${s.wire.sealedClientFrame}/${s.wire.unsealedClientFrame} (+${s.wire.addedClientToServer})`,
    `${s.wire.sealedServerFrame}/${s.wire.unsealedServerFrame} (+${s.wire.addedServerToClient})`,
    `${alloc(s.allocatedBytes.seal)}/${alloc(s.allocatedBytes.open)}/${alloc(s.allocatedBytes.unsealedBuild)}`,
  ]);
  const lines = [grid(head, body)];
  if (r.sizes.every((s) => s.tls)) {
    const tHead = ['datagram', 'seal+open ns', 'TLS cpu ns/record', 'TCP cpu ns/record', 'TLS−TCP ns', 'sealed/TLS', 'sealed/(TLS−TCP)'];
    const tBody = r.sizes.map((s) => [
      `${s.datagramBytes} B`,
      f0(s.sealNs + s.openNs),
      f0(s.tls!.tlsCpuNs),
      f0(s.tls!.tcpCpuNs),
      f0(s.tls!.tlsOverTcpNs),
      f2(s.tls!.sealedVsTls),
      f2(s.tls!.sealedVsTlsOverTcp),
    ]);
    lines.push('', `peer: Node TLS over loopback (${r.tlsProtocol}, ${r.tlsCipher}), both ends' CPU per record:`, grid(tHead, tBody));
  } else {
    lines.push('', `peer: TLS skipped: ${r.tlsSkipped ?? 'no figures'}`);
  }
  lines.push('', `connect token (${r.tokens.tokenBytes} B): mint ${r.tokens.mintUs.toFixed(2)} µs, open ${r.tokens.openUs.toFixed(2)} µs`);
  return lines.join('\n');
}

function grid(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}
