/**
 * The thin pixi.js adapter: the net graph laid over a pixi `Application`'s canvas, in its top-left corner
 * wherever the canvas sits in its parent, and kept there when the page's layout moves it. Only the canvas
 * is used, so pixi.js is not a dependency (any object with a `canvas` will do: pixi 8's Application has one).
 *
 *   const app = new Application(); await app.init({ width: 960, height: 540 }); parent.appendChild(app.canvas);
 *   const net = pixiNetGraph(app, recorder); // F3 steps through its levels
 */

import { NetGraph, type NetGraphOptions } from './net-graph.js';
import type { NetRecorder } from './net-recorder.js';

/** What the adapter needs of a pixi.js Application. */
export interface PixiCanvasOwner {
  readonly canvas: HTMLCanvasElement;
}

export function pixiNetGraph(app: PixiCanvasOwner, recorder: NetRecorder, options: Omit<NetGraphOptions, 'parent'> = {}): NetGraph {
  const canvas = app.canvas;
  const parent = canvas.parentElement;
  if (!parent) throw new Error('pixiNetGraph: put the canvas in the page first (parent.appendChild(app.canvas))');
  const net = new NetGraph(recorder, { ...options, parent });
  const place = () => {
    net.element.style.left = `${canvas.offsetLeft + 4}px`;
    net.element.style.top = `${canvas.offsetTop + 4}px`;
  };
  place();
  if (typeof ResizeObserver === 'undefined') return net;
  const observer = new ResizeObserver(place);
  observer.observe(parent);
  const destroy = net.destroy.bind(net);
  net.destroy = () => {
    observer.disconnect();
    destroy();
  };
  return net;
}
