import { randomUUID } from 'node:crypto';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { afterEach, describe, expect, it } from 'vitest';
import { jingleExport } from '../../adapters/xmpp/jingle/jingle-export.js';
import { jingleImport } from '../../adapters/xmpp/jingle/jingle-import.js';
import { sdpExport } from '../../adapters/xmpp/jingle/sdp-export.js';
import { sdpImport } from '../../adapters/xmpp/jingle/sdp-import.js';
import { PCMU, TELEPHONE_EVENT_8K } from '../support/webrtc-test-peer.js';
import type { WsTestClient } from '../support/ws-test-client.js';
import { sendToneBetween, waitConnected, XmppLab } from '../support/xmpp/xmpp-lab.js';
import type { XmppTestClient } from '../support/xmpp/xmpp-test-client.js';

// Web user alice calls XMPP user carol through the gateway and a real Prosody: JMI to carol's
// bare JID rings both of her devices (as Conversations and Dino are rung), the first proceed
// gets the session-initiate, media is relayed end to end between two node-datachannel peers.

const NS_JINGLE = 'urn:xmpp:jingle:1';
const NS_JMI = 'urn:xmpp:jingle-message:0';
const NS_RTP = 'urn:xmpp:jingle:apps:rtp:1';
const NS_RECEIPTS = 'urn:xmpp:receipts';

let lab: XmppLab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
});

async function setup() {
  lab = await XmppLab.start({ users: { carol: 'carol-secret' }, prosody: { carbons: true } });
  const phone = await lab.xmppClient('carol', 'carol-secret', 'phone');
  const tablet = await lab.xmppClient('carol', 'carol-secret', 'tablet');
  await tablet.enableCarbons();
  const alice = await lab.webUser('alice');
  return { lab, phone, tablet, alice };
}

/** The offer each call was placed with, by call id. */
const dialled = new Map<string, string>();

async function dial(alice: WsTestClient, to: string, offer: string): Promise<string> {
  const callId = randomUUID();
  dialled.set(callId, offer);
  alice.send({ type: 'call', id: 'dial', callId, to, sdp: offer });
  await alice.next('ack', (f) => f.id === 'dial');
  return callId;
}

function jmi(to: string, name: string, sid: string, ...children: Element[]): Element {
  return xml('message', { to, type: 'chat' }, xml(name, { xmlns: NS_JMI, id: sid }, ...children));
}

/** carol's device answers a session-initiate with a real node-datachannel answer. */
async function acceptOn(device: XmppTestClient, initiate: Element, from: string, lab: XmppLab) {
  const carolMedia = lab.webrtcPeer(`carol-${device.jid}`);
  const answer = await carolMedia.answerOffer(sdpExport(jingleImport(initiate, { author: 'initiator' })), [PCMU, TELEPHONE_EVENT_8K]);
  const contents = jingleExport(sdpImport(answer, { type: 'answer' }), { author: 'responder' });
  const jingle = xml('jingle', { xmlns: NS_JINGLE, action: 'session-accept', sid: initiate.attrs.sid, responder: device.jid }, ...contents);
  await device.request(xml('iq', { type: 'set', to: from }, jingle));
  return carolMedia;
}

