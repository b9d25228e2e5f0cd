/**
 * Case 1b: the same 5 MB upload with a 60 Hz × 64 B probe stream on the same connection. Volley sends the
 * stream on a higher-priority unreliable channel; the bare-TCP peer can only interleave it with the upload on
 * its one byte stream (as a game over WebSocket would), so its probes wait behind every upload byte written
 * before them. One-way latency p50/p99 of the stream, against the path's own one-way delay and each other.
 */

import { ratio } from '../figures.js';
import { BOTTLENECK } from '../net-config.js';
import type { StreamCase } from '../net-result.js';
import { tcpUploadRun, volleyUploadRun } from './upload-runs.js';

export async function streamCase(): Promise<StreamCase> {
  const volley = await volleyUploadRun(true);
  const tcp = await tcpUploadRun(true);
  // The path's one-way delay; a probe packet's own serialization at 2 Mbit/s adds about 0.5 ms to it.
  const baseMs = BOTTLENECK.delayMs;
  const v = volley.stream?.latency;
  const t = tcp.stream?.latency;
  return {
    volley,
    tcp,
    goodputRatio: ratio(volley.goodputMbps, tcp.goodputMbps),
    wireRatio: ratio(volley.wirePerPayload, tcp.wirePerPayload),
    baseMs,
    volleyP50OverBase: ratio(v?.p50Ms, baseMs),
    volleyP99OverBase: ratio(v?.p99Ms, baseMs),
    tcpP50OverBase: ratio(t?.p50Ms, baseMs),
    tcpP99OverBase: ratio(t?.p99Ms, baseMs),
    p50Ratio: ratio(v?.p50Ms, t?.p50Ms),
    p99Ratio: ratio(v?.p99Ms, t?.p99Ms),
  };
}
