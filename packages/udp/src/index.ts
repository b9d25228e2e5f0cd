/** @volley/udp: the raw-UDP wire of Volley (Node only), shared by the server's and the Node client's UDP transports. */

export * from './frame.js';
export * from './packet-key.js';
export * from './replay-window.js';
export * from './connect-token.js';
export * from './sealed-frame.js';
