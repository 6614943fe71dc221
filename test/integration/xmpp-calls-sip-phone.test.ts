import { randomUUID } from 'node:crypto';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { afterEach, describe, expect, it } from 'vitest';
import { jingleExport } from '../../adapters/xmpp/jingle/jingle-export.js';
import { jingleImport } from '../../adapters/xmpp/jingle/jingle-import.js';
import { sdpExport } from '../../adapters/xmpp/jingle/sdp-export.js';
import { sdpImport } from '../../adapters/xmpp/jingle/sdp-import.js';
import { startBaresip, type Baresip } from '../support/sip/baresip.js';
import { allocatePort } from '../support/sip/ports.js';
import { PCMU, TELEPHONE_EVENT_8K } from '../support/webrtc-test-peer.js';
import { measurePcmu, sendTone, takeTrickledCandidates, waitConnected, XmppLab } from '../support/xmpp/xmpp-lab.js';
import type { XmppTestClient } from '../support/xmpp/xmpp-test-client.js';

// An XMPP client calls a plain-RTP SIP phone (baresip: a 440 Hz tone as microphone, a recorder as
// speaker) through the gateway: JMI to `gateway@localhost/+15551234`, which an inbound rule maps
// to the phone's SIP URI. The XMPP side does ICE + DTLS-SRTP and the phone cannot, so the gateway
// anchors the media: node-datachannel towards the XMPP client, RTP/AVP towards the phone.

const NS_JINGLE = 'urn:xmpp:jingle:1';
const NS_JMI = 'urn:xmpp:jingle-message:0';
const NS_RTP = 'urn:xmpp:jingle:apps:rtp:1';

let lab: XmppLab | undefined;
let phone: Baresip | undefined;
afterEach(async () => {
  await phone?.stop();
  phone = undefined;
  await lab?.stop();
  lab = undefined;
});

/** Starts baresip and a lab whose inbound rule sends `gateway@localhost/+15551234` to it; carol proposes and is told to proceed. */
async function carolProposesToThePhone(media: string[] = ['audio']): Promise<{ lab: XmppLab; carol: XmppTestClient; sid: string; gatewayJid: string }> {
  phone = await startBaresip({ user: '15551234', toneHz: 440 });
  lab = await XmppLab.start({
    users: { carol: 'carol-secret', mallory: 'mallory-secret' },
    // Only listed callers reach phones through the service account (toll-fraud protection).
    xmpp: { inbound: { rules: [{ match: '^\\+(\\d+)$', target: phone.uri }], allowedCallers: ['carol@localhost'] } },
    config: { sip: { enabled: true, port: await allocatePort() } },
  });
  const carol = await lab.xmppClient('carol', 'carol-secret');
  const sid = randomUUID();
  const descriptions = media.map((kind) => xml('description', { xmlns: NS_RTP, media: kind }));
  await carol.send(xml('message', { to: 'gateway@localhost/+15551234', type: 'chat' }, xml('propose', { xmlns: NS_JMI, id: sid }, ...descriptions)));
  const proceed = await carol.message('proceed', NS_JMI);
  return { lab, carol, sid, gatewayJid: String(proceed.attrs.from) };
}

/**
 * Dino's session-initiate shape (JINGLE.md section 2.2): no BUNDLE group, audio and video each with
 * a transport of its own (own ufrag/pwd), components 1 and 2, SDES offered beside DTLS. The audio
 * content is a real node-datachannel offer; the video transport goes nowhere.
 */
function dinoShaped(offerSdp: string): Element[] {
  const model = sdpImport(offerSdp, { type: 'offer' });
  const audio = model.contents[0]!;
  const video = { ...audio, mid: 'video', kind: 'video' as const, codecs: [{ id: 98, name: 'VP8', clockrate: 90000, parameters: [], feedback: [] }], sources: [], ice: { ...audio.ice!, ufrag: 'dinoVideoUfrag', pwd: 'dinoVideoPasswordForTests1', candidates: [] } };
  const contents = jingleExport({ groups: [], contents: [audio, video] }, { author: 'initiator' });
  for (const content of contents) content.attrs.senders = 'both';
  const audioDescription = contents[0]!.getChild('description', NS_RTP)!;
  audioDescription.append(xml('encryption', {}, xml('crypto', { 'crypto-suite': 'AES_CM_128_HMAC_SHA1_80', 'key-params': 'inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoUE9TSVg', tag: '1' })));
  const transport = contents[0]!.getChild('transport', 'urn:xmpp:jingle:transports:ice-udp:1')!;
  for (const candidate of transport.getChildren('candidate')) transport.append(xml('candidate', { ...candidate.attrs, component: '2', id: `${String(candidate.attrs.id)}-rtcp`, port: String(Number(candidate.attrs.port) + 1) }));
  return contents;
}

