import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '../../src/auth/access-token.js';
import type { ConfigInput } from '../../src/config/load-config.js';
import type { Gateway } from '../../src/gateway.js';
import { CloseCode } from '../../src/protocol/messages.js';
import { startInProcessNodes } from '../support/cluster/in-process-nodes.js';
import { WebParty } from '../support/cluster/web-party.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startBaresip, type Baresip } from '../support/sip/baresip.js';
import { startKamailioEdge, type KamailioEdge } from '../support/sip/kamailio-edge.js';
import { allocatePort } from '../support/sip/ports.js';
import { runSipp } from '../support/sip/sipp.js';
import { measurePcmu, sendTone } from '../support/xmpp/xmpp-lab.js';

// SIP at cluster scale: Kamailio running the shipped edge config (docker/kamailio/kamailio-cluster.cfg)
// in front of gateway nodes on one Redis. Each node registers its online web users at the edge with
// its own Contact, so a phone's call reaches the node holding the user; web users call out through
// the edge as their outbound proxy; calls to services are spread over the nodes that answer the
// dispatcher's OPTIONS probes.

const SECRET = 'cluster-edge-secret-0123456789';
let redis: TestRedis;
let edge: KamailioEdge | undefined;
let phone: Baresip | undefined;
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
  await phone?.stop();
  phone = undefined;
  for (const gateway of gateways.splice(0).reverse()) await gateway.stop();
  await edge?.stop();
  edge = undefined;
});

/** `count` nodes, each with SIP on a port of its own, all behind one Kamailio edge. */
async function edgeCluster(count: number, sip: NonNullable<NonNullable<ConfigInput>['sip']> = {}): Promise<Gateway[]> {
  const ports = await Promise.all(Array.from({ length: count }, () => allocatePort()));
  edge = await startKamailioEdge({ nodeSipPorts: ports });
  const registrar = `sip:127.0.0.1:${edge.port}`;
  const nodes = await startInProcessNodes(
    redis,
    count,
    {
      auth: { secret: SECRET, anonymous: true },
      sip: { enabled: true, ...sip, edge: { registrar, domain: edge.domain }, outbound: { proxy: registrar, ...sip.outbound } },
    },
    (index): ConfigInput => ({ sip: { port: ports[index]! } }),
  );
  gateways.push(...nodes);
  // The edge probes its nodes every second; the nodes were not up for its first probe.
  await new Promise((resolve) => setTimeout(resolve, 2200));
  return nodes;
}

async function tokenLogin(node: Gateway, user: string): Promise<WebParty> {
  const party = await WebParty.login(node.httpPort, user, { token: await signAccessToken({ secret: SECRET, user, ttlSeconds: 600 }) });
  parties.push(party);
  return party;
}

async function registeredAtEdge(party: WebParty): Promise<void> {
  await party.client.next('registration', (f) => f.aor === `sip:${party.name}@${edge!.domain}` && f.state === 'registered', 10_000);
}

async function startPhone(): Promise<Baresip> {
  phone = await startBaresip({ user: 'phone', toneHz: 440, registrar: { server: edge!.domain, password: edge!.phonePassword } });
  await phone.waitForRegistered(10_000);
  return phone;
}

describe('a Kamailio edge in front of the cluster', () => {
  it('a phone reaches a web user on the node that holds them, with audio both ways, and follows the user to another node', async () => {
    const [a, b] = await edgeCluster(2);
    const alice = await tokenLogin(b!, 'alice');
    await registeredAtEdge(alice);
    await startPhone();

    await phone!.dial(`sip:alice@${edge!.domain}`);
    await alice.answer();
    await phone!.waitForCallEstablished(10_000);
    await alice.connected();
    expect(b!.calls.size).toBe(1);
    expect(a!.calls.size).toBe(0);
    const heard = await measurePcmu(alice.endpoint!, () => sendTone(alice.endpoint!, 50));
    expect(heard.received).toBeGreaterThan(30);
    expect(heard.rms).toBeGreaterThan(500);
    expect(phone!.recordedAudio({ skipS: 0.3 }).rms).toBeGreaterThan(100);
    await phone!.hangup();
    await alice.client.next('ended');

    // Alice logs in on node A: the edge routes her calls there at once.
    const moved = await tokenLogin(a!, 'alice');
    expect(await alice.client.closed).toBe(CloseCode.replaced);
    await registeredAtEdge(moved);
    await new Promise((resolve) => setTimeout(resolve, 500)); // node B's unregistration of its own Contact
    await phone!.dial(`sip:alice@${edge!.domain}`);
    await moved.answer();
    await phone!.waitForCallEstablished(10_000);
    expect(a!.calls.size).toBe(1);
    await phone!.hangup();
    expect(await moved.client.next('ended')).toMatchObject({ reason: 'hangup' });
  }, 60_000);

  it('a web user on a third node calls a phone through the edge, with audio both ways', async () => {
    const [, , c] = await edgeCluster(3);
    await startPhone();
    const carol = await tokenLogin(c!, 'carol');
    const callId = await carol.call(`sip:phone@${edge!.domain}`);
    await phone!.waitForCallEstablished(10_000);
    await carol.answered(callId);
    await carol.connected();
    const heard = await measurePcmu(carol.endpoint!, () => sendTone(carol.endpoint!, 50));
    expect(heard.received).toBeGreaterThan(30);
    expect(phone!.recordedAudio({ skipS: 0.3 }).rms).toBeGreaterThan(100);
    expect(edge!.process.output()).not.toMatch(/ERROR/);
    carol.client.send({ type: 'hangup', callId });
    await phone!.waitForCallClosed(10_000);
  }, 60_000);

  it('the dispatcher spreads calls to a service over the nodes; a node that stops is skipped', async () => {
    const nodes = await edgeCluster(2, { inbound: { rules: [{ match: '^echo$', user: 'service:echo' }] } });
    const started = new Map<Gateway, number>(nodes.map((node) => [node, 0]));
    for (const node of nodes) node.calls.on('callstart', (call) => call.type === 'sip-service' && started.set(node, started.get(node)! + 1));
    const echo = (calls: number) =>
      runSipp({ scenario: 'uac-call-bye', remote: `127.0.0.1:${edge!.port}`, service: 'echo', calls, rate: 10, maxConcurrent: 2, timeoutS: 30, extraArgs: ['-d', '200'] });
    const first = await echo(6);
    expect(first.exitCode, first.errors).toBe(0);
    expect([...started.values()].every((count) => count >= 2)).toBe(true);

    // Node B stops: a call the edge still sends there times out and goes on to node A (failure
    // route), and once a probe went unanswered the edge leaves B out. Every call succeeds on A.
    const [a, b] = nodes;
    await b!.stop();
    gateways.splice(gateways.indexOf(b!), 1);
    started.set(a!, 0);
    const second = await echo(4);
    expect(second.exitCode, second.errors).toBe(0);
    expect(started.get(a!)).toBe(4);
  }, 60_000);
});
