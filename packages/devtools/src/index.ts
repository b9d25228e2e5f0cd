/**
 * @volley/devtools — the debug overlay for a Volley game in a browser (docs/devtools.md):
 *
 *   const recorder = new NetRecorder();
 *   const client = await connect(url, { protocol: { trace: recorder.trace } });
 *   recorder.attach(client);
 *   const net = new NetGraph(recorder, { parent: gameElement }); // F3 steps through levels 0–3
 */

export { RingBuffer } from './ring-buffer.js';
export { NetRecorder, StatSeries } from './net-recorder.js';
export type { NetRecorderOptions, NetSource, PacketKind } from './net-recorder.js';
export { NetGraph } from './net-graph.js';
export type { NetGraphLevel, NetGraphOptions } from './net-graph.js';
export { LinkConditioner, LINK_PRESETS } from './link-conditioner.js';
export type { ConditionableTransport, ConditionerStats, LinkConditionerOptions, LinkPreset } from './link-conditioner.js';
export type { ConditionerEvent, ConditionerListener, ObservedMessage } from './link-conditioner.js';
export { PacketTimeline } from './packet-timeline.js';
export type { PacketTimelineOptions, TimelineEntry, TimelineKind, TimelineMessage } from './packet-timeline.js';
export { PacketTimelineView } from './packet-timeline-view.js';
export type { PacketTimelineViewOptions } from './packet-timeline-view.js';
export { pixiNetGraph } from './pixi-net-graph.js';
export type { PixiCanvasOwner } from './pixi-net-graph.js';
