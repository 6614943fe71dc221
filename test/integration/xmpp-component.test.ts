import { createHash, randomUUID } from 'node:crypto';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { afterEach, describe, expect, it } from 'vitest';
import { jingleExport } from '../../adapters/xmpp/jingle/jingle-export.js';
import { signAccessToken } from '../../src/auth/access-token.js';
import { jingleImport } from '../../adapters/xmpp/jingle/jingle-import.js';
import { sdpExport } from '../../adapters/xmpp/jingle/sdp-export.js';
import { sdpImport } from '../../adapters/xmpp/jingle/sdp-import.js';
import { PCMU, TELEPHONE_EVENT_8K } from '../support/webrtc-test-peer.js';
import { jingleIq, sendToneBetween, waitConnected, XmppLab } from '../support/xmpp/xmpp-lab.js';

// Component mode (XEP-0114) against a real Prosody: web user alice is the bare JID
// alice@gw.localhost, which XMPP users add to their roster and call like anyone else.

const NS_JMI = 'urn:xmpp:jingle-message:0';
const NS_RTP = 'urn:xmpp:jingle:apps:rtp:1';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const ALICE = 'alice@gw.localhost';

let lab: XmppLab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
});

async function setup(xmpp: NonNullable<Parameters<typeof XmppLab.start>[0]>['xmpp'] = {}) {
  lab = await XmppLab.start({ users: { carol: 'carol-secret' }, component: true, xmpp });
  const carol = await lab.xmppClient('carol', 'carol-secret');
  return { lab, carol };
}

/**
 * XEP-0115 section 5.1 done here, apart from the gateway's own code, on what disco#info answered:
 * what a client does before it trusts caps (Conversations' caps cache, Dino's EntityCapabilities).
 */
function verifyCaps(query: Element): string {
  const octets = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  const identities = query.getChildren('identity').map((i) => `${i.attrs.category}/${i.attrs.type}/${i.attrs['xml:lang'] ?? ''}/${i.attrs.name ?? ''}<`);
  const features = query.getChildren('feature').map((f) => `${f.attrs.var}<`);
  return createHash('sha1').update([...identities.sort(octets), ...features.sort(octets)].join('')).digest('base64');
}

