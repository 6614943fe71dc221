import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SwitchboardClient } from '../../src/client/switchboard-client.js';
import { startGatewayProcess, type GatewayProcess } from '../support/cluster/gateway-process.js';
import { nodeSdkClient } from '../support/cluster/node-sdk-client.js';
import { RoundRobinProxy } from '../support/cluster/round-robin-proxy.js';
import { WebParty } from '../support/cluster/web-party.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { allocatePort } from '../support/sip/ports.js';

// Failure behaviour of a cluster of three real gateway processes on one Redis: a node killed
// with SIGKILL ends only its own calls (the far parties hear `node-lost` within the bound), the
// other calls go on with audio, its users' SDKs log in again on another node and are reachable
// there; a Redis restart leaves every node its own users and calls, refuses what needs the
// directory meanwhile with a clear error, and heals without a restart.

/** Heartbeats every 200 ms, a node lost after 1 s (FAST_CLUSTER): the far side must know within this. */
const LOSS_BOUND_MS = 5000;

let redis: TestRedis;
let inspect: Redis;
let prefixes = 0;
const nodes: GatewayProcess[] = [];
const parties: WebParty[] = [];
const sdks: SwitchboardClient[] = [];
let proxy: RoundRobinProxy | undefined;

beforeAll(async () => {
  redis = await startRedis();
  inspect = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  inspect.on('error', () => {});
});
afterAll(async () => {
  inspect?.disconnect();
  await redis?.stop();
});
afterEach(async () => {
  for (const sdk of sdks.splice(0)) sdk.close();
  for (const party of parties.splice(0)) party.close();
  await proxy?.close();
  proxy = undefined;
  await Promise.all(nodes.splice(0).map((node) => node.stop()));
});

async function startNodes(names: string[]): Promise<{ prefix: string; nodes: GatewayProcess[] }> {
  const prefix = `f${++prefixes}:`;
  const started = await Promise.all(
    names.map(async (name) => startGatewayProcess({ redisUrl: redis.url, keyPrefix: prefix, nodeId: name, httpPort: await allocatePort() })),
  );
  nodes.push(...started);
  return { prefix, nodes: started };
}

async function login(node: GatewayProcess, name: string): Promise<WebParty> {
  const party = await WebParty.login(node.httpPort, name);
  parties.push(party);
  return party;
}

async function connectedCall(from: WebParty, to: WebParty): Promise<string> {
  const callId = await from.call(`web:${to.name}`);
  await to.answer();
  await from.answered(callId);
  await Promise.all([from.connected(), to.connected()]);
  return callId;
}

async function nodeOf(prefix: string, user: string): Promise<string | undefined> {
  const entry = await inspect.hget(`${prefix}users`, user);
  return entry ? (JSON.parse(entry) as { nodeId: string }).nodeId : undefined;
}

