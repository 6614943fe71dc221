import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'sdp-transform';
import { parseAddress } from '../../src/calls/address.js';
import type { Gateway } from '../../src/gateway.js';
import type { AnchorMediaSession } from '../../src/media/anchor-media-session.js';
import { buildRtpPacket } from '../../src/media/rtp-packet.js';
import { RtpTonePeer, type RtpTonePeerOptions } from '../../src/testing/rtp-tone-peer.js';
import { useBrowserPages } from '../support/browser-pages.js';
import { RtpPeerLeg } from '../support/rtp-peer-leg.js';
import type { SoftphonePage } from '../support/softphone-page.js';
import { startTestGateway } from '../support/test-gateway.js';

// A browser (ICE + DTLS-SRTP) and a plain-RTP party (RTP/AVP over UDP, like a
// desk phone) talk through the gateway's media anchor. The RTP party is a real
// UDP peer playing a 440 Hz tone and measuring what it receives.

const pages = useBrowserPages();
let gateway: Gateway | undefined;
const legs: RtpPeerLeg[] = [];

afterEach(async () => {
  for (const leg of legs.splice(0)) await leg.peer.close();
  await gateway?.stop();
  gateway = undefined;
});

async function openPage(name: string): Promise<SoftphonePage> {
  const page = await pages.openPage(`http://127.0.0.1:${gateway!.httpPort}`);
  await page.login(name);
  return page;
}

/** Makes `tel:` numbers reach plain-RTP peers, as a SIP trunk would. */
function routeTelTo(makeLeg: (callId: string, target: ReturnType<typeof parseAddress>) => Promise<RtpPeerLeg>): void {
  gateway!.router.register(['tel'], {
    createLeg: async ({ callId, target }) => {
      const leg = await makeLeg(callId, target);
      legs.push(leg);
      return leg;
    },
  });
}