describe('XMPP component mode: web users as bare JIDs of the gateway’s domain', () => {
  it('a phone behind the rules is available with verified call caps to a caller allowed to call it, unavailable to others', async () => {
    // Conversations shows a call button only for an available contact whose verified caps list
    // jingle:1, rtp:1, ice-udp:1, dtls:0 and rtp:audio (its RtpCapability); Dino needs a full JID
    // with rtp:1, jingle:1 and ice-udp:1. Phones are callable only by xmpp.inbound.allowedCallers.
    const PHONE = '+15551234@gw.localhost';
    lab = await XmppLab.start({
      users: { carol: 'carol-secret', dave: 'dave-secret' },
      component: true,
      xmpp: { inbound: { rules: [{ match: '^\\+(\\d+)$', target: 'tel:+$1' }], allowedCallers: ['carol@localhost'] } },
    });
    const [carol, dave] = [await lab.xmppClient('carol', 'carol-secret'), await lab.xmppClient('dave', 'dave-secret')];
    for (const contact of [carol, dave]) {
      await contact.request(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
      await contact.send(xml('presence', { to: PHONE, type: 'subscribe' }));
    }
    const available = await carol.presence((p) => p.attrs.from === `${PHONE}/switchboard`);
    expect(available.attrs.type).toBeUndefined();
    const caps = available.getChild('c', 'http://jabber.org/protocol/caps')!;
    const disco = await carol.request(xml('iq', { type: 'get', to: `${PHONE}/switchboard` }, xml('query', { xmlns: NS_DISCO_INFO, node: `${caps.attrs.node}#${caps.attrs.ver}` })));
    const query = disco.getChild('query', NS_DISCO_INFO)!;
    expect(verifyCaps(query)).toBe(caps.attrs.ver);
    const features = query.getChildren('feature').map((f) => f.attrs.var);
    expect(features).toEqual(expect.arrayContaining(['urn:xmpp:jingle:1', NS_RTP, 'urn:xmpp:jingle:transports:ice-udp:1', 'urn:xmpp:jingle:apps:dtls:0', 'urn:xmpp:jingle:apps:rtp:audio']));
    expect((await dave.presence((p) => p.attrs.from === `${PHONE}/switchboard`)).attrs.type).toBe('unavailable');
    // The gateway going away takes the phone's presence with it.
    await lab.gateway.stop();
    expect((await carol.presence((p) => p.attrs.from === `${PHONE}/switchboard` && p.attrs.type === 'unavailable')).attrs.type).toBe('unavailable');
  }, 30_000);

  it('carol subscribes to alice@gw.localhost, sees her come online with caps and go, and disco shows the call features', async () => {
    // alice logs in with a token: only a token login may replace her session (guests never replace anyone).
    const secret = 'component-test-secret';
    lab = await XmppLab.start({ users: { carol: 'carol-secret' }, component: true, config: { auth: { secret } } });
    const carol = await lab.xmppClient('carol', 'carol-secret');
    const login = async () => ({ token: await signAccessToken({ secret, user: 'alice', ttlSeconds: 60 }) });
    await carol.request(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    await carol.send(xml('presence', { to: ALICE, type: 'subscribe' }));
    await carol.presence((p) => p.attrs.from === ALICE && p.attrs.type === 'subscribed');
    const alice = await lab.webUser('alice', { login: await login() });
    const online = await carol.presence((p) => p.attrs.from === `${ALICE}/switchboard` && p.attrs.type === undefined);
    expect(online.getChild('c', 'http://jabber.org/protocol/caps')).toBeDefined();
    const disco = await carol.request(xml('iq', { type: 'get', to: `${ALICE}/switchboard` }, xml('query', { xmlns: NS_DISCO_INFO })));
    const features = disco.getChild('query', NS_DISCO_INFO)!.getChildren('feature').map((f) => f.attrs.var);
    expect(features).toEqual(expect.arrayContaining(['urn:xmpp:jingle:1', NS_RTP, 'urn:xmpp:jingle-message:0', 'urn:xmpp:jingle:apps:dtls:0']));
    // alice logs in again elsewhere (the first connection is replaced): she stays available.
    const seen = carol.presences.length;
    const again = await lab.webUser('alice', { login: await login() });
    await alice.closed;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(carol.presences.slice(seen).some((p) => p.attrs.from === `${ALICE}/switchboard` && p.attrs.type === 'unavailable')).toBe(false);
    again.close();
    await carol.presence((p) => p.attrs.from === `${ALICE}/switchboard` && p.attrs.type === 'unavailable');
  }, 30_000);

  it('carol calls the bare JID alice@gw.localhost with JMI, as Conversations does: audio both ways', async () => {
    const { lab, carol } = await setup();
    const alice = await lab.webUser('alice');
    const sid = randomUUID();
    await carol.send(xml('message', { to: ALICE, type: 'chat' }, xml('propose', { xmlns: NS_JMI, id: sid }, xml('description', { xmlns: NS_RTP, media: 'audio' }))));
    await carol.message('ringing', NS_JMI);
    const proceed = await carol.message('proceed', NS_JMI);
    expect(proceed.attrs.from).toBe(`${ALICE}/switchboard`);
    const carolMedia = lab.webrtcPeer('carol');
    const offer = jingleExport(sdpImport(await carolMedia.createOffer([PCMU, TELEPHONE_EVENT_8K]), { type: 'offer' }), { author: 'initiator' });
    await carol.request(jingleIq(`${ALICE}/switchboard`, 'session-initiate', sid, offer, { initiator: carol.jid }));
    const incoming = await alice.next('incoming', () => true, 10_000);
    expect(incoming.from).toBe('xmpp:carol@localhost');
    const aliceMedia = lab.webrtcPeer('alice');
    alice.send({ type: 'accept', callId: incoming.callId, sdp: await aliceMedia.answerOffer(incoming.sdp, [PCMU, TELEPHONE_EVENT_8K]) });
    const accept = await carol.jingle('session-accept');
    carolMedia.acceptAnswer(sdpExport(jingleImport(accept, { author: 'responder' })));
    await Promise.all([waitConnected(carolMedia), waitConnected(aliceMedia)]);
    expect((await sendToneBetween(carolMedia, aliceMedia)).received).toBeGreaterThanOrEqual(20);
    expect((await sendToneBetween(aliceMedia, carolMedia)).received).toBeGreaterThanOrEqual(20);
    alice.send({ type: 'hangup', callId: incoming.callId });
    expect((await carol.jingle('session-terminate')).getChild('reason')?.getChild('success')).toBeDefined();
  }, 45_000);

  it('alice calls and chats from alice@gw.localhost; other local parts go where the rules say', async () => {
    const { lab, carol } = await setup({ inbound: { rules: [{ match: '^\\+(\\d+)$', target: 'web:operator' }] } });
    const alice = await lab.webUser('alice');
    const operator = await lab.webUser('operator');

    alice.send({ type: 'message', id: 'm1', to: 'xmpp:carol@localhost', body: 'hi from the component' });
    await alice.next('ack', (f) => f.id === 'm1');
    expect((await carol.message('body', 'jabber:client')).attrs.from).toBe(`${ALICE}/switchboard`);
    await carol.send(xml('message', { to: ALICE, type: 'chat' }, xml('body', {}, 'hi alice')));
    expect(await alice.next('message', () => true, 10_000)).toMatchObject({ from: 'xmpp:carol@localhost', body: 'hi alice' });

    const callId = randomUUID();
    alice.send({ type: 'call', id: 'dial', callId, to: 'xmpp:carol@localhost', sdp: await lab.webrtcPeer('alice').createOffer([PCMU]) });
    const propose = await carol.message('propose', NS_JMI);
    expect(propose.attrs.from).toBe(`${ALICE}/switchboard`);

    // +15551234@gw.localhost rings web:operator (xmpp.inbound.rules on the local part).
    const sid = randomUUID();
    await carol.send(xml('message', { to: '+15551234@gw.localhost', type: 'chat' }, xml('propose', { xmlns: NS_JMI, id: sid }, xml('description', { xmlns: NS_RTP, media: 'audio' }))));
    const proceed = await carol.message('proceed', NS_JMI);
    expect(proceed.attrs.from).toBe('+15551234@gw.localhost/switchboard');
    const offer = jingleExport(sdpImport(await lab.webrtcPeer('carol').createOffer([PCMU]), { type: 'offer' }), { author: 'initiator' });
    await carol.request(jingleIq(String(proceed.attrs.from), 'session-initiate', sid, offer, { initiator: carol.jid }));
    expect(await operator.next('incoming', () => true, 10_000)).toMatchObject({ from: 'xmpp:carol@localhost' });
  }, 45_000);
});
