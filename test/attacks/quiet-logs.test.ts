/**
 * Logs as an attack surface: what a client can cause (a handler failing on its messages, sends that fail
 * because it does not read) used to print a full stack trace per message (7.9 MB of stderr in 5 s from one
 * session). Now each is a typed ServerError with a code, reported once per session and code, and counted.
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { connect, type Client } from '@volley/client';
import { SendError } from '@volley/protocol';
import { Server, ServerError } from '@volley/server';
import { waitFor } from '../support/wait.js';

let server: Server | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
});

/** A server whose handlers fail on every message, and a client that sends 200 such messages. */
async function setup(before: (s: Server) => void = () => {}): Promise<{ server: Server; client: Client }> {
  server = new Server({ host: '127.0.0.1', port: 0, udpPort: 0, transports: ['websocket'] });
  before(server);
  server.onMessage('fails-to-send', () => {
    throw new SendError('backpressure', 'the client is not reading');
  });
  server.onMessage('buggy', () => {
    throw new TypeError('a bug in the game');
  });
  let seen = 0;
  server.onMessage('seen', () => seen++);
  await server.listen();
  client = await connect(server.address().url, { transports: ['websocket'] });
  for (let i = 0; i < 100; i++) client.send('fails-to-send', i);
  for (let i = 0; i < 100; i++) client.send('buggy', i);
  client.send('seen');
  await waitFor('the last message', () => seen > 0 || undefined, 5000);
  return { server, client };
}

describe('quiet logs', () => {
  it("reports each kind of a session's errors once to onError, typed, and counts the rest", async () => {
    const errors: unknown[] = [];
    const { server: s } = await setup((srv) => void srv.onError((e) => errors.push(e)));
    expect(errors.map((e) => (e as ServerError).code)).toEqual(['send-failed', 'handler-failed']);
    for (const e of errors) expect(e).toBeInstanceOf(ServerError);
    expect((errors[1] as ServerError).cause).toBeInstanceOf(TypeError);
    expect(s.clients[0]!.errorCounts).toEqual({ 'send-failed': 100, 'handler-failed': 100 });
  });

  it('without an onError listener, prints two lines for 200 failing messages, not 200 stack traces', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await setup();
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
    }
  });
});
