/** The help texts of the `volley` command and its subcommands, and the transports they name. */

import { CHANNEL_KINDS } from '@volley/protocol';

export const TRANSPORTS = ['webrtc', 'websocket', 'polling', 'udp'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export const HELP = `volley — tools for the Volley game networking framework

Usage: volley <command> [options]
       volley --version

Commands:
  scenario abc   the A/B/C walkthrough: a lost shot retransmitted and delivered in order
  sim            stream messages over a simulated impaired link and report what arrived
  serve          a development server that echoes every message back
  ping <url>     the round trip a game sees, ping(8) style, over a chosen or automatic transport
  loadtest <url> N bots (real clients) in a room: join times, failures, bytes, and the server's CPU and tick

Options:
  -h, --help     this help
  -V, --version  print the version of volley

Run 'volley <command> --help' for a command's options.
Exit status: 0 success, 1 failure (the message says why), 2 bad usage. VOLLEY_DEBUG=1 adds stack traces to unexpected errors.`;

export const SCENARIO_HELP = `Usage: volley scenario abc [--json] [--latency MS] [--gap MS]

Plays the A/B/C walkthrough with the real protocol over the simulated link: the server sends A's, B's
and C's shots on a reliable-ordered channel, the link drops the first transmission of the packet
carrying B's shot, and the timeline shows the buffering, the retransmission and the in-order delivery.

Options:
  --json         one JSON object per line: t, side (server|client|link), event, packet, message, shooter, ...
  --latency MS   one-way link latency (default 50)
  --gap MS       time between shots (default 50)
  -h, --help     this help`;

export const SIM_HELP = `Usage: volley sim [options]

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
  -h, --help          this help

Simulated time is capped at messages / rate + 180 s. Messages still in flight or queued at the cap are
reported as undelivered, not lost. Exit status 1 (with a note saying why) when the run is incomplete:
the connection never came up or ended, or the cap was reached.`;

export const SERVE_HELP = `Usage: volley serve [--host 127.0.0.1] [--port 8080] [--udp-port 8081] [--transports webrtc,websocket,polling,udp]
                    [--rooms MODULE] [--redis URL --public-url URL] [--process-id ID] [--max-rooms N] [--max-clients N]
                    [--per-source N] [--load-token T] [--drain-timeout S]

Starts a Volley server that echoes every message back to its sender, on the same channel, untouched, and
runs the room types MODULE defines. One HTTP port serves WebRTC signaling, WebSocket and long-polling; UDP
has its own port. With --redis, every process on that Redis shares room listings, seat reservations and
placement by load (docs/scaling.md). Stops cleanly (clients are told why) on Ctrl-C / SIGHUP, and on
SIGTERM after draining its rooms.

Options:
  --host HOST          address to listen on (default 127.0.0.1; an IPv6 address such as ::1 is printed as http://[::1]:PORT)
  --port PORT          HTTP port (default 8080; 0 picks a free one)
  --udp-port PORT      UDP port (default port + 1)
  --transports LIST    comma-separated subset of ${TRANSPORTS.join(',')} (default all)
  --rooms MODULE       a module whose default export (server) => void defines room types (server.define)
  --redis URL          share matchmaking through this Redis (redis://host:port); default: alone, in memory
  --public-url URL     where clients reach this process, for redirects from the others (default: where it listens)
  --process-id ID      this process's id in listings (default random)
  --max-rooms N        rooms this process runs at most (default 10000)
  --max-clients N      sessions past which new rooms go to other processes (default the server's maxSessions)
  --load-token T       serve GET /volley/load to this bearer token (16+ characters), for volley loadtest
  --drain-timeout S    on SIGTERM, how long rooms may run on before closing (default 30; 0: close at once)
  --per-source N       let N clients share one source address (every per-source limit, docs/security.md):
                       for volley loadtest from one machine, or when every client comes through one proxy
  -h, --help           this help`;

export const PING_HELP = `Usage: volley ping <url> [--transport auto|${TRANSPORTS.join('|')}] [--count N] [--interval MS] [--size BYTES] [--reliable] [--json]

Measures the round trip a game sees: client SDK → transport → server → back, against 'volley serve'.
One line per reply (seq, time), then a summary: sent, received, loss, rtt min/avg/max/mdev, jitter, transport.
If the server closes the session or is lost (nothing heard from it for 5 s), or on Ctrl-C, the run stops
with a line saying why and the summary of the probes sent so far.

Options:
  --transport T     auto (the fallback chain picks; default) or one of ${TRANSPORTS.join(', ')}
  --count N         probes to send (default 10)
  --interval MS     time between probes (default 100)
  --size BYTES      probe size, at least 12 (default 32)
  --reliable        send on the reliable-ordered channel (default: unreliable)
  --json            print one JSON object: transport, sent, received, lossPercent, rtt {min,avg,max,mdev,p50,p99}, jitter, stopped
  -h, --help        this help

Exit status: 0 when replies came back, 1 when none did or the server closed the session or was lost.`;

export const LOADTEST_HELP = `Usage: volley loadtest <url> [<url> ...] [--bots N] [--script idle|move|shoot|MODULE] [--room NAME]
                      [--seconds S] [--transport udp|websocket|polling] [--workers W] [--token TOKEN]
                      [--options JSON] [--json]

N bots, each a real client session, spread over worker processes, connect to the given server processes
in turn (as a load balancer would), join (joinOrCreate) a room type wherever the cluster puts them, and
run a script. Reports, per server process, join time p50/p99, failures by reason and state updates per
bot, and — with the servers' load token (ServerOptions.loadToken; or VOLLEY_LOAD_TOKEN) — each process's
CPU and bytes per player per second over the measured span and its simulations' last step times (p50/p99,
up to 256 per room), from GET /volley/load. A progress bar runs on stderr. Exit status 1 when a bot failed
to join or lost its room.

Options:
  --bots N          bots (default 50)
  --script S        what each bot does once joined (default idle):
                      idle   receive the state, send nothing
                      move   'move' {angle, speed} on the unreliable channel, 20 a second
                      shoot  move, and 'shoot' {angle, viewTime} (server clock) twice a second
                      MODULE a module whose default export (bot) => void drives the bot (bot.room,
                             bot.every(ms, f), bot.random(), bot.index)
  --room NAME       room type (default arena)
  --seconds S       measured span once all have joined (default 10)
  --transport T     udp (default), websocket or polling
  --workers W       worker processes for the bots (default one per 200 bots, at most the cores less one)
  --token TOKEN     the servers' loadToken (default: VOLLEY_LOAD_TOKEN)
  --options JSON    join options, e.g. '{"mode":"duel"}'
  --json            the report as one JSON object
  -h, --help        this help

The servers must let the bots' one address in: volley serve --per-source N (or limits in ServerOptions).`;
