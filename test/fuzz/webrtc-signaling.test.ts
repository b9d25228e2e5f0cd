/**
 * Structured fuzzing of the WebRTC signaling bodies a peer POSTs to a real server on 127.0.0.1 (the
 * /.wrtc/v2 routes, packages/server/src/transports/geckos-adapter.ts; the honest side is
 * packages/client/src/transports/webrtc-signaling.ts). Per run the test asks for a real offer (the server
 * makes a real peer connection), answers it with a body built from a valid-looking answer (the offer's SDP
 * turned into an answer: setup role, ICE credentials, fingerprint) and then mutated: SDP lines dropped,
 * doubled, swapped or garbled, the JSON's types changed, any JSON, or no JSON at all. It polls
 * additional-candidates and closes, also with mutated connection ids. Properties:
 *  - every request gets an answer, and never a 5xx other than 503 (busy): bad input is the client's fault;
 *  - afterwards a well-behaved WebRTC client connects and is echoed, and no session is left.
 * (test/attacks/webrtc-signaling.test.ts covers the targeted attacks: floods, pending slots, candidates.)
 */

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WebRtcTransport } from '@volley/server';
import { SdkRig } from '../support/sdk-rig.js';
import { FUZZ_TIMEOUT, fuzzParams } from './budget.js';
import { echoing, ONE_SOURCE_MANY_CLIENTS, waitUntil, wellBehavedClientServed } from './live.js';

const SIGNALING = '/.wrtc/v2';
const rig = new SdkRig({ protocol: { timeout: 2000 }, limits: { handshakeTimeout: 1000, ...ONE_SOURCE_MANY_CLIENTS } });

/** A generous signaling budget (the option names are the transport's; unknown ones are ignored). */
const generous: Record<string, unknown> = { signalingRequestsPerSecond: 100_000, signalingBurst: 100_000, maxPendingPerSource: 1000 };

const request = async (url: string, init: RequestInit = {}): Promise<{ status: number; text: string }> => {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, text: await res.text() };
};

/** The offer turned into an answer a browser could have written (no candidates: the server learns ours). */
function answerLines(offer: string, ufrag: string, pwd: string): string[] {
  return offer
    .split(/\r?\n/)
    .filter((l) => l !== '' && !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates')
    .map((l) => {
      if (l.startsWith('a=setup:')) return 'a=setup:active';
      if (l.startsWith('a=ice-ufrag:')) return `a=ice-ufrag:${ufrag}`;
      if (l.startsWith('a=ice-pwd:')) return `a=ice-pwd:${pwd}`;
      if (l.startsWith('o=')) return 'o=- 4611731400430051336 2 IN IP4 127.0.0.1';
      return l;
    });
}

type LineEdit = { op: 'drop' | 'dup' | 'garble' | 'swap' | 'value'; at: number; other: number; text: string };
const lineEdit: fc.Arbitrary<LineEdit> = fc.record({
  op: fc.constantFrom('drop', 'dup', 'garble', 'swap', 'value'),
  at: fc.nat(),
  other: fc.nat(),
  text: fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom(
      'a=setup:passive',
      'a=setup:actpass',
      'm=application 0 UDP/DTLS/SCTP webrtc-datachannel',
      'a=fingerprint:sha-256 00',
      'a=max-message-size:0',
      'a=sctp-port:99999',
      'c=IN IP4 10.0.0.1',
      'a=mid:',
    ),
  ),
});

function edit(lines: string[], edits: LineEdit[]): string[] {
  const out = lines.slice();
  for (const e of edits) {
    if (out.length === 0) break;
    const i = e.at % out.length;
    if (e.op === 'drop') out.splice(i, 1);
    else if (e.op === 'dup') out.splice(i, 0, out[i]!);
    else if (e.op === 'swap') [out[i], out[e.other % out.length]] = [out[e.other % out.length]!, out[i]!];
    else if (e.op === 'garble') out[i] = e.text;
    else out[i] = `${out[i]!.split(':')[0]}:${e.text}`;
  }
  return out;
}

/** What a run POSTs as the answer body, given the offer. */
type Body =
  | { kind: 'answer'; edits: LineEdit[]; type: unknown; crlf: boolean; ufrag: string; pwd: string }
  | { kind: 'sdp-type'; sdp: unknown }
  | { kind: 'json'; json: string }
  | { kind: 'bytes'; bytes: Uint8Array };

