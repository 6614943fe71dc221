import { randomUUID } from 'node:crypto';
import { xml } from '@xmpp/client';
import { afterEach, describe, expect, it } from 'vitest';
import { jingleExport } from '../../adapters/xmpp/jingle/jingle-export.js';
import { jingleImport } from '../../adapters/xmpp/jingle/jingle-import.js';
import { sdpExport } from '../../adapters/xmpp/jingle/sdp-export.js';
import { sdpImport } from '../../adapters/xmpp/jingle/sdp-import.js';
import { startBaresip, type Baresip } from '../support/sip/baresip.js';
import { allocatePort } from '../support/sip/ports.js';
import { PCMU, TELEPHONE_EVENT_8K } from '../support/webrtc-test-peer.js';
import { measurePcmu, sendTone, waitConnected, XmppLab } from '../support/xmpp/xmpp-lab.js';

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

describe('XMPP client → SIP phone through the anchor', () => {
  it('audio both ways between a Jingle client and baresip, then the XMPP side hangs up', async () => {
    phone = await startBaresip({ user: '15551234', toneHz: 440 });
    lab = await XmppLab.start({
      users: { carol: 'carol-secret' },
      xmpp: { inbound: { rules: [{ match: '^\\+(\\d+)$', target: phone.uri }] } },
      config: { sip: { enabled: true, port: await allocatePort() } },
    });
    const carol = await lab.xmppClient('carol', 'carol-secret');
    const sid = randomUUID();
    const description = xml('description', { xmlns: NS_RTP, media: 'audio' });
    await carol.send(xml('message', { to: 'gateway@localhost/+15551234', type: 'chat' }, xml('propose', { xmlns: NS_JMI, id: sid }, description)));
    const proceed = await carol.message('proceed', NS_JMI);
    const gatewayJid = String(proceed.attrs.from);
    expect(gatewayJid).toBe('gateway@localhost/switchboard');

    const carolMedia = lab.webrtcPeer('carol');
    const offer = jingleExport(sdpImport(await carolMedia.createOffer([PCMU, TELEPHONE_EVENT_8K]), { type: 'offer' }), { author: 'initiator' });
    await carol.request(xml('iq', { type: 'set', to: gatewayJid }, xml('jingle', { xmlns: NS_JINGLE, action: 'session-initiate', sid, initiator: carol.jid }, ...offer)));
    await phone.waitForCallEstablished(10_000);
    const accept = await carol.jingle('session-accept', 15_000);
    carolMedia.acceptAnswer(sdpExport(jingleImport(accept, { author: 'responder' })));
    await waitConnected(carolMedia);

    const [call] = lab.gateway.calls.list();
    expect(call?.type).toBe('xmpp-sip');
    expect(call?.media.mode).toBe('anchor');
    // The phone's tone reaches the XMPP client while the XMPP client's tone reaches the phone.
    const heardByCarol = await measurePcmu(carolMedia, () => sendTone(carolMedia, 100));
    expect(heardByCarol.received).toBeGreaterThan(50);
    expect(heardByCarol.rms).toBeGreaterThan(1000);
    const heardByPhone = phone.recordedAudio({ skipS: 0.3 });
    expect(heardByPhone.durationS).toBeGreaterThan(1);
    expect(heardByPhone.rms).toBeGreaterThan(100);

    await carol.request(xml('iq', { type: 'set', to: gatewayJid }, xml('jingle', { xmlns: NS_JINGLE, action: 'session-terminate', sid }, xml('reason', {}, xml('success')))));
    await phone.waitForCallClosed(10_000);
    await expect.poll(() => lab!.gateway.calls.size).toBe(0);
  }, 60_000);
});
