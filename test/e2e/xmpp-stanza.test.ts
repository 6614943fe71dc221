import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { useBrowserPages } from '../support/browser-pages.js';
import type { InboundAudio, SoftphonePage } from '../support/softphone-page.js';
import { startTestGateway } from '../support/test-gateway.js';
import { startProsody, type RunningProsody } from '../support/xmpp/prosody.js';
import type { StanzaAudioStats } from '../support/xmpp/stanza-page-api.js';
import { StanzaPeer } from '../support/xmpp/stanza-peer.js';

// An independent Jingle implementation against the gateway's XMPP adapter: StanzaJS (its own
// Jingle stack and SDP conversion, direct session-initiate, no JMI) in headless Chromium, logged in
// to a real Prosody over WebSocket, and web user alice on the demo page. The gateway logs in as the
// service account and binds gateway@localhost/alice while alice is online; media is relayed, so
// the page and StanzaJS do ICE + DTLS-SRTP with each other, all on loopback.

const PASSWORDS = { gateway: 'gateway-secret', carol: 'carol-secret' };
const ALICE_JID = 'gateway@localhost/alice';
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1)$/;

// Both Chromium pages with loopbackSocketsOnly: no WebRTC socket on eth0's addresses.
const pages = useBrowserPages({ loopbackSocketsOnly: true });
let prosody: RunningProsody | undefined;
let gateway: Gateway | undefined;
let carol: StanzaPeer | undefined;

afterEach(async () => {
  await carol?.stop();
  carol = undefined;
  await gateway?.stop();
  gateway = undefined;
  await prosody?.stop();
  prosody = undefined;
});

/** Prosody, the gateway, alice logged in on the demo page, StanzaJS carol online at carol@localhost/stanza. */
async function setUp(): Promise<{ page: SoftphonePage; carol: StanzaPeer }> {
  prosody = await startProsody({ users: PASSWORDS, websocket: true });
  gateway = await startTestGateway({
    xmpp: { enabled: true, server: prosody.service, service: { jid: 'gateway@localhost', password: PASSWORDS.gateway }, outbound: { guests: true } },
  });
  const page = await pages.openPage(`http://127.0.0.1:${gateway.httpPort}`);
  await page.login('alice');
  carol = await StanzaPeer.start({ websocketUrl: prosody.websocketUrl!, jid: 'carol@localhost', password: PASSWORDS.carol, browser: pages.browser() });
  return { page, carol };
}

/** Waits until alice's resource is online and advertises what StanzaJS needs for an audio call. */
async function expectAliceCallable(stanza: StanzaPeer): Promise<void> {
  const features = await stanza.waitForDiscoFeatures(ALICE_JID);
  for (const feature of ['urn:xmpp:jingle:1', 'urn:xmpp:jingle:apps:rtp:1', 'urn:xmpp:jingle:apps:rtp:audio', 'urn:xmpp:jingle:transports:ice-udp:1', 'urn:xmpp:jingle:apps:dtls:0']) {
    expect(features).toContain(feature);
  }
}

/** 3 s of call: the page hears StanzaJS's fake microphone and StanzaJS hears the page's. */
async function expectAudioBothWays(page: SoftphonePage, stanza: StanzaPeer): Promise<{ page: InboundAudio; stanza: StanzaAudioStats }> {
  const [pageHeard, stanzaHeard] = await Promise.all([page.inboundAudio(3000), stanza.audioAfter(3000)]);
  const context = `page ${JSON.stringify(pageHeard)}, StanzaJS ${JSON.stringify(stanzaHeard)}`;
  // 20 ms opus frames: ~150 packets in 3 s; Chromium's fake microphone beeps, so energy is > 0.
  expect(pageHeard.packetsReceived, context).toBeGreaterThan(50);
  expect(pageHeard.totalAudioEnergy, context).toBeGreaterThan(0);
  expect(stanzaHeard.packetsReceived, context).toBeGreaterThan(50);
  expect(stanzaHeard.totalAudioEnergy, context).toBeGreaterThan(0);
  expect(stanzaHeard.selectedPair?.local, context).toMatch(LOOPBACK);
  expect(stanzaHeard.selectedPair?.remote, context).toMatch(LOOPBACK);
  return { page: pageHeard, stanza: stanzaHeard };
}

/** The page hangs up: StanzaJS sees the gateway's session-terminate `success`, and the call is gone. */
async function pageHangsUp(page: SoftphonePage, stanza: StanzaPeer): Promise<void> {
  await page.hangup();
  await page.waitForState('ended');
  expect(await stanza.endReason(), await stanza.jingleTrace()).toMatchObject({ condition: 'success', by: 'remote' });
  await expect.poll(() => gateway!.calls.size).toBe(0);
}

/** StanzaJS carol sends a direct session-initiate to alice's resource; the page rings and answers. */
async function carolCallsAliceAndPageAnswers(page: SoftphonePage, stanza: StanzaPeer): Promise<void> {
  await expectAliceCallable(stanza);
  await stanza.call(ALICE_JID);
  await page.answer();
  await page.waitForState('active');
  await stanza.waitForState('active');
}

describe('StanzaJS (independent Jingle stack) and the gateway, via Prosody', () => {
  it('StanzaJS calls alice with a direct session-initiate: the page answers, audio both ways, the page hangs up', async () => {
    const { page, carol } = await setUp();
    await carolCallsAliceAndPageAnswers(page, carol);
    await expectAudioBothWays(page, carol);

    await pageHangsUp(page, carol);
  }, 90_000);

  it('StanzaJS calls alice, audio both ways, StanzaJS hangs up: the page ends with hangup', async () => {
    const { page, carol } = await setUp();
    await carolCallsAliceAndPageAnswers(page, carol);
    await expectAudioBothWays(page, carol);

    await carol.hangup('success');
    await page.waitForState('ended');
    expect(await page.endReason()).toBe('hangup');
    await expect.poll(() => gateway!.calls.size).toBe(0);
  }, 90_000);

  it('alice declines the StanzaJS call: StanzaJS gets session-terminate with decline or busy', async () => {
    const { page, carol } = await setUp();
    await expectAliceCallable(carol);
    await carol.call(ALICE_JID);
    await page.waitForState('incoming');
    await page.reject();
    const reason = await carol.endReason();
    expect(reason.by, await carol.jingleTrace()).toBe('remote');
    expect(['decline', 'busy']).toContain(reason.condition);
    await expect.poll(() => gateway!.calls.size).toBe(0);
  }, 60_000);

  it('alice calls StanzaJS at its full JID (direct session-initiate): StanzaJS answers, audio both ways, alice hangs up', async () => {
    const { page, carol } = await setUp();
    // The call must come from alice's own identity (gateway@localhost/alice); the gateway waits for
    // it after login, and the test checks the resource answers disco before dialling.
    await expectAliceCallable(carol);
    await page.dial(`xmpp:${carol.jid}`);
    const offered = await carol.waitForIncoming();
    expect(offered).toMatchObject({ peer: ALICE_JID, role: 'responder', state: 'pending' });
    await carol.answer();
    await page.waitForState('active');
    await carol.waitForState('active');
    await expectAudioBothWays(page, carol);

    await pageHangsUp(page, carol);
  }, 90_000);
});
