import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { WebSocketClientTransport } from '@volley/client';
import type { ServerInfo } from '@volley/client';
import type { TransportLink } from '../src/transport.js';
import { WebSocketTransport, type WebSocketTransportOptions } from '../src/transports/websocket.js';
import { datagram, mismatches, startOnHttp, until } from './transport-rig.js';

const WS = NodeWebSocket as unknown as typeof WebSocket;

interface Rig {
  base: URL;
  info: ServerInfo;
  transport: WebSocketTransport;
  links: TransportLink[];
  closes: string[];
  stop: () => Promise<void>;
}

const rigs: Rig[] = [];

afterEach(async () => {
  for (const r of rigs.splice(0)) await r.stop();
});

async function startRig(options: WebSocketTransportOptions = {}, echo = true): Promise<Rig> {
  const transport = new WebSocketTransport(options);
  const links: TransportLink[] = [];
  const closes: string[] = [];
  const http = await startOnHttp(transport, (link) => {
    links.push(link);
    link.onDatagram = echo ? (d) => link.send(d) : () => {};
    link.onClose = (why) => closes.push(why);
  });
  const rig: Rig = {
    base: http.base,
    info: { protocol: 1, transports: ['websocket'], endpoints: { websocket: transport.info() } },
    transport,
    links,
    closes,
    stop: http.stop,
  };
  rigs.push(rig);
  return rig;
}

