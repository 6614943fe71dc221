import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import type { ConfigInput } from '../../src/config/load-config.js';
import { useBrowserPages } from '../support/browser-pages.js';
import { allocatePort } from '../support/sip/ports.js';
import { SipJsSoftphone } from '../support/sip/sipjs-softphone.js';
import type { SipJsAudioStats } from '../support/sip/sipjs-page-api.js';
import type { SoftphonePage } from '../support/softphone-page.js';
import { startTestGateway } from '../support/test-gateway.js';

// A WebRTC-capable SIP phone: SIP.js in Chromium (its own SIP stack and browser
// SessionDescriptionHandler: ICE + DTLS-SRTP, complete SDP, no trickle) over SIP over WebSocket
// (RFC 7118) to the gateway's /sip, and the demo page as web user alice. With media.mode auto the
// gateway relays: media flows browser to browser, the gateway only carries SDP.

const pages = useBrowserPages();
let gateway: Gateway | undefined;
let phone: SipJsSoftphone | undefined;

afterEach(async () => {
  await phone?.stop();
  phone = undefined;
  await gateway?.stop();
  gateway = undefined;
});

async function setUp(overrides: ConfigInput = {}): Promise<{ alice: SoftphonePage; phone: SipJsSoftphone }> {
  gateway = await startTestGateway({ ...overrides, sip: { enabled: true, port: await allocatePort(), ...overrides.sip } });
  const alice = await pages.openPage(`http://127.0.0.1:${gateway.httpPort}`);
  await alice.login('alice');
  phone = await SipJsSoftphone.start({ websocketUrl: `ws://127.0.0.1:${gateway.httpPort}/sip`, aor: 'sip:bob@127.0.0.1', browser: pages.browser() });
  return { alice, phone };
}

function expectAudio(audio: { packetsReceived: number; totalAudioEnergy: number }): void {
  expect(audio.packetsReceived).toBeGreaterThan(100);
  expect(audio.totalAudioEnergy).toBeGreaterThan(0);
}

/**
 * The pair SIP.js selected joins loopback addresses, and the remote one is a host candidate it
 * got in the SDP: a peer-reflexive one (learnt from the browser's checks, its address hidden by
 * getStats) would mean the browser's candidates never reached it.
 */
function expectLoopbackPairFromSdp(stats: SipJsAudioStats): void {
  expect(stats.selectedPair?.local).toMatch(/^(127\.|::1)/);
  expect(stats.selectedPair?.remote).toMatch(/^(127\.|::1)/);
  expect(stats.selectedPair?.remoteType).toBe('host');
}

/** What SIP.js was given: the browser's candidates and a default destination among them, not JSEP's 0.0.0.0:9 placeholder. */
function expectCompleteSdp(sdp: string | undefined): void {
  expect(sdp).toMatch(/^a=candidate:\S+ 1 udp \d+ (127\.0\.0\.1|::1) \d+ typ host/im); // libdatachannel (the anchor) writes UDP
  expect(sdp).not.toMatch(/^c=IN IP4 0\.0\.0\.0/m);
  expect(sdp).not.toMatch(/^m=audio 9 /m);
}

/** 3 s of audio both ways, over a loopback host pair SIP.js took from complete SDP. */
async function expectMediaBothWays(alice: SoftphonePage, phone: SipJsSoftphone): Promise<void> {
  const [heardByAlice, heardByPhone] = await Promise.all([alice.inboundAudio(3000), phone.audioAfter(3000)]);
  expectAudio(heardByAlice);
  expectAudio(heardByPhone);
  expectLoopbackPairFromSdp(heardByPhone);
  expectCompleteSdp((await phone.snapshot()).remoteSdp);
}

/** SIP.js hangs up: the page ends with `hangup` and the gateway forgets the call. */
async function phoneHangsUp(alice: SoftphonePage, phone: SipJsSoftphone): Promise<void> {
  await phone.hangup();
  await alice.waitForState('ended');
  expect(await alice.endReason()).toBe('hangup');
  await expect.poll(() => gateway!.calls.size).toBe(0);
}

describe('SIP.js over WebSocket and the demo page', () => {
  it('SIP.js calls alice: relayed end to end, audio both ways, hang-up from SIP.js then from alice', async () => {
    const { alice, phone } = await setUp();

    await phone.call('sip:alice@127.0.0.1');
    await alice.answer();
    await phone.waitForState('Established');
    await phone.waitForMedia();
    await alice.waitForState('active');
    const [call] = gateway!.calls.list();
    expect(call?.media.mode).toBe('relay');

    await expectMediaBothWays(alice, phone);

    await phoneHangsUp(alice, phone);

    await phone.call('sip:alice@127.0.0.1');
    await alice.answer();
    await phone.waitForState('Established');
    await alice.waitForState('active');
    await alice.hangup();
    expect((await phone.waitForState('Terminated')).endedBy).toBe('remote');
    await expect.poll(() => gateway!.calls.size).toBe(0);
  }, 90_000);

  it('alice calls SIP.js at its WebSocket flow: relayed, audio both ways, hang-up from SIP.js', async () => {
    // The gateway reaches a WebSocket client only over the connection it opened, by the host it
    // made up (RFC 7118 section 5.2); the dial policy must allow that host.
    // The demo page dials the Contact as SIP.js wrote it; the core drops `;transport=ws`.
    const { alice, phone } = await setUp({ sip: { outbound: { dialPlan: [{ match: '^sip:bob@bob-sipjs\\.invalid$', guests: true }] } } });
    expect(await phone.announce()).toBe(405); // no registrar: any request teaches the gateway the flow

    await alice.dial(phone.contactUri);
    await phone.waitForIncoming();
    await phone.answer();
    await phone.waitForMedia();
    await alice.waitForState('active');
    const [call] = gateway!.calls.list();
    expect(call?.type).toBe('web-sip');
    expect(call?.media.mode).toBe('relay');

    await expectMediaBothWays(alice, phone);

    await phoneHangsUp(alice, phone);
  }, 90_000);

  it('with media.mode anchor the same call is anchored: audio both ways through the gateway', async () => {
    const { alice, phone } = await setUp({ media: { mode: 'anchor' } });

    await phone.call('sip:alice@127.0.0.1');
    await alice.answer();
    await phone.waitForState('Established');
    await phone.waitForMedia();
    await alice.waitForState('active');
    const [call] = gateway!.calls.list();
    expect(call?.media.mode).toBe('anchor');

    await expectMediaBothWays(alice, phone);

    await alice.hangup();
    expect((await phone.waitForState('Terminated')).endedBy).toBe('remote');
    await expect.poll(() => gateway!.calls.size).toBe(0);
    expect(gateway!.media.ports.inUse).toBe(0);
  }, 90_000);
});
