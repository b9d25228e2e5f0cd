/**
 * The HTTP answers the WebRTC adapter gives itself (geckos-adapter.ts) rather than leaving to geckos:
 * refusals (429 over the request rate, 404 off geckos' routes, 400 bad answers) and the bounded reading
 * of a request body. Every answer is plain text with geckos' CORS origin (`*`), so
 * a page can read the status. A refusal closes the connection; a body it did not read is not read further
 * (the socket is paused, then cut once the client had a moment to read the answer).
 */

import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long a refused client has to read its answer before its socket is cut (if its body is still coming). */
const REFUSAL_GRACE_MS = 50;

/** A plain-text answer; `close` ends the connection after it (and stops reading an unread body). */
export function answer(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  text: string,
  options: { close?: boolean; headers?: Record<string, string> } = {},
): void {
  if (res.headersSent || res.writableEnded) return;
  const body = `${text}\n`;
  const close = options.close ?? false;
  if (close) res.shouldKeepAlive = false;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'access-control-allow-origin': '*',
    ...(close ? { connection: 'close' } : {}),
    ...options.headers,
  });
  res.end(body, () => {
    if (close && !req.complete) stopReading(req);
  });
}

/**
 * The request's body, or 'too-large' as soon as it is declared or found to be over `max` bytes (the rest
 * is not read: the caller cuts the connection), or 'aborted' if the client went away first.
 */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large' | 'aborted'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (!(declared <= max)) return Promise.resolve('too-large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: Buffer | 'too-large' | 'aborted'): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        req.pause();
        done('too-large');
      } else chunks.push(chunk);
    };
    const onEnd = (): void => done(Buffer.concat(chunks));
    const onAbort = (): void => done('aborted');
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onAbort);
    req.once('close', onAbort);
  });
}

function stopReading(req: IncomingMessage): void {
  const socket = req.socket;
  socket.pause();
  setImmediate(() => socket.pause());
  setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS).unref();
}
