/**
 * Case 1a: a 5 MB upload through the bottleneck (2 Mbit/s, 28.9 KB tail-drop queue, 20 ms one way), by
 * Volley over raw UDP and, as the peer, by bare TCP: goodput, IP bytes on the wire per payload byte, and
 * what the bottleneck dropped. The two run one after the other, each alone on the link.
 */

import { ratio } from '../figures.js';
import type { UploadCase } from '../net-result.js';
import { tcpUploadRun, volleyUploadRun } from './upload-runs.js';

export async function uploadCase(): Promise<UploadCase> {
  const volley = await volleyUploadRun(false);
  const tcp = await tcpUploadRun(false);
  return {
    volley,
    tcp,
    goodputRatio: ratio(volley.goodputMbps, tcp.goodputMbps),
    wireRatio: ratio(volley.wirePerPayload, tcp.wirePerPayload),
  };
}
