// The shooter's page: connect (the best transport that opens, or ?transport=…), join the arena, play.
// ?prediction=0, ?interpolation=0 and ?lagcomp=0 start with a technique off; the checkboxes switch them live;
// ?netgraph=0…3 sets the net graph's level (F3 steps through them); ?preset=4g or ?latency=… conditions the link.
// ?demo=abc opens the A/B/C demo: a room of its own where A, B and C fire and B's packet is lost.
import { connect, type TransportKind } from '@volley/client';
import { LINK_PRESETS, LinkConditioner, NetRecorder, PacketTimeline, pixiNetGraph, type LinkPreset } from '@volley/devtools';
import type { ShotEvent } from '../game/messages.js';
import { Arena } from '../game/state.js';
import { AbcPanel } from './abc-panel.js';
import { ArenaView } from './arena-view.js';
import { ControlsState } from './controls-state.js';
import { KillFeed } from './kill-feed.js';
import { ShooterGame } from './shooter-game.js';

const params = new URLSearchParams(location.search);
const transport = params.get('transport') as TransportKind | null;
const demo = params.get('demo') === 'abc';
const element = (id: string) => document.getElementById(id)!;
const checkbox = (id: string) => element(id) as HTMLInputElement;

// The net graph records this session's own protocol trace (F3 or ?netgraph=0-3 for its levels).
const recorder = new NetRecorder();
// The packet timeline reads the same trace; shots are labelled by who fired them (names from the state, below).
let nameOf = (id: string) => id;
const timeline = new PacketTimeline({
  describe: (type, value) => (type === 'shot' ? `${nameOf((value as ShotEvent).shooter)}'s shot` : type),
});
// The link conditioner: ?preset=lan|broadband|4g|3g|congested, or ?latency=ms&jitter=ms&loss=0..1 (each way).
const preset = params.get('preset');
function conditionerFromUrl(): LinkConditioner {
  const settings = {
    // The demo slows the link (150 ms each way) so C's shot leaves before B's loss can be known.
    latency: Number(params.get('latency') ?? (demo ? 150 : 0)),
    jitter: Number(params.get('jitter') ?? 0),
    loss: Number(params.get('loss') ?? 0),
  };
  try {
    return new LinkConditioner(preset && preset in LINK_PRESETS ? (preset as LinkPreset) : settings);
  } catch (e) {
    console.warn(`link conditioner: ${(e as Error).message}; the link is left as it is`);
    return new LinkConditioner();
  }
}
const conditioner = conditionerFromUrl();
timeline.watch(conditioner);
const client = await connect(location.origin, {
  protocol: {
    trace: (e) => {
      recorder.trace(e);
      timeline.trace(e);
    },
  },
  wrap: conditioner.wrap,
  ...(transport ? { transports: [transport] } : {}),
});
recorder.attach(client);
// A reload within 10 s takes the seat back, with its entity and score.
const seat = demo ? null : sessionStorage.getItem('shooter-seat');
const room = demo
  ? await client.create('abc-demo', {}, Arena)
  : await (seat ? client.reconnect(seat, Arena) : Promise.reject(new Error('no seat'))).catch(() =>
      client.joinOrCreate('arena', { bots: Number(params.get('bots') ?? 2) }, Arena),
    );
if (!demo) sessionStorage.setItem('shooter-seat', room.reconnectionToken);
const game = new ShooterGame(room);
const view = new ArenaView();
await view.init(element('game'));
const controls = new ControlsState(view.app.canvas);
const net = pixiNetGraph(view.app, recorder); // over the canvas; F3 or ?netgraph=0-3
net.addLine('interpolation', () => {
  const w = game.world.stats;
  return `delay ${w.delay.toFixed(0)} ms (target ${w.target.toFixed(0)}), buffered ${w.depth}, underruns ${w.underruns}`;
});
net.addLine('link', () => {
  const c = conditioner.settings;
  return `+${c.latency ?? 0} ms ±${c.jitter ?? 0}, loss ${((c.loss ?? 0) * 100).toFixed(1)} % each way (conditioner)`;
});
net.addLine('prediction', () => {
  const c = game.corrections;
  return `${game.techniques.prediction ? 'on' : 'off'}, pending ${c.pending}, corrections ${c.corrections} (max ${c.maxError.toFixed(1)} px)`;
});
net.addLine('server tick', () => {
  const a = room.state;
  return `longest step ${a.stepMaxMs.toFixed(2)} ms of ${(1000 / 60).toFixed(1)}, late runs ${a.lateTicks}, dropped ${a.droppedTicks}`;
});
const feed = new KillFeed(element('feed'));

const toggles: [string, (on: boolean) => void][] = [
  ['prediction', (on) => (game.techniques.prediction = on)],
  ['interpolation', (on) => (game.techniques.interpolation = on)],
  ['lagcomp', (on) => room.send('settings', { lagCompensation: on })],
];
for (const [id, apply] of toggles) {
  const box = checkbox(id);
  if (params.get(id) === '0') box.checked = false;
  apply(box.checked);
  box.addEventListener('change', () => apply(box.checked));
}

nameOf = (id: string) => room.state.players.get(id)?.name.replace(' (bot)', '') ?? id;
// The A/B/C demo needs a transport that can lose a packet (WebRTC; UDP for Node clients).
const lossless = () => (client.transport === 'webrtc' || client.transport === 'udp' ? undefined : client.transport);
const abc = demo ? new AbcPanel(element('abc'), room, timeline, conditioner, lossless) : undefined;
if (abc) {
  element('abc').hidden = false;
  // Plays once the link has settled and A, B and C are in the state (tries for 30 s); the button plays it again.
  let tries = 0;
  const start = setInterval(() => {
    if (abc.play() || ++tries >= 20) clearInterval(start);
  }, 1500);
}
room.onMessage('shot', (e) => {
  const shot = e as ShotEvent;
  feed.add(shot, nameOf);
  const poses = game.others(performance.now());
  view.shot(
    shot,
    room.state.players.get(shot.shooter)?.color ?? 0xffffff,
    shot.target ? poses.get(shot.target) : undefined,
    performance.now(),
  );
});

view.app.ticker.add(() => {
  const now = performance.now();
  game.frame(now, controls.dx, controls.dy, controls.mouse, controls.takeTrigger());
  const poses = new Map(game.others(now));
  const me = game.me();
  if (me) poses.set(room.sessionId, { ...me, angle: Math.atan2(controls.mouse.y - me.y, controls.mouse.x - me.x) });
  view.draw(room.state.players, poses, room.sessionId, now);
});

setInterval(() => {
  const s = game.world.stats;
  element('status').textContent =
    `transport ${client.transport}  rtt ${client.rtt.toFixed(0)} ms\n` +
    `interpolation delay ${s.delay.toFixed(0)} ms (jitter ${s.jitter.toFixed(1)}, buffered ${s.depth})\n` +
    `prediction corrections ${game.corrections.corrections} (last ${game.corrections.lastError.toFixed(1)} px)`;
  element('scores').textContent = [...room.state.players.values()].map((p) => `${p.name} ${p.score}/${p.deaths}`).join('   ');
}, 250);

// For tests and the curious: the live game.
Object.assign(globalThis, { shooter: { client, room, game, view, net, conditioner, timeline, abc } });
