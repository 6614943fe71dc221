import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/load-config.js';
import type { Gateway } from '../../src/gateway.js';
import { startInProcessNodes } from '../support/cluster/in-process-nodes.js';
import { WebParty } from '../support/cluster/web-party.js';
import { startRedis, type TestRedis } from '../support/redis.js';

// Calls and chat between web users on different nodes of a cluster (a real Redis, nodes in this
// process): the call stays on the caller's node, the callee's node forwards its party's frames
// over the bus, and media flows end to end (relay) or through the owner's anchor.

let redis: TestRedis;
const gateways: Gateway[] = [];
const parties: WebParty[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  for (const party of parties.splice(0)) party.close();
  for (const gateway of gateways.splice(0).reverse()) await gateway.stop();
});

async function nodes(count: number, overrides: ConfigInput = {}): Promise<Gateway[]> {
  const started = await startInProcessNodes(redis, count, overrides);
  gateways.push(...started);
  return started;
}

async function login(gateway: Gateway, name: string): Promise<WebParty> {
  const party = await WebParty.login(gateway.httpPort, name);
  parties.push(party);
  return party;
}

describe('calls between web users on different nodes', () => {
  it('rings, answers, carries audio both ways end to end, and hangs up from the callee', async () => {
    const [a, b] = await nodes(2);
    const alice = await login(a!, 'alice');
    const bob = await login(b!, 'bob');
    const callId = await alice.call('web:bob');
    const answering = bob.answer();
    expect(await alice.client.next('ringing', (f) => f.callId === callId)).toBeDefined();
    expect(await answering).toBe(callId);
    await alice.answered(callId);
    // The call is owned by alice's node; bob's node only carries his party.
    expect(a!.calls.get(callId)?.media.mode).toBe('relay');
    expect(b!.calls.has(callId)).toBe(false);
    expect(b!.cluster!.parties.counts).toEqual({ owned: 0, hosted: 1 });
    await Promise.all([alice.connected(), bob.connected()]);
    const bobHears = await bob.hears(alice);
    const aliceHears = await alice.hears(bob);
    expect(bobHears.received).toBeGreaterThan(15);
    expect(aliceHears.received).toBeGreaterThan(15);
    expect(bobHears.rms).toBeGreaterThan(1000);
    expect(aliceHears.rms).toBeGreaterThan(1000);

    bob.client.send({ type: 'hangup', callId });
    expect(await alice.client.next('ended', (f) => f.callId === callId)).toMatchObject({ reason: 'hangup' });
    await expect.poll(() => a!.calls.size).toBe(0);
    await expect.poll(() => b!.cluster!.parties.counts).toEqual({ owned: 0, hosted: 0 });
  });

  it('passes DTMF, re-offers (hold) and a caller cancel across nodes, in order', async () => {
    const [a, b] = await nodes(2);
    const alice = await login(a!, 'alice');
    const bob = await login(b!, 'bob');
    const callId = await alice.call('web:bob');
    await bob.answer();
    await alice.answered(callId);
    alice.client.send({ type: 'dtmf', callId, digits: '12#' });
    expect(await bob.client.next('dtmf', (f) => f.callId === callId)).toMatchObject({ digits: '12#' });
    bob.client.send({ type: 'dtmf', callId, digits: '9' });
    expect(await alice.client.next('dtmf', (f) => f.callId === callId)).toMatchObject({ digits: '9' });
    // A burst of candidates and a re-offer arrive in the order they were sent (foundations `burst<i>`:
    // alice's own candidates, sent after the answer, are not part of the burst).
    for (let i = 0; i < 20; i++) {
      alice.client.send({ type: 'candidate', callId, candidate: { candidate: `candidate:burst${i} 1 udp 2122260223 127.0.0.1 ${40000 + i} typ host`, sdpMid: '0', sdpMLineIndex: 0 } });
    }
    alice.client.send({ type: 'offer', callId, sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=sendonly\r\n' });
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) {
      const candidate = await bob.client.next('candidate', (f) => f.callId === callId && f.candidate?.candidate.startsWith('candidate:burst') === true);
      seen.push(Number(/^candidate:burst(\d+)/.exec(candidate.candidate!.candidate)![1]));
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect((await bob.client.next('offer', (f) => f.callId === callId)).sdp).toContain('a=sendonly');
    bob.client.send({ type: 'answer', callId, sdp: 'v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=recvonly\r\n' });
    expect((await alice.client.next('answer', (f) => f.callId === callId)).sdp).toContain('a=recvonly');
    alice.client.send({ type: 'hangup', callId });
    expect(await bob.client.next('ended', (f) => f.callId === callId)).toMatchObject({ reason: 'hangup' });

    const second = await alice.call('web:bob');
    await bob.client.next('incoming', (f) => f.callId === second);
    alice.client.send({ type: 'hangup', callId: second });
    expect(await bob.client.next('ended', (f) => f.callId === second)).toMatchObject({ reason: 'cancelled' });
  });

  it('anchors on the owning node with media.mode anchor: audio both ways through node A', async () => {
    const [a, b] = await nodes(2, { media: { mode: 'anchor' } });
    const alice = await login(a!, 'alice');
    const bob = await login(b!, 'bob');
    const callId = await alice.call('web:bob');
    await bob.answer();
    await alice.answered(callId);
    expect(a!.calls.get(callId)?.media.mode).toBe('anchor');
    await Promise.all([alice.connected(), bob.connected()]);
    const bobHears = await bob.hears(alice);
    const aliceHears = await alice.hears(bob);
    expect(bobHears.received).toBeGreaterThan(15);
    expect(aliceHears.received).toBeGreaterThan(15);
    bob.client.close();
    expect(await alice.client.next('ended', (f) => f.callId === callId)).toMatchObject({ reason: 'connection-lost' });
  });

  it('a transfer asked on one node is followed on another, and the follow-up call reaches a third', async () => {
    const [a, b, c] = await nodes(3);
    const alice = await login(a!, 'alice');
    const bob = await login(b!, 'bob');
    const carol = await login(c!, 'carol');
    const callId = await alice.call('web:bob');
    await bob.answer();
    await alice.answered(callId);
    bob.client.send({ type: 'transfer', id: 't', callId, to: 'web:carol' });
    await bob.client.next('ack', (f) => f.id === 't');
    const transfer = await alice.client.next('transfer', (f) => f.callId === callId);
    expect(transfer.to).toBe('web:carol');
    const followUp = await alice.call('web:carol', randomUUID(), { transferId: transfer.transferId });
    await carol.answer();
    await alice.answered(followUp);
    alice.client.send({ type: 'hangup', callId });
    await bob.client.next('ended', (f) => f.callId === callId);
    alice.client.send({ type: 'hangup', callId: followUp });
    expect(await carol.client.next('ended', (f) => f.callId === followUp)).toMatchObject({ reason: 'hangup' });
  });

  it('refusals cross nodes as they do on one: busy, and offline once the callee left', async () => {
    const [a, b] = await nodes(2, { signaling: { maxCallsPerConnection: 1 } });
    const alice = await login(a!, 'alice');
    const bob = await login(b!, 'bob');
    const carol = await login(a!, 'carol');
    const first = await carol.call('web:bob');
    await bob.client.next('incoming', (f) => f.callId === first);
    const second = await alice.call('web:bob');
    expect(await alice.client.next('ended', (f) => f.callId === second)).toMatchObject({ reason: 'busy' });
    bob.close();
    await expect.poll(() => a!.directory.lookup('bob')).toBeUndefined();
    await expect(alice.call('web:bob')).rejects.toThrow(/offline/);
  });

  it('chat messages reach users on other nodes; to someone offline they are refused', async () => {
    const [a, b] = await nodes(2);
    const alice = await login(a!, 'alice');
    const bob = await login(b!, 'bob');
    alice.client.send({ type: 'message', id: 'm1', to: 'web:bob', body: 'hello across nodes' });
    await alice.client.next('ack', (f) => f.id === 'm1');
    expect(await bob.client.next('message')).toMatchObject({ from: 'web:alice', body: 'hello across nodes' });
    bob.close();
    await expect.poll(() => a!.directory.lookup('bob')).toBeUndefined();
    alice.client.send({ type: 'message', id: 'm2', to: 'web:bob', body: 'still there?' });
    expect(await alice.client.next('error', (f) => f.id === 'm2')).toMatchObject({ code: 'offline' });
  });
});

describe('the bus between nodes', () => {
  it('a node ignores messages about sessions and calls it does not hold', async () => {
    const [a, b] = await nodes(2);
    const bob = await login(b!, 'bob');
    const bobEntry = (await a!.directory.lookup('bob'))!;
    const channel = b!.cluster!.keys.busChannel('node-b');
    const publish = (fields: Record<string, unknown>) => redis.command('PUBLISH', channel, JSON.stringify({ from: 'node-x', ...fields }));
    const open = (callId: string, fields: Record<string, unknown>) =>
      publish({ kind: 'open', req: randomUUID(), callId, caller: { kind: 'guest', user: 'mallory' }, onBehalfOf: [], fromAddress: 'web:mallory', ...fields });
    const deliver = (callId: string) => publish({ kind: 'cmd', callId, seq: 1, op: 'deliverCall', args: [{ callId, from: 'web:mallory', sdp: 'v=0' }] });
    // A session id that is not bob's; bob's session under another name; a command for a call never opened; garbage.
    for (const fields of [{ target: 'web:bob', sessionId: randomUUID() }, { target: 'web:carol', sessionId: bobEntry.sessionId }]) {
      const callId = randomUUID();
      await open(callId, fields);
      await deliver(callId);
    }
    await deliver(randomUUID());
    await redis.command('PUBLISH', channel, '{"not":"a bus message"');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bob.client.frames.filter((f) => f.type === 'incoming')).toEqual([]);
    // The control: from a node that beats (a heartbeat written by hand, 1.5 s), bob's own session
    // under his own name is reached (the bus itself is trusted); once the beat is gone, the call is lost.
    const keys = b!.cluster!.keys;
    await redis.command('SET', keys.node('node-x'), '{}', 'PX', '1500');
    await redis.command('SADD', keys.nodes, 'node-x');
    const callId = randomUUID();
    await open(callId, { target: 'web:bob', sessionId: bobEntry.sessionId });
    await deliver(callId);
    expect(await bob.client.next('incoming', (f) => f.callId === callId)).toMatchObject({ from: 'web:mallory' });
    expect(await bob.client.next('ended', (f) => f.callId === callId)).toMatchObject({ reason: 'node-lost' });
  });
});