describe('XMPP client → SIP phone through the anchor', () => {
  it('a caller who is not in xmpp.inbound.allowedCallers is declined before any SIP is sent', async () => {
    const { lab } = await carolProposesToThePhone();
    const mallory = await lab.xmppClient('mallory', 'mallory-secret');
    const sid = randomUUID();
    await mallory.send(xml('message', { to: 'gateway@localhost/+15551234', type: 'chat' }, xml('propose', { xmlns: NS_JMI, id: sid }, xml('description', { xmlns: NS_RTP, media: 'audio' }))));
    const reject = await mallory.message('reject', NS_JMI);
    expect(reject.getChild('reject', NS_JMI)!.getChild('reason')!.getChild('decline')).toBeDefined();
    expect(mallory.messages.some((m) => m.getChild('proceed', NS_JMI))).toBe(false);
    expect(lab.gateway.calls.size).toBe(0);
  }, 30_000);

  it('a Dino-shaped call (no BUNDLE, a transport per content, audio + video) is answered audio only and has audio both ways', async () => {
    // Dino proposes what it will initiate (its JMI propose carries no store hint; that does not matter here).
    const { lab, carol, sid, gatewayJid } = await carolProposesToThePhone(['audio', 'video']);
    const carolMedia = lab.webrtcPeer('dino');
    const contents = dinoShaped(await carolMedia.createOffer([PCMU]));
    await carol.request(xml('iq', { type: 'set', to: gatewayJid }, xml('jingle', { xmlns: NS_JINGLE, action: 'session-initiate', sid, initiator: carol.jid }, ...contents)));
    await phone!.waitForCallEstablished(10_000);
    const accept = await carol.jingle('session-accept', 15_000);
    // Audio only: the video content is left out of the accept (rejected), and no group is invented.
    expect(accept.getChildren('content').map((c) => c.attrs.name)).toEqual(['0']);
    expect(accept.getChild('group')).toBeUndefined();
    expect(accept.getChild('content')!.getChild('description', NS_RTP)!.getChild('encryption')).toBeUndefined();
    carolMedia.acceptAnswer(sdpExport(jingleImport(accept, { author: 'responder' })));
    await takeTrickledCandidates(carol, carolMedia);
    await waitConnected(carolMedia);
    const heard = await measurePcmu(carolMedia, () => sendTone(carolMedia, 100));
    expect(heard.received).toBeGreaterThan(50);
    expect(heard.rms).toBeGreaterThan(1000);
    expect(phone!.recordedAudio({ skipS: 0.3 }).rms).toBeGreaterThan(100);
  }, 60_000);

  it('audio both ways between a Jingle client and baresip, then the XMPP side hangs up', async () => {
    const { lab, carol, sid, gatewayJid } = await carolProposesToThePhone();
    expect(gatewayJid).toBe('gateway@localhost/switchboard');

    const carolMedia = lab.webrtcPeer('carol');
    const offer = jingleExport(sdpImport(await carolMedia.createOffer([PCMU, TELEPHONE_EVENT_8K]), { type: 'offer' }), { author: 'initiator' });
    await carol.request(xml('iq', { type: 'set', to: gatewayJid }, xml('jingle', { xmlns: NS_JINGLE, action: 'session-initiate', sid, initiator: carol.jid }, ...offer)));
    await phone!.waitForCallEstablished(10_000);
    const accept = await carol.jingle('session-accept', 15_000);
    carolMedia.acceptAnswer(sdpExport(jingleImport(accept, { author: 'responder' })));
    await takeTrickledCandidates(carol, carolMedia);
    await waitConnected(carolMedia);

    const [call] = lab.gateway.calls.list();
    expect(call?.type).toBe('xmpp-sip');
    expect(call?.media.mode).toBe('anchor');
    // The phone's tone reaches the XMPP client while the XMPP client's tone reaches the phone.
    const heardByCarol = await measurePcmu(carolMedia, () => sendTone(carolMedia, 100));
    expect(heardByCarol.received).toBeGreaterThan(50);
    expect(heardByCarol.rms).toBeGreaterThan(1000);
    const heardByPhone = phone!.recordedAudio({ skipS: 0.3 });
    expect(heardByPhone.durationS).toBeGreaterThan(1);
    expect(heardByPhone.rms).toBeGreaterThan(100);

    await carol.request(xml('iq', { type: 'set', to: gatewayJid }, xml('jingle', { xmlns: NS_JINGLE, action: 'session-terminate', sid }, xml('reason', {}, xml('success')))));
    await phone!.waitForCallClosed(10_000);
    await expect.poll(() => lab!.gateway.calls.size).toBe(0);
  }, 60_000);
});
