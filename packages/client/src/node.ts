/** @volley/client for Node: everything in index.ts, plus the Node-only transports (UDP, WebRTC via node-datachannel). */
export * from './index.js';