const bodyArb: fc.Arbitrary<Body> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('answer' as const),
      edits: fc.array(lineEdit, { maxLength: 4 }),
      type: fc.oneof(
        { arbitrary: fc.constant('answer'), weight: 6 },
        fc.constantFrom('offer', 'pranswer', 'rollback', '', 'ANSWER', 0, null, [], {}),
      ),
      crlf: fc.boolean(),
      ufrag: fc.stringMatching(/^[a-zA-Z0-9+/]{4,8}$/),
      pwd: fc.stringMatching(/^[a-zA-Z0-9+/]{22,32}$/),
    }),
    weight: 6,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('sdp-type' as const),
      sdp: fc.oneof(fc.constantFrom(null, 0, true, [], {}, ''), fc.jsonValue({ maxDepth: 3 })),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant('json' as const), json: fc.json({ maxDepth: 4 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 200 }) }), weight: 1 },
);

function render(b: Body, offer: string): string | Uint8Array<ArrayBuffer> {
  switch (b.kind) {
    case 'answer': {
      const sdp = edit(answerLines(offer, b.ufrag, b.pwd), b.edits).join(b.crlf ? '\r\n' : '\n') + (b.crlf ? '\r\n' : '\n');
      return JSON.stringify({ type: b.type, sdp });
    }
    case 'sdp-type':
      return JSON.stringify({ type: 'answer', sdp: b.sdp });
    case 'json':
      return b.json;
    case 'bytes':
      return Uint8Array.from(b.bytes);
  }
}

/** An id as the routes see it: the real one, or one mutated. */
const idArb = fc.oneof(
  { arbitrary: fc.constant((id: string) => id), weight: 6 },
  fc.constant((id: string) => id.slice(1)),
  fc.constant((id: string) => `${id}x`),
  fc.constant((id: string) => id.toUpperCase()),
  fc.constant((id: string) => `${id}/${id}`),
  fc.constant(() => 'a'.repeat(24)),
  fc.constant((id: string) => encodeURIComponent(`${id}/../../connections`)),
);

describe('WebRTC signaling bodies against a real server', () => {
  it('answers every request without a 5xx (but 503), and keeps serving WebRTC clients', { timeout: FUZZ_TIMEOUT }, async () => {
    const webrtc = new WebRtcTransport({
      bindAddress: '127.0.0.1',
      iceServers: [],
      connectTimeoutMs: 1000,
      ...generous,
    });
    const server = echoing(await rig.serve({ transports: [webrtc] }));
    const base = `${server.address().url}${SIGNALING}`;
    const statuses = new Map<string, number>();
    const note = (route: string, status: number) => statuses.set(`${route} ${status}`, (statuses.get(`${route} ${status}`) ?? 0) + 1);
    const ok = (status: number) => status > 0 && (status < 500 || status === 503);
    await fc.assert(
      fc.asyncProperty(bodyArb, idArb, idArb, async (body, answerId, closeId) => {
        const offer = await request(`${base}/connections`, { method: 'POST' });
        note('offer', offer.status);
        expect(ok(offer.status), `offer: ${offer.status} ${offer.text.slice(0, 200)}`).toBe(true);
        if (offer.status !== 200) return;
        const { id, localDescription } = JSON.parse(offer.text) as { id: string; localDescription: { sdp: string } };
        const answer = await request(`${base}/connections/${answerId(id)}/remote-description`, {
          method: 'POST',
          body: render(body, localDescription.sdp),
        });
        note('answer', answer.status);
        expect(ok(answer.status), `answer: ${answer.status} ${answer.text.slice(0, 200)}`).toBe(true);
        const candidates = await request(`${base}/connections/${answerId(id)}/additional-candidates`);
        note('candidates', candidates.status);
        expect(ok(candidates.status), `candidates: ${candidates.status}`).toBe(true);
        const close = await request(`${base}/connections/${closeId(id)}/close`, { method: 'POST' });
        note('close', close.status);
        expect(ok(close.status), `close: ${close.status}`).toBe(true);
        if (closeId(id) !== id) await request(`${base}/connections/${id}/close`, { method: 'POST' });
      }),
      fuzzParams(0.1),
    );
    console.info('webrtc signaling fuzz:', Object.fromEntries(statuses));
    expect(await wellBehavedClientServed(server, 'webrtc')).toBe(true);
    expect(await waitUntil(() => server.sessionCount === 0 && server.pendingLinks === 0, 10_000)).toBe(true);
  });
});