describe('a node killed with SIGKILL', () => {
  it('ends only its calls, at their far ends with node-lost, and its users come back on another node', async () => {
    await inspect.connect().catch(() => {});
    const { prefix, nodes: [a, b, c] } = await startNodes(['node-a', 'node-b', 'node-c']);
    const alice = await login(a!, 'alice');
    const bob = await login(b!, 'bob');
    const dave = await login(b!, 'dave');
    const carol = await login(c!, 'carol');
    const erin = await login(a!, 'erin');
    const frank = await login(c!, 'frank');
    const aliceBob = await connectedCall(alice, bob); // owned by A, bob's party on B
    const daveCarol = await connectedCall(dave, carol); // owned by B, carol's party on C
    const erinFrank = await connectedCall(erin, frank); // A and C only

    // Gina's SDK reaches the cluster through a load balancer that tries B first.
    proxy = await RoundRobinProxy.start([b!.httpPort, a!.httpPort]);
    const gina = nodeSdkClient(`ws://127.0.0.1:${proxy.port}/ws`, { reconnect: { initialDelayMs: 200, maxDelayMs: 1000 } });
    sdks.push(gina);
    await gina.login({ name: 'gina' });
    expect(await nodeOf(prefix, 'gina')).toBe('node-b');
    const reconnected = new Promise<void>((resolve) => gina.once('reconnected', () => resolve()));
    // Her session was B's: a resume is tried first and refused by A, then she logs in anew.
    const sdkErrors: string[] = [];
    gina.on('error', (error) => sdkErrors.push(error.code));

    b!.kill9();
    const [aliceEnded, carolEnded] = await Promise.all([
      alice.client.next('ended', (f) => f.callId === aliceBob, LOSS_BOUND_MS),
      carol.client.next('ended', (f) => f.callId === daveCarol, LOSS_BOUND_MS),
    ]);
    expect(aliceEnded).toMatchObject({ reason: 'node-lost' });
    expect(aliceEnded.detail).toMatch(/node-b/);
    expect(carolEnded).toMatchObject({ reason: 'node-lost' });

    // The call between A and C goes on, with audio both ways.
    expect((await frank.hears(erin)).received).toBeGreaterThan(15);
    expect((await erin.hears(frank)).received).toBeGreaterThan(15);
    expect(erin.client.frames.some((f) => f.type === 'ended')).toBe(false);

    // B's users left the directory; gina's SDK logged in again by itself, on A, and is reachable there.
    await reconnected;
    await expect.poll(() => nodeOf(prefix, 'bob'), { timeout: LOSS_BOUND_MS }).toBeUndefined();
    expect(await nodeOf(prefix, 'gina')).toBe('node-a');
    expect(sdkErrors).toContain('resume-failed');
    const message = new Promise<{ from: string; body: string }>((resolve) => gina.once('message', resolve));
    frank.client.send({ type: 'message', id: 'm', to: 'web:gina', body: 'welcome back' });
    await frank.client.next('ack', (f) => f.id === 'm');
    expect(await message).toMatchObject({ from: 'web:frank', body: 'welcome back' });
    frank.client.send({ type: 'hangup', callId: erinFrank });
    expect(await erin.client.next('ended', (f) => f.callId === erinFrank)).toMatchObject({ reason: 'hangup' });
  }, 60_000);
});

describe('Redis restarted during calls', () => {
  it('each node keeps its users and calls, refuses what needs the directory, and heals when Redis is back', async () => {
    await inspect.connect().catch(() => {});
    const { prefix, nodes: [a, b] } = await startNodes(['node-a', 'node-b']);
    const alice = await login(a!, 'alice');
    const bob = await login(b!, 'bob');
    const erin = await login(a!, 'erin');
    const frank = await login(a!, 'frank');
    const gus = await login(a!, 'gus');
    const henry = await login(b!, 'henry');
    const crossNode = await connectedCall(alice, bob);
    const sameNode = await connectedCall(erin, frank);

    await redis.stop();
    // Same-node calls go on, and new ones still find local users.
    expect((await frank.hears(erin)).received).toBeGreaterThan(15);
    const local = await gus.call('web:erin');
    await erin.client.next('incoming', (f) => f.callId === local);
    gus.client.send({ type: 'hangup', callId: local });
    // What needs the directory fails with a clear error: a call to a user on another node, a login.
    await expect(gus.call('web:henry')).rejects.toThrow(/unavailable/);
    await expect(WebParty.login(a!.httpPort, 'ivy')).rejects.toThrow(/login refused: unavailable/);

    await redis.start();
    // Every node writes its users back (Redis came back empty) and the cluster works again.
    await expect.poll(() => nodeOf(prefix, 'bob').catch(() => undefined), { timeout: 10_000 }).toBe('node-b');
    await expect.poll(() => nodeOf(prefix, 'alice').catch(() => undefined), { timeout: 10_000 }).toBe('node-a');
    expect(await nodeOf(prefix, 'ivy')).toBeUndefined();
    const fresh = await connectedCall(gus, henry);
    expect((await henry.hears(gus)).received).toBeGreaterThan(15);
    gus.client.send({ type: 'hangup', callId: fresh });
    await henry.client.next('ended', (f) => f.callId === fresh);
    // The cross-node call that was up through the restart still has its audio and its signaling.
    expect((await bob.hears(alice)).received).toBeGreaterThan(15);
    bob.client.send({ type: 'hangup', callId: crossNode });
    expect(await alice.client.next('ended', (f) => f.callId === crossNode)).toMatchObject({ reason: 'hangup' });
    erin.client.send({ type: 'hangup', callId: sameNode });
    expect(await frank.client.next('ended', (f) => f.callId === sameNode)).toMatchObject({ reason: 'hangup' });
  }, 60_000);
});
