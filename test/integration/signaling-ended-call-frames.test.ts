import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { allocatePort } from '../support/sip/ports.js';
import { startTestGateway } from '../support/test-gateway.js';
import { WsTestClient } from '../support/ws-test-client.js';

// Frames that cross a call's end on the wire (a candidate trickled before the
// browser heard the refusal of its `call`, a hangup racing the other party's)
// are acked and ignored for a call this connection was a party to a moment
// ago; for any other call id they are still `unknown-call` / `not-your-call`.

const OFFER = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=rtpmap:111 opus/48000/2',
  'a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host',
  '',
].join('\r\n');
const CANDIDATE = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 };

let gateway: Gateway | undefined;
const clients: WsTestClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await gateway?.stop();
  gateway = undefined;
});

async function login(name: string): Promise<WsTestClient> {
  const client = await WsTestClient.login(gateway!.httpPort, name);
  clients.push(client);
  return client;
}

async function signalingErrors(): Promise<Record<string, number>> {
  const metric = await gateway!.metrics.signalingErrors.get();
  return Object.fromEntries(metric.values.map((value) => [String(value.labels.code), value.value]));
}

/** The reply to the request `id`: `ack`, or the error code. */
async function replyTo(client: WsTestClient, id: string): Promise<string> {
  const isReply = (f: { type: string; id?: string }) => (f.type === 'ack' || f.type === 'error') && f.id === id;
  await expect.poll(() => client.frames.some(isReply), { timeout: 5000 }).toBe(true);
  const reply = client.frames.splice(client.frames.findIndex(isReply), 1)[0]!;
  return reply.type === 'ack' ? 'ack' : reply.type === 'error' ? reply.code : reply.type;
}

describe('frames for a call that just ended', () => {
  it('candidates and a hangup right behind a refused call are acked, not counted as errors', async () => {
    gateway = await startTestGateway({ sip: { enabled: true, port: await allocatePort(), outbound: { dialPlan: [] } } });
    const alice = await login('alice');
    alice.send({ type: 'call', id: 'c', callId: 'refused-1', to: 'tel:+19005550100', sdp: OFFER });
    alice.send({ type: 'candidate', id: 'k1', callId: 'refused-1', candidate: CANDIDATE });
    alice.send({ type: 'candidate', id: 'k2', callId: 'refused-1', candidate: null });
    alice.send({ type: 'hangup', id: 'h', callId: 'refused-1' });

    expect(await replyTo(alice, 'c')).toBe('forbidden');
    expect(await replyTo(alice, 'k1')).toBe('ack');
    expect(await replyTo(alice, 'k2')).toBe('ack');
    expect(await replyTo(alice, 'h')).toBe('ack');
    expect(await signalingErrors()).toEqual({ forbidden: 1 });
  });

  it('a late candidate after the other party hung up is acked', async () => {
    gateway = await startTestGateway();
    const alice = await login('alice');
    const bob = await login('bob');
    alice.send({ type: 'call', id: 'c', callId: 'ended-call-1', to: 'web:bob', sdp: OFFER });
    await alice.next('ack', (f) => f.id === 'c');
    await bob.next('incoming', (f) => f.callId === 'ended-call-1');
    bob.send({ type: 'reject', id: 'r', callId: 'ended-call-1', reason: 'busy' });
    await alice.next('ended', (f) => f.callId === 'ended-call-1');
    alice.send({ type: 'candidate', id: 'k', callId: 'ended-call-1', candidate: CANDIDATE });
    expect(await replyTo(alice, 'k')).toBe('ack');
    bob.send({ type: 'candidate', id: 'k', callId: 'ended-call-1', candidate: null });
    expect(await replyTo(bob, 'k')).toBe('ack');
    expect(await signalingErrors()).toEqual({});
  });

  it('ids this connection never had, or another connection\'s, still get unknown-call and not-your-call', async () => {
    gateway = await startTestGateway();
    const alice = await login('alice');
    const bob = await login('bob');
    const mallory = await login('mallory');
    alice.send({ type: 'candidate', id: 'k0', callId: 'never-existed-1', candidate: CANDIDATE });
    expect(await replyTo(alice, 'k0')).toBe('unknown-call');

    // A live call of others: mallory is no party to it.
    alice.send({ type: 'call', id: 'c', callId: 'ended-call-2', to: 'web:bob', sdp: OFFER });
    await alice.next('ack', (f) => f.id === 'c');
    await bob.next('incoming', (f) => f.callId === 'ended-call-2');
    mallory.send({ type: 'candidate', id: 'k1', callId: 'ended-call-2', candidate: CANDIDATE });
    expect(await replyTo(mallory, 'k1')).toBe('not-your-call');

    // Ended: the parties' late frames are ignored, mallory's are not.
    alice.send({ type: 'hangup', id: 'h', callId: 'ended-call-2' });
    await bob.next('ended', (f) => f.callId === 'ended-call-2');
    mallory.send({ type: 'candidate', id: 'k2', callId: 'ended-call-2', candidate: CANDIDATE });
    expect(await replyTo(mallory, 'k2')).toBe('unknown-call');
    // Only candidate and hangup are forgiven; anything else about an ended call is still an error.
    alice.send({ type: 'dtmf', id: 'd', callId: 'ended-call-2', digits: '1' });
    expect(await replyTo(alice, 'd')).toBe('unknown-call');
  });
});
