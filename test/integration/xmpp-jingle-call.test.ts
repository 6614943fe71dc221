import { randomUUID } from 'node:crypto';
import { xml } from '@xmpp/client';
import { afterEach, describe, expect, it } from 'vitest';
import { capsVer } from '../../adapters/xmpp/caps.js';
import { jingleExport } from '../../adapters/xmpp/jingle/jingle-export.js';
import { jingleImport } from '../../adapters/xmpp/jingle/jingle-import.js';
import { sdpExport } from '../../adapters/xmpp/jingle/sdp-export.js';
import { sdpImport } from '../../adapters/xmpp/jingle/sdp-import.js';
import type { Gateway } from '../../src/gateway.js';
import type { WebRtcEndpoint } from '../../src/media/webrtc-endpoint.js';
import { startTestGateway } from '../support/test-gateway.js';
import { makeWebRtcTestPeer, PCMU, TELEPHONE_EVENT_8K } from '../support/webrtc-test-peer.js';
import { WsTestClient } from '../support/ws-test-client.js';
import { startProsody, type RunningProsody } from '../support/xmpp/prosody.js';
import { XmppTestClient } from '../support/xmpp/xmpp-test-client.js';
import { jingleIq, stanzaErrorOf, waitConnected } from '../support/xmpp/xmpp-lab.js';

// A real XMPP server (Prosody on loopback), the gateway logged in as the service account
// `gateway@localhost`, and carol calling web user alice the way Conversations does: JMI propose to
// gateway@localhost/alice, then Jingle with an offer from a real node-datachannel endpoint.

const NS_JINGLE = 'urn:xmpp:jingle:1';
const NS_JMI = 'urn:xmpp:jingle-message:0';
const NS_RTP = 'urn:xmpp:jingle:apps:rtp:1';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const GATEWAY_JID = 'gateway@localhost/switchboard';

let prosody: RunningProsody | undefined;
let gateway: Gateway | undefined;
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await gateway?.stop();
  gateway = undefined;
  await prosody?.stop();
  prosody = undefined;
});

async function setup(): Promise<{ carol: XmppTestClient }> {
  prosody = await startProsody({ users: { gateway: 'gateway-secret', carol: 'carol-secret' } });
  gateway = await startTestGateway({
    xmpp: { enabled: true, server: prosody.service, service: { jid: 'gateway@localhost', password: 'gateway-secret' }, outbound: { guests: true } },
  });
  const carol = await XmppTestClient.login(prosody.service, prosody.host, 'carol', 'carol-secret');
  cleanups.push(() => carol.stop());
  return { carol };
}

/** A web user, once the gateway bound its resource of the service account (`gateway@localhost/<name>`). */
async function webUser(name: string): Promise<WsTestClient> {
  const client = await WsTestClient.login(gateway!.httpPort, name);
  cleanups.push(() => client.close());
  await client.next('registration', (r) => r.state === 'registered' && r.aor === `xmpp:gateway@localhost/${name}`, 10_000);
  return client;
}

function webrtcPeer(name: string): WebRtcEndpoint {
  return makeWebRtcTestPeer(name, (close) => cleanups.push(close));
}

/** JMI propose to `to` (XEP-0353 section 3.1) and wait for proceed; returns the JID that proceeded. */
async function propose(carol: XmppTestClient, to: string, sid: string): Promise<string> {
  const description = xml('description', { xmlns: NS_RTP, media: 'audio' });
  await carol.send(xml('message', { to, type: 'chat' }, xml('propose', { xmlns: NS_JMI, id: sid }, description)));
  const ringing = await carol.message('ringing', NS_JMI);
  expect(ringing.getChild('ringing', NS_JMI)?.attrs.id).toBe(sid);
  const proceed = await carol.message('proceed', NS_JMI);
  expect(proceed.getChild('proceed', NS_JMI)?.attrs.id).toBe(sid);
  return String(proceed.attrs.from);
}

async function initiate(carol: XmppTestClient, to: string, sid: string, endpoint: WebRtcEndpoint): Promise<void> {
  const offer = await endpoint.createOffer([PCMU, TELEPHONE_EVENT_8K]);
  const contents = jingleExport(sdpImport(offer, { type: 'offer' }), { author: 'initiator' });
  await carol.request(jingleIq(to, 'session-initiate', sid, contents, { initiator: carol.jid }));
}

