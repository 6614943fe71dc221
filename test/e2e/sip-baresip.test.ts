import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { useBrowserPages } from '../support/browser-pages.js';
import { startBaresip, type Baresip } from '../support/sip/baresip.js';
import { startSippServer } from '../support/sip/sipp.js';
import { allocatePort } from '../support/sip/ports.js';
import type { SoftphonePage } from '../support/softphone-page.js';
import { startTestGateway } from '../support/test-gateway.js';

// Chromium on the demo page and baresip, a real SIP phone (auto-answer, a
// 440 Hz tone as its microphone, a recorder as its speaker), call each other
// over SIP/UDP through the gateway, which anchors the media: ICE + DTLS-SRTP
// to the browser, plain RTP/AVP to the phone.

const pages = useBrowserPages();
let gateway: Gateway | undefined;
let phone: Baresip | undefined;

afterEach(async () => {
  await phone?.stop();
  phone = undefined;
  await gateway?.stop();
  gateway = undefined;
});

async function setUp(): Promise<{ page: SoftphonePage; sipPort: number }> {
  const sipPort = await allocatePort();
  gateway = await startTestGateway({ sip: { enabled: true, port: sipPort } });
  const page = await pages.openPage(`http://127.0.0.1:${gateway.httpPort}`);
  await page.login('alice');
  return { page, sipPort };
}

function expectBrowserHeardThePhone(audio: { packetsReceived: number; totalAudioEnergy: number; maxAudioLevel: number }): void {
  expect(audio.packetsReceived).toBeGreaterThan(100);
  expect(audio.totalAudioEnergy).toBeGreaterThan(0.01);
  expect(audio.maxAudioLevel).toBeGreaterThan(0.05);
}

describe('browser and SIP phone (baresip) over SIP/UDP', () => {
  it('the browser calls baresip: audio both ways, hang-up from the browser, then from the phone', async () => {
    const { page } = await setUp();
    phone = await startBaresip({ user: 'bob', toneHz: 440 });

    await page.dial(phone.uri);
    await phone.waitForCallEstablished(10_000);
    await page.waitForState('active');
    expectBrowserHeardThePhone(await page.inboundAudio(3000));
    const heard = phone.recordedAudio({ skipS: 0.5 });
    expect(heard.durationS).toBeGreaterThan(2);
    expect(heard.rms).toBeGreaterThan(100); // the browser's fake microphone, not silence
    const [call] = gateway!.calls.list();
    expect(call?.type).toBe('web-sip');
    expect(call?.media.mode).toBe('anchor');

    await page.hangup();
    await phone.waitForCallClosed(10_000);
    await page.waitForState('ended');

    // Second call: this time the phone hangs up.
    await page.dial(phone.uri);
    await phone.waitForCallEstablished(10_000);
    await page.waitForState('active');
    await phone.hangup();
    await page.waitForState('ended');
    expect(await page.endReason()).toBe('hangup');
    await expect.poll(() => gateway!.calls.size).toBe(0);
    expect(gateway!.media.ports.inUse).toBe(0);
  }, 90_000);

  it('baresip calls the web user: the page rings, answers, audio both ways', async () => {
    const { page, sipPort } = await setUp();
    phone = await startBaresip({ user: 'carol', toneHz: 440 });

    await phone.dial(`sip:alice@127.0.0.1:${sipPort}`);
    await page.answer();
    await page.waitForState('active');
    await phone.waitForCallEstablished(10_000);
    expectBrowserHeardThePhone(await page.inboundAudio(3000));
    expect(phone.recordedAudio({ skipS: 0.5 }).rms).toBeGreaterThan(100);

    await phone.hangup();
    await page.waitForState('ended');
    expect(await page.endReason()).toBe('hangup');
  }, 90_000);

  it('early media: a PBX answering with 183 + SDP then 200 brings the page to active', async () => {
    const { page } = await setUp();
    const pbx = await startSippServer({ scenario: 'uas-early-media', calls: 1, pauseMs: 1500, timeoutS: 20 });
    try {
      await page.dial(`sip:pbx@127.0.0.1:${pbx.port}`);
      await page.waitForState('ringing');
      await page.waitForState('active');
      await page.hangup();
      const result = await pbx.done;
      expect(result.exitCode, result.errors).toBe(0);
    } finally {
      await pbx.stop();
    }
  }, 60_000);
});
