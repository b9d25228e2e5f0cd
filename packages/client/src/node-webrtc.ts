/**
 * WebRTC for Node: puts node-datachannel's W3C polyfill (libdatachannel) on globalThis, where
 * the webrtc transport looks for RTCPeerConnection. Node only (imported by node.ts).
 */

const NAMES = ['RTCPeerConnection', 'RTCSessionDescription', 'RTCIceCandidate'] as const;

let installing: Promise<void> | undefined;

/**
 * Assigns RTCPeerConnection, RTCSessionDescription and RTCIceCandidate from `node-datachannel/polyfill`
 * on globalThis where absent (an existing implementation is kept). Idempotent; the native module is
 * loaded on the first call only. Rejects, and may be retried, if node-datachannel cannot be loaded.
 */
export async function installNodeWebRTC(): Promise<void> {
  installing ??= load().catch((e: unknown) => {
    installing = undefined;
    throw new Error(`webrtc: cannot load node-datachannel/polyfill: ${(e as Error).message}`, { cause: e });
  });
  return installing;
}

async function load(): Promise<void> {
  const polyfill = await import('node-datachannel/polyfill');
  const g = globalThis as Record<string, unknown>;
  for (const name of NAMES) {
    if (g[name] === undefined) g[name] = polyfill[name];
  }
}