/** Carol proposes and initiates a call to web user alice; resolves once alice's page sees it ringing. */
async function carolCallsAlice() {
  const { carol } = await setup();
  const alice = await webUser('alice');
  const sid = randomUUID();
  const gatewayJid = await propose(carol, 'gateway@localhost/alice', sid);
  await initiate(carol, gatewayJid, sid, webrtcPeer('carol'));
  const incoming = await alice.next('incoming', () => true, 10_000);
  return { carol, alice, sid, gatewayJid, incoming };
}

describe('entity capabilities (XEP-0115)', () => {
  it('computes the verification string of the XEP-0115 section 5.2 example', () => {
    const features = ['http://jabber.org/protocol/caps', 'http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items', 'http://jabber.org/protocol/muc'];
    expect(capsVer([{ category: 'client', type: 'pc', name: 'Exodus 0.9.1' }], features)).toBe('QgayPKawpkPSDYmwT/WM94uAlu0=');
  });
});

describe('XMPP clients call web users (JMI + Jingle via Prosody)', () => {
  it('answers disco#info with the Jingle call features', async () => {
    const { carol } = await setup();
    const result = await carol.request(xml('iq', { type: 'get', to: GATEWAY_JID }, xml('query', { xmlns: NS_DISCO_INFO })));
    const features = result.getChild('query', NS_DISCO_INFO)!.getChildren('feature').map((f) => f.attrs.var as string);
    for (const feature of [NS_JINGLE, NS_RTP, 'urn:xmpp:jingle:apps:rtp:audio', 'urn:xmpp:jingle:transports:ice-udp:1', 'urn:xmpp:jingle:apps:dtls:0', NS_JMI, 'urn:ietf:rfc:3264']) {
      expect(features).toContain(feature);
    }
  }, 30_000);

  it('carol calls alice: ICE/DTLS connects end to end, and carol hangs up', async () => {
    const { carol } = await setup();
    const alice = await webUser('alice');
    const sid = randomUUID();
    const gatewayJid = await propose(carol, 'gateway@localhost/alice', sid);
    // Alice's own resource of the service account took the call (it is online with caps).
    expect(gatewayJid).toBe('gateway@localhost/alice');
    const carolMedia = webrtcPeer('carol');
    await initiate(carol, gatewayJid, sid, carolMedia);

    const incoming = await alice.next('incoming', () => true, 10_000);
    expect(incoming.from).toBe('xmpp:carol@localhost');
    const aliceMedia = webrtcPeer('alice');
    alice.send({ type: 'ringing', callId: incoming.callId });
    const answer = await aliceMedia.answerOffer(incoming.sdp, [PCMU, TELEPHONE_EVENT_8K]);
    alice.send({ type: 'accept', callId: incoming.callId, sdp: answer });

    const accept = await carol.jingle('session-accept');
    expect(accept.attrs.sid).toBe(sid);
    carolMedia.acceptAnswer(sdpExport(jingleImport(accept, { author: 'responder' })));
    await Promise.all([waitConnected(carolMedia), waitConnected(aliceMedia)]);

    // Trickle both ways (XEP-0176 section 6): transport-info <-> candidate frames.
    const mid = accept.getChild('content')!.attrs.name as string;
    const jingleCandidate = xml('candidate', { component: 1, foundation: '9', generation: 0, id: 'c1', ip: '127.0.0.1', network: 0, port: 40000, priority: 2130706431, protocol: 'udp', type: 'host' });
    const transport = xml('transport', { xmlns: 'urn:xmpp:jingle:transports:ice-udp:1' }, jingleCandidate);
    await carol.request(jingleIq(gatewayJid, 'transport-info', sid, [xml('content', { creator: 'initiator', name: mid }, transport)]));
    const trickled = await alice.next('candidate', () => true, 10_000);
    expect(trickled.candidate).toMatchObject({ candidate: expect.stringMatching(/^candidate:9 1 udp 2130706431 127\.0\.0\.1 40000 typ host/), sdpMid: mid });
    alice.send({ type: 'candidate', callId: incoming.callId, candidate: { candidate: 'candidate:7 1 udp 2130706431 127.0.0.1 40001 typ host', sdpMid: mid, sdpMLineIndex: 0 } });
    const info = await carol.jingle('transport-info');
    const sent = info.getChild('content')!.getChild('transport', 'urn:xmpp:jingle:transports:ice-udp:1')!.getChild('candidate')!;
    expect(sent.attrs).toMatchObject({ foundation: '7', ip: '127.0.0.1', port: '40001', type: 'host' });

    await carol.request(jingleIq(gatewayJid, 'session-terminate', sid, [xml('reason', {}, xml('success'))]));
    expect(await alice.next('ended', () => true, 10_000)).toMatchObject({ callId: incoming.callId, reason: 'hangup' });
  }, 40_000);

  it('alice rejecting as busy sends session-terminate <busy/> and JMI finish to carol', async () => {
    const { carol, alice, sid, incoming } = await carolCallsAlice();
    alice.send({ type: 'reject', callId: incoming.callId, reason: 'busy' });
    const terminate = await carol.jingle('session-terminate');
    expect(terminate.getChild('reason')?.getChild('busy')).toBeDefined();
    expect((await carol.message('finish', NS_JMI)).getChild('finish', NS_JMI)?.attrs.id).toBe(sid);
  }, 30_000);

  it('carol giving up before alice answers (session-terminate, then JMI retract) ends the call for alice as cancelled', async () => {
    const { carol, alice, sid, gatewayJid, incoming } = await carolCallsAlice();
    await carol.request(jingleIq(gatewayJid, 'session-terminate', sid, [xml('reason', {}, xml('cancel'))]));
    expect(await alice.next('ended', () => true, 10_000)).toMatchObject({ callId: incoming.callId, reason: 'cancelled' });
    // A retract for a proposal that never got a session-initiate is simply forgotten.
    const other = randomUUID();
    await propose(carol, 'gateway@localhost/alice', other);
    await carol.send(xml('message', { to: 'gateway@localhost/alice', type: 'chat' }, xml('retract', { xmlns: NS_JMI, id: other })));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await stanzaErrorOf(initiate(carol, gatewayJid, other, webrtcPeer('carol-2')))).toBe('item-not-found');
  }, 30_000);

  it('a call to a web user who is not online is terminated with a reason', async () => {
    const { carol } = await setup();
    const sid = randomUUID();
    const gatewayJid = await propose(carol, 'gateway@localhost/bob', sid);
    await initiate(carol, gatewayJid, sid, webrtcPeer('carol'));
    const terminate = await carol.jingle('session-terminate');
    expect(terminate.attrs.sid).toBe(sid);
    expect(terminate.getChild('reason')?.getChildElements()[0]?.name).toBe('gone');
  }, 30_000);

  it('a session-initiate without a proposal gets item-not-found; malformed Jingle gets bad-request', async () => {
    const { carol } = await setup();
    expect(await stanzaErrorOf(initiate(carol, GATEWAY_JID, randomUUID(), webrtcPeer('carol')))).toBe('item-not-found');

    const sid = randomUUID();
    await propose(carol, 'gateway@localhost/alice', sid);
    const noDescription = xml('content', { creator: 'initiator', name: '0' }, xml('transport', { xmlns: 'urn:xmpp:jingle:transports:ice-udp:1', ufrag: 'a', pwd: 'b' }));
    expect(await stanzaErrorOf(carol.request(jingleIq(GATEWAY_JID, 'session-initiate', sid, [noDescription])))).toBe('bad-request');
    expect(await stanzaErrorOf(carol.request(xml('iq', { type: 'set', to: GATEWAY_JID }, xml('jingle', { xmlns: NS_JINGLE }))))).toBe('bad-request');
    expect(await stanzaErrorOf(carol.request(jingleIq(GATEWAY_JID, 'transport-info', 'nope', [])))).toBe('item-not-found');
    // Still alive.
    const result = await carol.request(xml('iq', { type: 'get', to: GATEWAY_JID }, xml('query', { xmlns: NS_DISCO_INFO })));
    expect(result.getChild('query', NS_DISCO_INFO)).toBeDefined();
  }, 30_000);
});