describe('web users call XMPP users (JMI + Jingle via Prosody)', () => {
  it('rings both devices of carol; the first proceed wins, the late one is retracted; audio flows both ways; alice hangs up', async () => {
    const { lab, phone, tablet, alice } = await setup();
    const aliceMedia = lab.webrtcPeer('alice');
    const callId = await dial(alice, 'xmpp:carol@localhost', await aliceMedia.createOffer([PCMU, TELEPHONE_EVENT_8K]));

    const [onPhone, onTablet] = await Promise.all([phone.message('propose', NS_JMI), tablet.message('propose', NS_JMI)]);
    const propose = onPhone.getChild('propose', NS_JMI)!;
    const sid = String(propose.attrs.id);
    expect(onTablet.getChild('propose', NS_JMI)!.attrs.id).toBe(sid);
    // XEP-0353 section 3.1: from the web user's own resource, one description per medium, type chat.
    expect(onPhone.attrs).toMatchObject({ from: 'gateway@localhost/alice', type: 'chat' });
    expect(propose.getChildren('description', NS_RTP).map((d) => d.attrs.media)).toEqual(['audio']);

    await phone.send(jmi('gateway@localhost/alice', 'ringing', sid));
    expect(await alice.next('ringing', (f) => f.callId === callId, 10_000)).toBeDefined();
    await phone.send(jmi('gateway@localhost/alice', 'proceed', sid));
    const initiate = await phone.jingle('session-initiate');
    expect(initiate.attrs).toMatchObject({ sid, initiator: 'gateway@localhost/alice' });
    // The tablet sees the phone's proceed as a sent carbon (XEP-0280): that is how Conversations and Dino
    // stop ringing on the other devices ("answered elsewhere"); it works because JMI messages are type chat.
    const carbonOf = (m: Element) => m.getChild('sent', 'urn:xmpp:carbons:2')?.getChild('forwarded', 'urn:xmpp:forward:0')?.getChild('message');
    const carbon = await tablet.messageWhere((m) => carbonOf(m)?.getChild('proceed', NS_JMI) !== undefined, 'a carbon of the proceed');
    expect(carbonOf(carbon)!.getChild('proceed', NS_JMI)!.attrs.id).toBe(sid);
    // The tablet was too late: it is told the call is no longer for it.
    await tablet.send(jmi('gateway@localhost/alice', 'proceed', sid));
    expect((await tablet.message('retract', NS_JMI)).getChild('retract', NS_JMI)!.attrs.id).toBe(sid);
    expect(tablet.jingles).toHaveLength(0);

    const carolMedia = await acceptOn(phone, initiate, 'gateway@localhost/alice', lab);
    const answered = await alice.next('answered', (f) => f.callId === callId, 10_000);
    aliceMedia.acceptAnswer(answered.sdp);
    await Promise.all([waitConnected(aliceMedia), waitConnected(carolMedia)]);
    const toCarol = await sendToneBetween(aliceMedia, carolMedia);
    const toAlice = await sendToneBetween(carolMedia, aliceMedia);
    expect(toCarol.received).toBeGreaterThanOrEqual(20);
    expect(toAlice.received).toBeGreaterThanOrEqual(20);
    expect(toCarol.rms).toBeGreaterThan(3000);
    expect(toAlice.rms).toBeGreaterThan(3000);

    alice.send({ type: 'hangup', callId });
    const terminate = await phone.jingle('session-terminate');
    expect(terminate.getChild('reason')?.getChild('success')).toBeDefined();
    expect((await phone.message('finish', NS_JMI)).getChild('finish', NS_JMI)!.attrs.id).toBe(sid);
  }, 60_000);

  it('a delivery receipt for the propose rings the web caller, as Conversations 2.12 signals ringing', async () => {
    const { lab, phone, alice } = await setup();
    const callId = await dial(alice, 'xmpp:carol@localhost', await lab.webrtcPeer('alice').createOffer([PCMU]));
    const propose = await phone.message('propose', NS_JMI);
    // The propose asks for a receipt; Conversations before <ringing/> answers with only that
    // (XEP-0184 section 5.4: the id of the message received), and shows the call as ringing.
    expect(propose.getChild('request', NS_RECEIPTS)).toBeDefined();
    expect(propose.attrs.id).toMatch(/^jm-propose-/);
    await phone.send(xml('message', { to: 'gateway@localhost/alice' }, xml('received', { xmlns: NS_RECEIPTS, id: String(propose.attrs.id) })));
    expect(await alice.next('ringing', (f) => f.callId === callId, 10_000)).toMatchObject({ callId });
  }, 30_000);

  it("carol's reject (busy) ends alice's call as busy", async () => {
    const { lab, phone, alice } = await setup();
    const callId = await dial(alice, 'xmpp:carol@localhost', await lab.webrtcPeer('alice').createOffer([PCMU]));
    const sid = String((await phone.message('propose', NS_JMI)).getChild('propose', NS_JMI)!.attrs.id);
    await phone.send(jmi('gateway@localhost/alice', 'reject', sid, xml('reason', { xmlns: NS_JINGLE }, xml('busy'))));
    expect(await alice.next('ended', (f) => f.callId === callId, 10_000)).toMatchObject({ reason: 'busy' });
  }, 30_000);

  it('alice hanging up before anyone proceeds retracts the proposal on every device', async () => {
    const { lab, phone, tablet, alice } = await setup();
    const callId = await dial(alice, 'xmpp:carol@localhost', await lab.webrtcPeer('alice').createOffer([PCMU]));
    const sid = String((await phone.message('propose', NS_JMI)).getChild('propose', NS_JMI)!.attrs.id);
    alice.send({ type: 'hangup', callId });
    for (const device of [phone, tablet]) expect((await device.message('retract', NS_JMI)).getChild('retract', NS_JMI)!.attrs.id).toBe(sid);
  }, 30_000);

  it('simultaneous proposes are settled by XEP-0353 tie-break: the lower session id wins', async () => {
    const { lab, phone, alice } = await setup();
    const first = await dial(alice, 'xmpp:carol@localhost', await lab.webrtcPeer('alice').createOffer([PCMU]));
    const ours = String((await phone.message('propose', NS_JMI)).getChild('propose', NS_JMI)!.attrs.id);
    const description = () => xml('description', { xmlns: NS_RTP, media: 'audio' });
    // carol calls alice at the same moment with a higher sid ('~' sorts after every UUID character): ours wins.
    await phone.send(jmi('gateway@localhost/alice', 'propose', `~${ours}`, description()));
    const rejected = (await phone.message('reject', NS_JMI)).getChild('reject', NS_JMI)!;
    expect(rejected.attrs.id).toBe(`~${ours}`);
    expect(rejected.getChild('tie-break', NS_JMI)).toBeDefined();
    expect(lab.gateway.calls.get(first)).toBeDefined();

    // Now with a lower sid ('-' sorts before them): theirs wins, ours is retracted, alice's call ends and carol's rings her.
    const theirs = `-${randomUUID()}`;
    await phone.send(jmi('gateway@localhost/alice', 'propose', theirs, description()));
    const retract = (await phone.message('retract', NS_JMI)).getChild('retract', NS_JMI)!;
    expect(retract.attrs.id).toBe(ours);
    expect(retract.getChild('tie-break', NS_JMI)).toBeDefined();
    expect(await alice.next('ended', (f) => f.callId === first, 10_000)).toMatchObject({ reason: 'busy' });
    expect((await phone.message('proceed', NS_JMI)).getChild('proceed', NS_JMI)!.attrs.id).toBe(theirs);
  }, 30_000);

  it('a full JID is called with a direct session-initiate (no JMI), for clients without it', async () => {
    const { lab, phone, tablet, alice } = await setup();
    const aliceMedia = lab.webrtcPeer('alice');
    const callId = await dial(alice, 'xmpp:carol@localhost/phone', await aliceMedia.createOffer([PCMU]));
    const initiate = await phone.jingle('session-initiate');
    expect(phone.messages.some((m) => m.getChild('propose', NS_JMI))).toBe(false);
    expect(tablet.jingles).toHaveLength(0);
    const carolMedia = await acceptOn(phone, initiate, 'gateway@localhost/alice', lab);
    const answeredSdp = (await alice.next('answered', (f) => f.callId === callId, 10_000)).sdp;
    aliceMedia.acceptAnswer(answeredSdp);
    await Promise.all([waitConnected(aliceMedia), waitConnected(carolMedia)]);
    expect((await sendToneBetween(carolMedia, aliceMedia)).received).toBeGreaterThanOrEqual(20);

    // alice holds and resumes (browser re-offers): carol is told with session-info, and alice gets an
    // answer in carol's name with carol's ICE credentials and DTLS role and the reciprocal direction.
    const carolUfrag = /a=ice-ufrag:(\S+)/.exec(answeredSdp)![1]!;
    const carolSetup = /a=setup:(\S+)/.exec(answeredSdp)![1]!;
    const aliceOffer = dialled.get(callId)!;
    alice.send({ type: 'offer', callId, sdp: aliceOffer.replace(/a=sendrecv/g, 'a=sendonly') });
    expect((await phone.jingle('session-info')).getChild('hold', 'urn:xmpp:jingle:apps:rtp:info:1')).toBeDefined();
    const held = await alice.next('answer', (f) => f.callId === callId, 10_000);
    expect(held.sdp).toMatch(/a=recvonly/);
    expect(held.sdp).toContain(`a=setup:${carolSetup}`);
    expect(held.sdp).toContain(`a=ice-ufrag:${carolUfrag}`);
    alice.send({ type: 'offer', callId, sdp: aliceOffer });
    expect((await phone.jingle('session-info')).getChild('active', 'urn:xmpp:jingle:apps:rtp:info:1')).toBeDefined();
    expect((await alice.next('answer', (f) => f.callId === callId, 10_000)).sdp).toMatch(/a=sendrecv/);

    // carol hangs up with session-terminate: alice's call ends as a hang-up.
    await phone.request(xml('iq', { type: 'set', to: 'gateway@localhost/alice' }, xml('jingle', { xmlns: NS_JINGLE, action: 'session-terminate', sid: initiate.attrs.sid }, xml('reason', {}, xml('success')))));
    expect(await alice.next('ended', (f) => f.callId === callId, 10_000)).toMatchObject({ reason: 'hangup' });
  }, 45_000);

  it('a full JID that is not online ends the call as offline', async () => {
    const { lab, alice } = await setup();
    const callId = randomUUID();
    alice.send({ type: 'call', id: 'dial', callId, to: 'xmpp:carol@localhost/elsewhere', sdp: await lab.webrtcPeer('alice').createOffer([PCMU]) });
    const outcome = await Promise.race([alice.next('ended', (f) => f.callId === callId, 10_000), alice.next('error', (f) => f.id === 'dial', 10_000)]);
    expect(outcome).toMatchObject(outcome.type === 'ended' ? { reason: 'offline' } : { code: 'offline' });
  }, 30_000);
});