async function tonePeer(options: RtpTonePeerOptions = {}): Promise<RtpTonePeer> {
  return RtpTonePeer.create({ toneHz: 440, amplitude: 0.3, ...options });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function anchorOf(gw: Gateway): AnchorMediaSession {
  const [call] = gw.calls.list();
  expect(call?.media.mode).toBe('anchor');
  return call!.media as AnchorMediaSession;
}

describe('browser and plain-RTP party through the anchor', () => {
  it('the browser calls an RTP phone: each side receives the other audio', async () => {
    gateway = await startTestGateway();
    routeTelTo(async (callId, target) => new RtpPeerLeg(callId, target, await tonePeer()));
    const page = await openPage('alice');
    await page.dial('tel:100');
    await page.waitForState('active');
    const phone = legs[0]!.peer;
    // The phone was offered RTP/AVP, no ICE, no DTLS.
    const offer = parse(legs[0]!.receivedOffer!);
    expect(offer.media[0]?.protocol).toBe('RTP/AVP');
    expect(offer.media[0]?.fingerprint).toBeUndefined();

    const heard = await page.inboundAudio(3000);
    expect(heard.packetsReceived).toBeGreaterThan(100);
    expect(heard.totalAudioEnergy).toBeGreaterThan(0.01);
    const got = phone.received;
    expect(got.packets).toBeGreaterThan(120); // ~50 packets/s for 3+ s
    expect([...got.payloadTypes]).toEqual([0]); // PCMU, decodable G.711
    expect(got.ssrcs).toHaveLength(1);
    expect(got.rms).toBeGreaterThan(100); // the browser's fake microphone is not silence

    await page.hangup();
    await page.waitForState('ended');
    await expect.poll(() => legs[0]!.endReason).toBe('hangup');
    expect(gateway.media.ports.inUse).toBe(0);
  }, 60_000);

  it('an RTP phone with its own payload numbers calls the browser; DTMF goes both ways', async () => {
    gateway = await startTestGateway();
    const page = await openPage('bob');
    // PCMU as dynamic type 96 and events as 100: the browser side uses the gateway's 0 and 101.
    const phone = await tonePeer({ codecs: [{ name: 'PCMU', payloadType: 96 }], telephoneEventPayloadType: 100 });
    const leg = new RtpPeerLeg('call-from-phone-1', parseAddress('tel:5551234'), phone);
    legs.push(leg);
    await gateway.calls.place({ id: leg.id, caller: leg, target: parseAddress('web:bob'), sdp: phone.offerSdp() });
    await page.answer();
    await page.waitForState('active');

    const heard = await page.inboundAudio(2500);
    expect(heard.packetsReceived).toBeGreaterThan(80);
    expect(heard.totalAudioEnergy).toBeGreaterThan(0.01);
    expect(phone.received.packets).toBeGreaterThan(80);
    expect([...phone.received.payloadTypes]).toEqual([96]); // renumbered from the browser's 0
    const anchor = anchorOf(gateway);
    expect(anchor.forwarder!.counters.aToB.dropped).toBe(0);
    expect(anchor.forwarder!.counters.bToA.dropped).toBe(0);

    // Browser keypad -> RFC 4733 events in the browser's RTP -> renumbered -> the phone decodes them.
    await page.pressDigits('1#');
    await expect.poll(() => phone.received.digits, { timeout: 5000 }).toBe('1#');
    // Phone -> RFC 4733 -> the gateway recognises the digits and signals them to the page.
    const heardDigits = await page.collectSignaledDigits();
    await phone.sendDtmf('5');
    await phone.sendDtmf('9');
    await expect.poll(heardDigits, { timeout: 5000 }).toBe('59');
    // A `dtmf` request on the browser's leg is generated by the gateway as RFC 4733 towards the phone.
    const call = gateway.calls.get(leg.id)!;
    expect(call.media.dtmf(call.callee, '7*')).toBe(true);
    await expect.poll(() => phone.received.digits, { timeout: 5000 }).toBe('1#7*');

    leg.hangup();
    await page.waitForState('ended');
    expect(await page.endReason()).toBe('hangup');
  }, 60_000);

  it('hold and resume with a new phone stream keep one continuous stream for the browser', async () => {
    gateway = await startTestGateway();
    routeTelTo(async (callId, target) => new RtpPeerLeg(callId, target, await tonePeer()));
    const page = await openPage('carol');
    await page.dial('tel:200');
    await page.waitForState('active');
    const leg = legs[0]!;
    await sleep(1000);
    const [ssrcBefore] = await page.inboundSsrcs();
    expect(ssrcBefore).toBeDefined();

    // Hold: the phone re-offers inactive and goes quiet; the gateway answers inactive and stops sending to it.
    const held = await leg.reoffer(leg.peer.offerSdp().replace('a=sendrecv', 'a=inactive'));
    expect(held).toContain('a=inactive');
    leg.peer.setSending(false);
    await sleep(500);
    const duringHoldBrowser = await page.inboundAudio(1500);
    const phonePacketsAtHold = leg.peer.received.packets;
    const duringHold = await page.inboundAudio(1500);
    expect(duringHold.packetsReceived - duringHoldBrowser.packetsReceived).toBeLessThan(5);
    expect(leg.peer.received.packets - phonePacketsAtHold).toBeLessThan(5);

    // Resume from a new socket and a new SSRC, as phones often do after a re-INVITE.
    const resumed = await tonePeer({ toneHz: 660 });
    const oldPeer = leg.peer;
    leg.peer = resumed;
    const answer = await leg.reoffer(resumed.offerSdp());
    expect(answer).toContain('a=sendrecv');
    resumed.setRemoteFromAnswer(answer);
    resumed.start();
    await oldPeer.close();
    const afterResume = await page.inboundAudio(2500);
    expect(afterResume.packetsReceived - duringHold.packetsReceived).toBeGreaterThan(80);
    expect(await page.inboundSsrcs()).toEqual([ssrcBefore]);
    await expect.poll(() => resumed.received.packets, { timeout: 5000 }).toBeGreaterThan(50);

    await page.hangup();
    await page.waitForState('ended');
  }, 60_000);

  it('RTP from an unexpected source is dropped and counted; the call goes on', async () => {
    gateway = await startTestGateway();
    routeTelTo(async (callId, target) => new RtpPeerLeg(callId, target, await tonePeer()));
    const page = await openPage('dave');
    await page.dial('tel:300');
    await page.waitForState('active');
    const leg = legs[0]!;
    const gatewayPort = parse(leg.receivedOffer!).media[0]!.port;
    await expect.poll(() => (anchorOf(gateway!).stats().b as { rtp: { latched?: string } }).rtp.latched).toBeDefined();

    // An attacker on another address (127.0.0.2 is loopback too) injects RTP into the phone's port.
    const attacker = createSocket('udp4');
    await new Promise<void>((resolve) => attacker.bind(0, '127.0.0.2', resolve));
    for (let i = 0; i < 20; i++) {
      const packet = buildRtpPacket({ payloadType: 0, sequenceNumber: i, timestamp: i * 160, ssrc: 0xbad, payload: Buffer.alloc(160, 0x00) });
      attacker.send(packet, gatewayPort, '127.0.0.1');
    }
    await expect.poll(() => (anchorOf(gateway!).stats().b as { rtp: { dropped: number } }).rtp.dropped, { timeout: 3000 }).toBeGreaterThanOrEqual(20);
    attacker.close();
    const heard = await page.inboundAudio(1500);
    expect(await page.inboundSsrcs()).toHaveLength(1);
    expect(heard.packetsReceived).toBeGreaterThan(50);
    await page.hangup();
  }, 60_000);

  it('a phone behind NAT (SDP names an address it does not send from) is latched by its signaling address', async () => {
    gateway = await startTestGateway();
    // The phone really sits on 127.0.0.2 (its signaling source) but writes 127.0.0.3 in its SDP, as a
    // phone behind NAT writes its private address. 127.0.0.3 is loopback: nothing leaves the machine.
    routeTelTo(async (callId, target) => {
      const peer = await tonePeer({ host: '127.0.0.2' });
      return new RtpPeerLeg(callId, target, peer, {
        signalingAddress: '127.0.0.2',
        answerSdp: (offer) => peer.answerSdp(offer).replace(/127\.0\.0\.2/g, '127.0.0.3'),
      });
    });
    const page = await openPage('frank');
    await page.dial('tel:500');
    await page.waitForState('active');
    const heard = await page.inboundAudio(2500);
    expect(heard.packetsReceived).toBeGreaterThan(80);
    expect(heard.totalAudioEnergy).toBeGreaterThan(0.01);
    await expect.poll(() => legs[0]!.peer.received.packets, { timeout: 5000 }).toBeGreaterThan(50);
    const stats = anchorOf(gateway).stats().b as { rtp: { latched?: string } };
    expect(stats.rtp.latched).toMatch(/^127\.0\.0\.2:/);
    await page.hangup();
  }, 60_000);

  it('no common codec fails clearly on both legs', async () => {
    gateway = await startTestGateway();
    // A phone that answers with a codec the browser never offered.
    routeTelTo(async (callId, target) =>
      new RtpPeerLeg(callId, target, await tonePeer(), {
        answerSdp: () =>
          ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 18', 'a=rtpmap:18 G729/8000', ''].join('\r\n'),
      }),
    );
    const page = await openPage('erin');
    await page.dial('tel:400');
    await page.waitForState('ended');
    expect(await page.endReason()).toBe('incompatible-media');
    await expect.poll(() => legs[0]!.endReason).toBe('incompatible-media');

    // A phone offering only G.729 to the browser: refused before the browser rings.
    const g729 = await tonePeer();
    const caller = new RtpPeerLeg('call-g729-only', parseAddress('tel:5550000'), g729);
    legs.push(caller);
    const offer = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${g729.localPort} RTP/AVP 18`, 'a=rtpmap:18 G729/8000', ''].join('\r\n');
    await gateway.calls.place({ id: caller.id, caller, target: parseAddress('web:erin'), sdp: offer });
    await expect.poll(() => caller.endReason).toBe('incompatible-media');
    expect(gateway.calls.size).toBe(0);
    expect(gateway.media.ports.inUse).toBe(0);
  }, 60_000);
});
