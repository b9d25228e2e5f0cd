/** The `volley` command: dispatches to subcommands, prints help, turns usage errors into exit code 2. */

import { CHANNEL_KINDS, type ChannelKind } from '@volley/protocol';
import { numberOption, parse, UsageError } from './args.js';
import { formatAbc, runAbc } from './scenario-abc.js';
import { formatSim, runSim } from './sim.js';
import { describeServer, startEchoServer } from './serve.js';
import { formatPingSummary, runPing } from './ping.js';
import { ConnectError } from '@volley/client';

const TRANSPORTS = ['webrtc', 'websocket', 'polling', 'udp'] as const;
type Transport = (typeof TRANSPORTS)[number];

const HELP = `volley — tools for the Volley game networking framework

Usage: volley <command> [options]

Commands:
  scenario abc   the A/B/C walkthrough: a lost shot retransmitted and delivered in order
  sim            stream messages over a simulated impaired link and report what arrived
  serve          a development server that echoes every message back
  ping <url>     the round trip a game sees, ping(8) style, over a chosen or automatic transport

Run 'volley <command> --help' for a command's options.`;

const SCENARIO_HELP = `Usage: volley scenario abc [--json] [--latency MS] [--gap MS]

Plays the A/B/C walkthrough (DESIGN.md) with the real protocol over the simulated link: the server sends
A's, B's and C's shots on a reliable-ordered channel, the link drops the first transmission of the packet
carrying B's shot, and the timeline shows the buffering, the retransmission and the in-order delivery.

Options:
  --json         one JSON object per line: t, side (server|client|link), event, packet, message, shooter, ...
  --latency MS   one-way link latency (default 50)
  --gap MS       time between shots (default 50)
  -h, --help     this help`;

const SIM_HELP = `Usage: volley sim [options]

Sends a stream of messages from a client to a server over a simulated link (both directions impaired,
seeded, deterministic) and reports delivery, duplicates, order, latency and overhead.

Options:
  --messages N        messages to send (default 1000)
  --size BYTES        message size, at least 4 (default 32)
  --rate PER_SECOND   messages per second (default 1000)
  --channel KIND      ${CHANNEL_KINDS.join(' | ')} (default reliable-ordered)
  --loss P            loss probability per datagram, each direction, 0–1 (default 0)
  --latency MS        one-way latency (default 50)
  --jitter MS         extra random delay up to MS (default 0)
  --duplicate P       duplication probability (default 0)
  --reorder P         probability a datagram is held back and overtaken (default 0)
  --seed N            seed of the link's random generator (default 1)
  --json              print one JSON object instead of the table
  -h, --help          this help`;

const SERVE_HELP = `Usage: volley serve [--host 127.0.0.1] [--port 8080] [--udp-port 8081] [--transports webrtc,websocket,polling,udp]

Starts a Volley server that echoes every message back to its sender, on the same channel, untouched.
One HTTP port serves WebRTC signaling, WebSocket and long-polling; UDP has its own port. Stops cleanly
(clients are told why) on Ctrl-C / SIGTERM / SIGHUP.

Options:
  --host HOST         address to listen on (default 127.0.0.1)
  --port PORT         HTTP port (default 8080; 0 picks a free one)
  --udp-port PORT     UDP port (default port + 1)
  --transports LIST   comma-separated subset of ${TRANSPORTS.join(',')} (default all)
  -h, --help          this help`;

const PING_HELP = `Usage: volley ping <url> [--transport auto|${TRANSPORTS.join('|')}] [--count N] [--interval MS] [--size BYTES] [--reliable] [--json]

Measures the round trip a game sees: client SDK → transport → server → back, against 'volley serve'.
One line per reply (seq, time), then a summary: sent, received, loss, rtt min/avg/max/mdev, jitter, transport.

Options:
  --transport T     auto (the fallback chain picks; default) or one of ${TRANSPORTS.join(', ')}
  --count N         probes to send (default 10)
  --interval MS     time between probes (default 100)
  --size BYTES      probe size, at least 12 (default 32)
  --reliable        send on the reliable-ordered channel (default: unreliable)
  --json            print one JSON object: transport, sent, received, lossPercent, rtt {min,avg,max,mdev,p50,p99}, jitter
  -h, --help        this help`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        console.log(HELP);
        return command === undefined ? 2 : 0;
      case 'scenario':
        return scenario(rest);
      case 'sim':
        return sim(rest);
      case 'serve':
        return await serve(rest);
      case 'ping':
        return await ping(rest);
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof RangeError) {
      console.error(`volley: ${e.message}\nRun 'volley --help' for usage.`);
      return 2;
    }
    if (e instanceof ConnectError) {
      console.error(`volley: could not connect (${e.code}): ${e.message}`);
      return 1;
    }
    throw e;
  }
}

