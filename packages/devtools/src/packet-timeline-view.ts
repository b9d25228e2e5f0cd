/**
 * The packet timeline on the page: the newest entries of a PacketTimeline as lines of plain words, the
 * newest at the bottom, redrawn at most 10 times a second and only when something was added. A filter
 * keeps what matters to a story (say, only the packets and messages of shots); it is asked when the list
 * is drawn, so it may learn what matters after an entry came. Times are shown from the first line, in ms.
 */

import type { PacketTimeline, TimelineEntry } from './packet-timeline.js';

export interface PacketTimelineViewOptions {
  /** Where the list goes (default document.body). */
  parent?: HTMLElement;
  /** Lines shown (default 40). */
  lines?: number;
  /** Which entries to show (default: all). */
  filter?: (entry: TimelineEntry) => boolean;
}

const COLORS: Partial<Record<TimelineEntry['kind'], string>> = {
  'link-drop': '#ff6b6b',
  lost: '#ff6b6b',
  buffered: '#ffd25c',
  delivered: '#7cff6b',
  resent: '#c792ea',
  acked: '#8a94a6',
};

/** Entries held for drawing (the filter picks among these). */
const RECENT_KEPT = 2000;

export class PacketTimelineView {
  readonly element: HTMLOListElement;
  /** Recent entries since the last clear, unfiltered (the filter runs when drawing). */
  private readonly recent: TimelineEntry[] = [];
  private readonly max: number;
  private readonly filter: (entry: TimelineEntry) => boolean;
  private dirty = false;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly stop: () => void;

  constructor(
    readonly timeline: PacketTimeline,
    options: PacketTimelineViewOptions = {},
  ) {
    this.max = options.lines ?? 40;
    this.filter = options.filter ?? (() => true);
    const el = document.createElement('ol');
    el.className = 'volley-timeline';
    Object.assign(el.style, {
      listStyle: 'none',
      margin: '0',
      padding: '0',
      font: '11px/1.4 ui-monospace, monospace',
      whiteSpace: 'pre-wrap',
    } satisfies Partial<CSSStyleDeclaration>);
    (options.parent ?? document.body).appendChild(el);
    this.element = el;
    for (const e of timeline.entries()) this.take(e);
    this.stop = timeline.onEntry((e) => this.take(e));
    this.timer = setInterval(() => this.draw(), 100);
    this.draw();
  }

  /** Empties the list; times count from the next entry shown. */
  clear(): void {
    this.recent.length = 0;
    this.dirty = true;
    this.draw();
  }

  destroy(): void {
    clearInterval(this.timer);
    this.stop();
    this.element.remove();
  }

  private take(e: TimelineEntry): void {
    this.recent.push(e);
    if (this.recent.length > RECENT_KEPT) this.recent.splice(0, this.recent.length - RECENT_KEPT);
    this.dirty = true;
  }

  private draw(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const shown = this.recent.filter((e) => this.filter(e)).slice(-this.max);
    const origin = shown[0]?.t ?? 0;
    const items = shown.map((e) => {
      const li = document.createElement('li');
      li.dataset.kind = e.kind;
      const t = (e.t - origin).toFixed(0).padStart(5);
      li.textContent = `${t} ms  ${this.timeline.describe(e)}`;
      const color = COLORS[e.kind];
      if (color) li.style.color = color;
      return li;
    });
    this.element.replaceChildren(...items);
  }
}
