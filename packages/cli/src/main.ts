/** The `volley` command: dispatches to subcommands, prints help and the version, reports every error as one line (usage errors: exit code 2). */

import { CHANNEL_KINDS, type ChannelKind } from '@volley/protocol';
import { ConnectError } from '@volley/client';
import { numberOption, parse, UsageError } from './args.js';
import { CommandError, reportUnexpected } from './errors.js';
import { HELP, LOADTEST_HELP, PING_HELP, SCENARIO_HELP, SERVE_HELP, SIM_HELP, TRANSPORTS, type Transport } from './help.js';
import { runLoadtest } from './loadtest.js';
import { formatLoadtest } from './loadtest-report.js';
import { formatPingSummary, runPing, type PingReport } from './ping.js';
import { formatAbc, runAbc } from './scenario-abc.js';
import { describeServer, startEchoServer } from './serve.js';
import { formatSim, runSim } from './sim.js';
import { version } from './version.js';

export { crash } from './errors.js';

/** Runs the command; resolves to its exit code. Never throws: every error is reported on stderr. */
export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (e) {
    return report(e);
  }
}

async function dispatch(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(HELP);
      return command === undefined ? 2 : 0;
    case '-V':
    case '--version':
      console.log(version());
      return 0;
    case 'scenario':
      return scenario(rest);
    case 'sim':
      return sim(rest);
    case 'serve':
      return await serve(rest);
    case 'ping':
      return await ping(rest);
    case 'loadtest':
      return await loadtest(rest);
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

function report(e: unknown): number {
  if (e instanceof UsageError || e instanceof RangeError) {
    console.error(`volley: ${e.message}\nRun 'volley --help' for usage.`);
    return 2;
  }
  if (e instanceof ConnectError) {
    console.error(`volley: could not connect (${e.code}): ${e.message}`);
    return 1;
  }
  if (e instanceof CommandError) {
    console.error(e.message);
    return 1;
  }
  return reportUnexpected(e);
}

function scenario(argv: string[]): number {
  const { values, positionals } = parse(argv, {
    json: { type: 'boolean' },
    latency: { type: 'string' },
    gap: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(SCENARIO_HELP);
    return 0;
  }
  if (positionals[0] !== 'abc' || positionals.length !== 1)
    throw new UsageError(`scenario: expected 'abc', got '${positionals.join(' ')}'`);
  const options = { latency: numberOption(values, 'latency', 50, 1, 10_000), gap: numberOption(values, 'gap', 50, 1, 10_000) };
  const events = runAbc(options);
  if (values.json) for (const e of events) console.log(JSON.stringify(e));
  else console.log(formatAbc(events, options));
  return 0;
}

function sim(argv: string[]): number {
  const { values, positionals } = parse(argv, {
    messages: { type: 'string' },
    size: { type: 'string' },
    rate: { type: 'string' },
    channel: { type: 'string' },
    loss: { type: 'string' },
    latency: { type: 'string' },
    jitter: { type: 'string' },
    duplicate: { type: 'string' },
    reorder: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(SIM_HELP);
    return 0;
  }
  if (positionals.length) throw new UsageError(`sim: unexpected argument '${positionals[0]}'`);
  const channel = (values.channel ?? 'reliable-ordered') as ChannelKind;
  if (!CHANNEL_KINDS.includes(channel))
    throw new UsageError(`--channel must be one of ${CHANNEL_KINDS.join(', ')}, got '${String(values.channel)}'`);
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
  if (values.json) for (const note of report.notes) console.error(`volley sim: ${note}`);
  return report.complete ? 0 : 1;
}

function transportList(raw: string | boolean | undefined): Transport[] {
  if (raw === undefined) return [...TRANSPORTS];
  const list = String(raw)
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const t of list)
    if (!(TRANSPORTS as readonly string[]).includes(t)) throw new UsageError(`unknown transport '${t}' (known: ${TRANSPORTS.join(', ')})`);
  if (list.length === 0) throw new UsageError('--transports needs at least one transport');
  return list as Transport[];
}

async function serve(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    host: { type: 'string' },
    port: { type: 'string' },
    'udp-port': { type: 'string' },
    transports: { type: 'string' },
    redis: { type: 'string' },
    'public-url': { type: 'string' },
    rooms: { type: 'string' },
    'process-id': { type: 'string' },
    'max-rooms': { type: 'string' },
    'max-clients': { type: 'string' },
    'load-token': { type: 'string' },
    'drain-timeout': { type: 'string' },
    'per-source': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  const text = (name: string): string | undefined => {
    const v = values[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${name} must not be empty`);
    return v;
  };
  const redis = text('redis');
  if (redis !== undefined && !/^rediss?:\/\/./.test(redis)) throw new UsageError(`--redis must be a redis:// URL, got '${redis}'`);
  const publicUrl = text('public-url');
  if (publicUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(publicUrl))
    throw new UsageError(`--public-url must be an http(s) URL, got '${publicUrl}'`);
  const processId = text('process-id');
  if (processId !== undefined && !/^[\w.-]{1,64}$/.test(processId)) throw new UsageError('--process-id must be 1–64 of [A-Za-z0-9_.-]');
  const loadToken = text('load-token');
  if (loadToken !== undefined && loadToken.length < 16) throw new UsageError('--load-token must be at least 16 characters');
  const drainSeconds = numberOption(values, 'drain-timeout', 30, 0, 86_400, false);
  if (positionals.length) throw new UsageError(`serve: unexpected argument '${positionals[0]}'`);
  const port = numberOption(values, 'port', 8080, 0, 65535, true);
  const host = typeof values.host === 'string' ? values.host : '127.0.0.1';
  if (host.trim() === '') throw new UsageError('--host must not be empty');
  const server = await startEchoServer({
    host,
    port,
    udpPort: numberOption(values, 'udp-port', port === 0 ? 0 : Math.min(port + 1, 65535), 0, 65535, true),
    transports: transportList(values.transports),
    redis,
    publicUrl,
    rooms: text('rooms'),
    processId,
    maxRooms: values['max-rooms'] === undefined ? undefined : numberOption(values, 'max-rooms', 0, 1, 1_000_000, true),
    maxClients: values['max-clients'] === undefined ? undefined : numberOption(values, 'max-clients', 0, 1, 1_000_000, true),
    perSource: values['per-source'] === undefined ? undefined : numberOption(values, 'per-source', 0, 1, 100_000, true),
    loadToken,
  });
  console.log(describeServer(server));
  await new Promise<void>((resolve, reject) => {
    // SIGHUP too: the terminal the server was started from went away. SIGTERM (a deploy stopping this
    // process) drains first: no new rooms here, the running ones may finish, for up to --drain-timeout s.
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const stop = (signal: string) => {
      for (const s of signals) process.off(s, stop);
      const rooms = server.matchmaker.localRooms.length;
      const drain = signal === 'SIGTERM' && rooms > 0 && drainSeconds > 0;
      console.log(`volley serve: ${signal}, ${drain ? `draining ${rooms} room(s) for up to ${drainSeconds} s, then ` : ''}closing`);
      (drain ? server.drain(drainSeconds * 1000) : Promise.resolve(0)).then(() => server.close()).then(resolve, reject);
    };
    for (const s of signals) process.on(s, stop);
  });
  console.log('volley serve: stopped');
  return 0;
}

async function ping(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    transport: { type: 'string' },
    count: { type: 'string' },
    interval: { type: 'string' },
    size: { type: 'string' },
    reliable: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(PING_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('ping: expected one URL, e.g. volley ping http://127.0.0.1:8080');
  const url = positionals[0]!;
  if (!/^https?:\/\//.test(url) || !URL.canParse(url))
    throw new UsageError(`ping: '${url}' is not an http(s) URL (an IPv6 address goes in brackets: http://[::1]:8080)`);
  const transport = (values.transport ?? 'auto') as Transport | 'auto';
  if (transport !== 'auto' && !(TRANSPORTS as readonly string[]).includes(transport)) {
    throw new UsageError(`--transport must be auto or one of ${TRANSPORTS.join(', ')}, got '${transport}'`);
  }
  const json = values.json === true;
  const options = {
    url,
    transport,
    count: numberOption(values, 'count', 10, 1, 1_000_000, true),
    interval: numberOption(values, 'interval', 100, 0, 60_000),
    size: numberOption(values, 'size', 32, 12, 60_000, true),
    reliable: values.reliable === true,
    onReply: json
      ? undefined
      : (seq: number, ms: number, client: { transport: string }) =>
          console.log(`reply from ${url}: seq=${seq} transport=${client.transport} time=${ms.toFixed(3)} ms`),
    onSkip: (seq: number, why: string) => console.error(`volley ping: probe ${seq} not sent: ${why}`),
  };
  const report = await untilInterrupted((signal) => runPing({ ...options, signal }));
  if (report.stopped && report.stopped.why !== 'interrupted') console.error(`volley ping: ${report.stopped.message}`);
  console.log(json ? JSON.stringify(report) : formatPingSummary(report));
  return pingExitCode(report);
}

/** Runs `task` with a signal that Ctrl-C (or SIGTERM) aborts; a second Ctrl-C kills the process as usual. */
async function untilInterrupted<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    return await task(controller.signal);
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

function pingExitCode(r: PingReport): number {
  if (r.stopped && r.stopped.why !== 'interrupted') return 1;
  return r.received > 0 ? 0 : 1;
}

async function loadtest(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    bots: { type: 'string' },
    room: { type: 'string' },
    seconds: { type: 'string' },
    transport: { type: 'string' },
    token: { type: 'string' },
    options: { type: 'string' },
    script: { type: 'string' },
    workers: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(LOADTEST_HELP);
    return 0;
  }
  if (positionals.length === 0)
    throw new UsageError('loadtest: expected the URL of a server process or more, e.g. volley loadtest http://127.0.0.1:8080');
  for (const url of positionals)
    if (!/^https?:\/\//.test(url) || !URL.canParse(url)) throw new UsageError(`loadtest: '${url}' is not an http(s) URL`);
  const script = typeof values.script === 'string' ? values.script : 'idle';
  if (script.trim() === '') throw new UsageError('--script must not be empty');
  const transport = (values.transport ?? 'udp') as string;
  if (transport !== 'udp' && transport !== 'websocket' && transport !== 'polling')
    throw new UsageError(`--transport must be udp, websocket or polling (a bot is a Node client), got '${transport}'`);
  let joinOptions: Record<string, unknown> = {};
  if (typeof values.options === 'string') {
    try {
      joinOptions = JSON.parse(values.options) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`--options is not JSON: ${(e as Error).message}`);
    }
    if (typeof joinOptions !== 'object' || joinOptions === null || Array.isArray(joinOptions))
      throw new UsageError('--options must be a JSON object');
  }
  const token = typeof values.token === 'string' ? values.token : process.env['VOLLEY_LOAD_TOKEN'];
  const json = values.json === true;
  const report = await runLoadtest(
    {
      urls: positionals,
      bots: numberOption(values, 'bots', 50, 1, 100_000, true),
      room: typeof values.room === 'string' ? values.room : 'arena',
      joinOptions,
      seconds: numberOption(values, 'seconds', 10, 0.1, 3600),
      transport,
      script,
      ...(token ? { token } : {}),
      ...(values.workers === undefined ? {} : { workers: numberOption(values, 'workers', 1, 1, 256, true) }),
    },
    (line) => {
      if (!json && process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K`);
      else if (!json) console.error(line);
    },
  ).catch((e: unknown) => {
    if (e instanceof RangeError) throw e;
    throw new CommandError(`volley loadtest: ${(e as Error).message}`);
  });
  if (!json && process.stderr.isTTY) process.stderr.write('\n');
  console.log(json ? JSON.stringify(report) : formatLoadtest(report));
  return report.joined === report.bots && report.lost === 0 ? 0 : 1;
}