describe('WebSocket transport', () => {
  it('info() gives the path', async () => {
    expect(new WebSocketTransport().info()).toEqual({ path: '/volley/ws' });
    expect(new WebSocketTransport({ path: '/x' }).info()).toEqual({ path: '/x' });
  });

  it('client builds ws:// or wss:// from the base URL and the advertised path', () => {
    const info: ServerInfo = { protocol: 1, transports: ['websocket'], endpoints: { websocket: { path: '/game/ws' } } };
    expect(new WebSocketClientTransport(new URL('http://h:1'), info, WS).url).toBe('ws://h:1/game/ws');
    expect(new WebSocketClientTransport(new URL('https://h'), { ...info, endpoints: {} }, WS).url).toBe('wss://h/volley/ws');
  });

  it('1000 datagrams of 1..1200 bytes round-trip in order and intact', async () => {
    const rig = await startRig();
    const t = new WebSocketClientTransport(rig.base, rig.info, WS);
    const got: Uint8Array[] = [];
    t.onDatagram = (d) => got.push(d);
    await t.open(new AbortController().signal);
    await until(() => rig.links.length === 1);
    expect(rig.links[0]!.kind).toBe('websocket');
    expect(rig.links[0]!.reliable).toBe(true);
    expect(rig.links[0]!.remote).toMatch(/^127\.0\.0\.1:\d+$/);
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 1000; i++) {
      const d = datagram(i, 1 + ((i * 397) % 1200));
      sent.push(d);
      t.send(d);
      if (i % 100 === 99) await until(() => got.length === i + 1); // some paced, most back-to-back
    }
    await until(() => got.length === 1000);
    expect(mismatches(got, sent)).toEqual([]);
    t.close();
  });

  it('many datagrams back-to-back arrive in order', async () => {
    const rig = await startRig({}, false);
    const t = new WebSocketClientTransport(rig.base, rig.info, WS);
    await t.open(new AbortController().signal);
    await until(() => rig.links.length === 1);
    const got: number[] = [];
    rig.links[0]!.onDatagram = (d) => got.push(new DataView(d.buffer, d.byteOffset).getUint32(0));
    const back: number[] = [];
    t.onDatagram = (d) => back.push(new DataView(d.buffer, d.byteOffset).getUint32(0));
    for (let i = 0; i < 5000; i++) {
      const d = new Uint8Array(8);
      new DataView(d.buffer).setUint32(0, i);
      t.send(d);
      rig.links[0]!.send(d);
    }
    await until(() => got.length === 5000 && back.length === 5000);
    expect(got).toEqual([...Array(5000).keys()]);
    expect(back).toEqual([...Array(5000).keys()]);
    t.close();
  });

  it('client close is reported to the server link', async () => {
    const rig = await startRig();
    const t = new WebSocketClientTransport(rig.base, rig.info, WS);
    let clientClosed = '';
    t.onClose = (r) => (clientClosed = r);
    await t.open(new AbortController().signal);
    await until(() => rig.links.length === 1);
    t.close();
    await until(() => rig.closes.length === 1);
    expect(rig.closes[0]).toMatch(/closed by client \(code 1000/);
    expect(clientClosed).toBe(''); // a close we asked for is not reported
    t.send(new Uint8Array([1])); // dropped, no throw
  });

  it('server close is reported to the client', async () => {
    const rig = await startRig();
    const t = new WebSocketClientTransport(rig.base, rig.info, WS);
    const reasons: string[] = [];
    t.onClose = (r) => reasons.push(r);
    await t.open(new AbortController().signal);
    await until(() => rig.links.length === 1);
    rig.links[0]!.close();
    rig.links[0]!.send(new Uint8Array([1])); // dropped, no throw
    await until(() => reasons.length === 1);
    expect(reasons[0]).toMatch(/closed by server \(code 1000: closed by server\)/);
    expect(rig.closes).toEqual([]); // the server asked for it
  });

  it('stop() closes every socket with 1001 and resolves', async () => {
    const rig = await startRig();
    const clients = [0, 1, 2].map(() => new WebSocketClientTransport(rig.base, rig.info, WS));
    const reasons: string[] = [];
    for (const c of clients) {
      c.onClose = (r) => reasons.push(r);
      await c.open(new AbortController().signal);
    }
    await until(() => rig.links.length === 3);
    await rig.transport.stop();
    await until(() => reasons.length === 3);
    for (const r of reasons) expect(r).toMatch(/code 1001: server stopping/);
    // later upgrades are refused
    const late = new WebSocketClientTransport(rig.base, rig.info, WS);
    await expect(late.open(new AbortController().signal)).rejects.toThrow(/websocket to ws:\/\/127\.0\.0\.1:\d+\/volley\/ws failed/);
  });

  it('an oversize datagram closes the socket with 1009', async () => {
    const rig = await startRig();
    const t = new WebSocketClientTransport(rig.base, rig.info, WS);
    const reasons: string[] = [];
    t.onClose = (r) => reasons.push(r);
    await t.open(new AbortController().signal);
    t.send(new Uint8Array(1200 + 64)); // at the limit: fine
    t.send(new Uint8Array(1200 + 65));
    await until(() => reasons.length === 1 && rig.closes.length === 1);
    expect(reasons[0]).toMatch(/code 1009/);
    expect(rig.closes[0]).toBe('message too big (max 1264 bytes)');
  });

  it('a text frame closes the socket with 1003', async () => {
    const rig = await startRig();
    const raw = new NodeWebSocket(`ws://127.0.0.1:${rig.base.port}/volley/ws`);
    await new Promise((r) => raw.once('open', r));
    const closed = new Promise<[number, string]>((r) => raw.once('close', (code, why) => r([code, why.toString()])));
    raw.send('hello');
    expect(await closed).toEqual([1003, 'binary frames only']);
    await until(() => rig.closes.length === 1);
    expect(rig.closes[0]).toBe('text frame received (binary frames only)');
  });

  it('an upgrade at another path under the prefix is refused', async () => {
    const rig = await startRig();
    const raw = new NodeWebSocket(`ws://127.0.0.1:${rig.base.port}/volley/wsx`);
    const err = await new Promise<Error>((r) => raw.once('error', r));
    expect(err.message).toMatch(/404/);
  });

  it('open rejects clearly when nothing listens, and on abort', async () => {
    const rig = await startRig();
    const port = Number(rig.base.port);
    await rig.stop();
    rigs.length = 0;
    const t = new WebSocketClientTransport(new URL(`http://127.0.0.1:${port}`), rig.info, WS);
    await expect(t.open(new AbortController().signal)).rejects.toThrow(/failed: .*ECONNREFUSED/);

    const rig2 = await startRig();
    const ctl = new AbortController();
    const t2 = new WebSocketClientTransport(rig2.base, rig2.info, WS);
    const p = t2.open(ctl.signal);
    ctl.abort();
    await expect(p).rejects.toThrow(/aborted/);
    const pre = new AbortController();
    pre.abort();
    await expect(new WebSocketClientTransport(rig2.base, rig2.info, WS).open(pre.signal)).rejects.toThrow(/aborted/);
  });
});
