import { randomUUID } from 'node:crypto';
import { xml } from '@xmpp/client';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jingleExport } from '../../adapters/xmpp/jingle/jingle-export.js';
import { jingleImport } from '../../adapters/xmpp/jingle/jingle-import.js';
import { sdpExport } from '../../adapters/xmpp/jingle/sdp-export.js';
import { sdpImport } from '../../adapters/xmpp/jingle/sdp-import.js';
import { startGatewayProcess, type GatewayProcess } from '../support/cluster/gateway-process.js';
import { startInProcessNodes } from '../support/cluster/in-process-nodes.js';
import { WebParty } from '../support/cluster/web-party.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { allocatePort } from '../support/sip/ports.js';
import { makeWebRtcTestPeer, PCMU } from '../support/webrtc-test-peer.js';
import { startProsody, type RunningProsody } from '../support/xmpp/prosody.js';
import { XmppTestClient } from '../support/xmpp/xmpp-test-client.js';
import { jingleIq, sendToneBetween, waitConnected } from '../support/xmpp/xmpp-lab.js';

// The XMPP component of a cluster (two real gateway processes, a real Prosody): the server takes
// one component connection per domain, so one node holds it (a lease in Redis) and reaches the
// users of every node through the bus; when it is killed, the other node takes the component over.

const DOMAIN = 'gw.localhost';
const ALICE = `alice@${DOMAIN}`;
const NS_JMI = 'urn:xmpp:jingle-message:0';
const NS_RTP = 'urn:xmpp:jingle:apps:rtp:1';
const LEASE = 'xc:lease:xmpp-component:gw.localhost';

let redis: TestRedis;
let inspect: Redis;
let prosody: RunningProsody;
const nodes: GatewayProcess[] = [];
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  redis = await startRedis();
  inspect = new Redis(redis.url);
  prosody = await startProsody({ users: { carol: 'carol-secret', gateway: 'gateway-secret' }, component: { domain: DOMAIN, secret: 'component-secret' } });
}, 30_000);
afterAll(async () => {
  inspect?.disconnect();
  await prosody?.stop();
  await redis?.stop();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await Promise.all(nodes.splice(0).map((node) => node.stop()));
});

async function startNode(nodeId: string): Promise<GatewayProcess> {
  const node = await startGatewayProcess({
    redisUrl: redis.url,
    keyPrefix: 'xc:',
    nodeId,
    httpPort: await allocatePort(),
    config: {
      xmpp: {
        enabled: true,
        server: prosody.service,
        component: { domain: DOMAIN, password: 'component-secret', server: prosody.componentService! },
        outbound: { guests: true },
      },
    },
  });
  nodes.push(node);
  return node;
}

async function login(node: { httpPort: number }, name: string): Promise<WebParty> {
  const party = await WebParty.login(node.httpPort, name);
  cleanups.push(() => party.close());
  return party;
}

async function carolClient(): Promise<XmppTestClient> {
  const carol = await XmppTestClient.login(prosody.service, prosody.host, 'carol', 'carol-secret');
  cleanups.push(() => carol.stop());
  return carol;
}

/** Carol calls alice's bare JID with JMI, as Conversations does; alice (a web party) answers. */
async function carolCallsAlice(carol: XmppTestClient, alice: WebParty): Promise<void> {
  const sid = randomUUID();
  await carol.send(xml('message', { to: ALICE, type: 'chat' }, xml('propose', { xmlns: NS_JMI, id: sid }, xml('description', { xmlns: NS_RTP, media: 'audio' }))));
  const proceed = await carol.message('proceed', NS_JMI);
  expect(proceed.attrs.from).toBe(`${ALICE}/switchboard`);
  const carolMedia = makeWebRtcTestPeer('carol', (close) => cleanups.push(close));
  const offer = jingleExport(sdpImport(await carolMedia.createOffer([PCMU]), { type: 'offer' }), { author: 'initiator' });
  await carol.request(jingleIq(`${ALICE}/switchboard`, 'session-initiate', sid, offer, { initiator: carol.jid }));
  const callId = await alice.answer();
  const accept = await carol.jingle('session-accept');
  carolMedia.acceptAnswer(sdpExport(jingleImport(accept, { author: 'responder' })));
  await Promise.all([waitConnected(carolMedia), alice.connected()]);
  expect((await sendToneBetween(carolMedia, alice.endpoint!)).received).toBeGreaterThanOrEqual(20);
  expect((await sendToneBetween(alice.endpoint!, carolMedia)).received).toBeGreaterThanOrEqual(20);
  alice.client.send({ type: 'hangup', callId });
  expect((await carol.jingle('session-terminate')).getChild('reason')?.getChild('success')).toBeDefined();
}

