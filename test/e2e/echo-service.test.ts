import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { useBrowserPages } from '../support/browser-pages.js';
import type { SoftphonePage } from '../support/softphone-page.js';
import { ANCHOR_ON_LOOPBACK, startTestGateway } from '../support/test-gateway.js';

// A browser dials service:echo: the gateway terminates ICE/DTLS-SRTP with
// node-datachannel, forwards the RTP to its echo reflector over plain RTP and
// back, and the browser hears its own microphone.

const pages = useBrowserPages();
let gateway: Gateway | undefined;

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

function openPage(): Promise<SoftphonePage> {
  return pages.openPage(`http://127.0.0.1:${gateway!.httpPort}`);
}

describe('service:echo through the media anchor', () => {
  it('the browser hears its own audio back and its stats show packets and a round-trip time', async () => {
    gateway = await startTestGateway(ANCHOR_ON_LOOPBACK);
    const page = await openPage();
    await page.login('alice');
    await page.dial('service:echo');
    await page.waitForState('active');

    const heard = await page.inboundAudio(3000);
    expect(heard.packetsReceived).toBeGreaterThan(100); // 50 packets/s for 3 s, minus start-up
    expect(heard.totalAudioEnergy).toBeGreaterThan(0.001);
    expect(heard.maxAudioLevel).toBeGreaterThan(0.01);
    const rtt = await page.roundTripTime();
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(rtt).toBeLessThan(1);

    const [call] = gateway.calls.list();
    expect(call?.media.mode).toBe('anchor');
    expect(call?.type).toBe('web-service');

    await page.hangup();
    await page.waitForState('ended');
    expect(gateway.calls.size).toBe(0);
    expect(gateway.media.ports.inUse).toBe(0);
  }, 60_000);

  it('with media.mode relay, the echo call fails with incompatible-media', async () => {
    gateway = await startTestGateway({ ...ANCHOR_ON_LOOPBACK, media: { ...ANCHOR_ON_LOOPBACK.media, mode: 'relay' } });
    const page = await openPage();
    await page.login('alice');
    await page.dial('service:echo');
    await page.waitForState('ended');
    expect(await page.endReason()).toBe('incompatible-media');
  }, 30_000);
});