function scenario(argv: string[]): number {
  const { values, positionals } = parse(argv, {
    json: { type: 'boolean' }, latency: { type: 'string' }, gap: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(SCENARIO_HELP);
    return 0;
  }
  if (positionals[0] !== 'abc' || positionals.length !== 1) throw new UsageError(`scenario: expected 'abc', got '${positionals.join(' ')}'`);
  const options = { latency: numberOption(values, 'latency', 50, 1, 10_000), gap: numberOption(values, 'gap', 50, 1, 10_000) };
  const events = runAbc(options);
  if (values.json) for (const e of events) console.log(JSON.stringify(e));
  else console.log(formatAbc(events, options));
  return 0;
}

function sim(argv: string[]): number {
  const { values, positionals } = parse(argv, {
    messages: { type: 'string' }, size: { type: 'string' }, rate: { type: 'string' }, channel: { type: 'string' },
    loss: { type: 'string' }, latency: { type: 'string' }, jitter: { type: 'string' }, duplicate: { type: 'string' },
    reorder: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(SIM_HELP);
    return 0;
  }
  if (positionals.length) throw new UsageError(`sim: unexpected argument '${positionals[0]}'`);
  const channel = (values.channel ?? 'reliable-ordered') as ChannelKind;
  if (!CHANNEL_KINDS.includes(channel)) throw new UsageError(`--channel must be one of ${CHANNEL_KINDS.join(', ')}, got '${String(values.channel)}'`);
  const messages = numberOption(values, 'messages', 1000, 1, 10_000_000, true);
  const started = Date.now();
  let lastReport = started;
  const report = runSim({
    messages,
    size: numberOption(values, 'size', 32, 4, 16 * 1024 * 1024, true),
    rate: numberOption(values, 'rate', 1000, 0.001, 1_000_000),
    channel,
    loss: numberOption(values, 'loss', 0, 0, 1),
    latency: numberOption(values, 'latency', 50, 0, 60_000),
    jitter: numberOption(values, 'jitter', 0, 0, 60_000),
    duplicate: numberOption(values, 'duplicate', 0, 0, 1),
    reorder: numberOption(values, 'reorder', 0, 0, 1),
    seed: numberOption(values, 'seed', 1, 0, 0xffff_ffff, true),
    progress: (sent, delivered) => {
      const now = Date.now();
      if (now - lastReport < 1000 && sent < messages) return;
      lastReport = now;
      if (now - started >= 1000) process.stderr.write(`volley sim: ${sent}/${messages} sent, ${delivered} delivered\n`);
    },
  });
  console.log(values.json ? JSON.stringify(report) : formatSim(report));
  return 0;
}

function transportList(raw: string | boolean | undefined): Transport[] {
  if (raw === undefined) return [...TRANSPORTS];
  const list = String(raw).split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of list) if (!(TRANSPORTS as readonly string[]).includes(t)) throw new UsageError(`unknown transport '${t}' (known: ${TRANSPORTS.join(', ')})`);
  if (list.length === 0) throw new UsageError('--transports needs at least one transport');
  return list as Transport[];
}

async function serve(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    host: { type: 'string' }, port: { type: 'string' }, 'udp-port': { type: 'string' }, transports: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  if (positionals.length) throw new UsageError(`serve: unexpected argument '${positionals[0]}'`);
  const port = numberOption(values, 'port', 8080, 0, 65535, true);
  const server = await startEchoServer({
    host: typeof values.host === 'string' ? values.host : '127.0.0.1',
    port,
    udpPort: numberOption(values, 'udp-port', port === 0 ? 0 : port + 1, 0, 65535, true),
    transports: transportList(values.transports),
  });
  console.log(describeServer(server));
  await new Promise<void>((resolve) => {
    // SIGHUP too: the terminal the server was started from went away.
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const stop = (signal: string) => {
      console.log(`volley serve: ${signal}, closing`);
      for (const s of signals) process.off(s, stop);
      void server.close().then(resolve);
    };
    for (const s of signals) process.on(s, stop);
  });
  console.log('volley serve: stopped');
  return 0;
}

async function ping(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    transport: { type: 'string' }, count: { type: 'string' }, interval: { type: 'string' }, size: { type: 'string' },
    reliable: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(PING_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('ping: expected one URL, e.g. volley ping http://127.0.0.1:8080');
  const url = positionals[0]!;
  if (!/^https?:\/\//.test(url)) throw new UsageError(`ping: '${url}' is not an http(s) URL`);
  const transport = (values.transport ?? 'auto') as Transport | 'auto';
  if (transport !== 'auto' && !(TRANSPORTS as readonly string[]).includes(transport)) {
    throw new UsageError(`--transport must be auto or one of ${TRANSPORTS.join(', ')}, got '${transport}'`);
  }
  const json = values.json === true;
  const report = await runPing({
    url,
    transport,
    count: numberOption(values, 'count', 10, 1, 1_000_000, true),
    interval: numberOption(values, 'interval', 100, 0, 60_000),
    size: numberOption(values, 'size', 32, 12, 60_000, true),
    reliable: values.reliable === true,
    onReply: json ? undefined : (seq, ms, client) => console.log(`reply from ${url}: seq=${seq} transport=${client.transport} time=${ms.toFixed(3)} ms`),
  });
  console.log(json ? JSON.stringify(report) : formatPingSummary(report));
  return report.received > 0 ? 0 : 1;
}