describe('the XMPP component in a cluster', () => {
  it('one node holds it and serves a web user on another node: presence, a JMI call with audio both ways, chat and calls out', async () => {
    const a = await startNode('node-a');
    await expect.poll(() => inspect.get(LEASE), { timeout: 10_000 }).toBe('node-a');
    const b = await startNode('node-b');
    const carol = await carolClient();
    await carol.request(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    await carol.send(xml('presence', { to: ALICE, type: 'subscribe' }));
    await carol.presence((p) => p.attrs.from === ALICE && p.attrs.type === 'subscribed');

    // Alice is on node B; node A, the component's holder, announces her from the directory.
    const alice = await login(b, 'alice');
    expect(await carol.presence((p) => p.attrs.from === `${ALICE}/switchboard` && p.attrs.type === undefined)).toBeDefined();
    await carolCallsAlice(carol, alice);

    // Alice's chat and call to carol leave through the component on node A, from alice@gw.localhost.
    alice.client.send({ type: 'message', id: 'm1', to: 'xmpp:carol@localhost', body: 'hi from node b' });
    await alice.client.next('ack', (f) => f.id === 'm1');
    expect((await carol.message('body', 'jabber:client')).attrs.from).toBe(`${ALICE}/switchboard`);
    await carol.send(xml('message', { to: ALICE, type: 'chat' }, xml('body', {}, 'hi alice')));
    expect(await alice.client.next('message', () => true, 10_000)).toMatchObject({ from: 'xmpp:carol@localhost', body: 'hi alice' });
    await alice.call('xmpp:carol@localhost');
    expect((await carol.message('propose', NS_JMI)).attrs.from).toBe(`${ALICE}/switchboard`);
    void a;
  }, 60_000);

  it('when the holder is killed, another node takes the component over and the call reaches alice again', async () => {
    const a = await startNode('node-a');
    await expect.poll(() => inspect.get(LEASE), { timeout: 10_000 }).toBe('node-a');
    const b = await startNode('node-b');
    const alice = await login(b, 'alice');
    const carol = await carolClient();
    a.kill9();
    await expect.poll(() => inspect.get(LEASE), { timeout: 10_000 }).toBe('node-b');
    // The component connects on node B (Prosody saw node A's connection close with the process).
    await b.process.waitFor(/xmpp component online/, 10_000);
    await carolCallsAlice(carol, alice);
  }, 60_000);

  it('with a service account, one node binds its own resource while each node binds its own users\' resources', async () => {
    const [a, b] = await startInProcessNodes(redis, 2, {
      xmpp: { enabled: true, server: prosody.service, service: { jid: 'gateway@localhost', password: 'gateway-secret' }, outbound: { guests: true } },
    });
    cleanups.push(() => b!.stop(), () => a!.stop());
    await expect.poll(() => [a!.xmpp!.serviceJid, b!.xmpp!.serviceJid].filter(Boolean).length, { timeout: 10_000 }).toBe(1);
    const dave = await login(b!, 'dave');
    expect(await dave.client.next('registration', (f) => f.aor === 'xmpp:gateway@localhost/dave' && f.state === 'registered', 10_000)).toBeDefined();
    // No flapping: a second node binding the same full JID would have kicked the first off by now.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect([a!.xmpp!.serviceJid, b!.xmpp!.serviceJid].filter(Boolean)).toEqual(['gateway@localhost/switchboard']);
    expect(dave.client.frames.filter((f) => f.type === 'registration' && f.reason !== undefined)).toEqual([]);
  }, 30_000);
});
