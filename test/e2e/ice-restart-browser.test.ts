import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { useBrowserPages } from '../support/browser-pages.js';
import { routeTelToTonePhones, type RtpPeerLeg } from '../support/rtp-peer-leg.js';
import type { SoftphonePage } from '../support/softphone-page.js';
import { startTestGateway } from '../support/test-gateway.js';

// ICE restarts from the demo page's SDK, as after a network change: the page gets an `online`
// event (what a browser fires when it joins a network), and the SDK re-offers with new ICE
// credentials. Anchored, the gateway answers with a new endpoint (libdatachannel cannot restart
// ICE on one): new ICE and a new DTLS-SRTP session with the browser, while the plain-RTP phone's
// stream goes on untouched. Relayed, the re-offer goes to the other page, which answers it.

const pages = useBrowserPages();
let gateway: Gateway | undefined;
const legs: RtpPeerLeg[] = [];

afterEach(async () => {
  for (const leg of legs.splice(0)) await leg.peer.close();
  await gateway?.stop();
  gateway = undefined;
});

interface IceView {
  restarts: number;
  iceState: string;
  /** ICE and DTLS together: `connecting` again while a new DTLS-SRTP session is set up. */
  connectionState: string;
  localUfrag: string | undefined;
  remoteUfrag: string | undefined;
}

function iceView(page: SoftphonePage): Promise<IceView> {
  return page.page.evaluate(() => {
    const call = (window as unknown as { switchboard: { call?: { iceRestarts: number; pc: RTCPeerConnection } } }).switchboard.call!;
    const ufrag = (sdp: string | undefined) => (sdp ? /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1] : undefined);
    return {
      restarts: call.iceRestarts,
      iceState: call.pc.iceConnectionState,
      connectionState: call.pc.connectionState,
      localUfrag: ufrag(call.pc.currentLocalDescription?.sdp),
      remoteUfrag: ufrag(call.pc.currentRemoteDescription?.sdp),
    };
  });
}

/** Fires `online` in the page and waits until its call restarted ICE and is connected again (ICE and DTLS) with new credentials on both ends. */
async function networkChange(page: SoftphonePage): Promise<number> {
  const before = await iceView(page);
  const startedAt = Date.now();
  await page.page.evaluate(() => window.dispatchEvent(new Event('online')));
  await expect
    .poll(async () => {
      const now = await iceView(page);
      const up = (now.iceState === 'connected' || now.iceState === 'completed') && now.connectionState === 'connected';
      return now.restarts === before.restarts + 1 && up && now.localUfrag !== before.localUfrag && now.remoteUfrag !== before.remoteUfrag;
    }, { timeout: 15_000, interval: 50 })
    .toBe(true);
  return Date.now() - startedAt;
}


async function restartsMetric(gw: Gateway): Promise<string> {
  return gw.metrics.registry.getSingleMetricAsString('switchboard_ice_restarts_total');
}

describe('ICE restart after a network change', () => {
  it('anchored, with a plain-RTP phone: new ICE and DTLS with the browser, audio both ways again, the phone keeps one stream', async () => {
    gateway = await startTestGateway();
    routeTelToTonePhones(gateway, legs);
    const page = await pages.openPage(`http://127.0.0.1:${gateway.httpPort}`);
    await page.login('alice');
    await page.dial('tel:100');
    await page.waitForState('active');
    const phone = legs[0]!.peer;
    const [call] = gateway.calls.list();
    expect(call?.media.mode).toBe('anchor');
    expect((await page.audioReceivedDuring(1000)).packets).toBeGreaterThan(30);

    const recoveredMs = await networkChange(page);
    console.log(`anchored ICE restart: connected again ${recoveredMs} ms after the network change`);
    const phoneBefore = phone.received.packets;
    const heardByPage = await page.audioReceivedDuring(2500);
    expect(heardByPage.packets).toBeGreaterThan(80);
    expect(heardByPage.energy).toBeGreaterThan(0.005);
    const heardByPhone = phone.received;
    expect(heardByPhone.packets - phoneBefore).toBeGreaterThan(80);
    expect(heardByPhone.rms).toBeGreaterThan(100);
    // The phone saw one stream from start to end: the anchor's new endpoint changed nothing on its side.
    expect(heardByPhone.ssrcs).toHaveLength(1);
    console.log(`phone: ${heardByPhone.sequenceGaps} sequence numbers skipped over the restart`);
    expect(gateway.calls.list().map((c) => c.id)).toEqual([call!.id]);
    expect(await restartsMetric(gateway)).toMatch(/type="web-tel",media="anchor"} 1$/m);

    await page.hangup();
    await page.waitForState('ended');
  }, 60_000);

  it('relayed, between two pages: the re-offer goes to the other page, audio both ways again', async () => {
    const gw = await startTestGateway();
    gateway = gw;
    const alice = await pages.openPage(`http://127.0.0.1:${gw.httpPort}`);
    await alice.login('alice');
    const bob = await pages.openPage(`http://127.0.0.1:${gw.httpPort}`);
    await bob.login('bob');
    await alice.callAndConnect(bob, 'bob');
    expect(gw.calls.list()[0]?.media.mode).toBe('relay');
    const bobBefore = await iceView(bob);

    const recoveredMs = await networkChange(alice);
    console.log(`relayed ICE restart: connected again ${recoveredMs} ms after the network change`);
    const bobAfter = await iceView(bob);
    expect(bobAfter.remoteUfrag).not.toBe(bobBefore.remoteUfrag);
    expect(bobAfter.localUfrag).not.toBe(bobBefore.localUfrag);
    const [heardByAlice, heardByBob] = await Promise.all([alice.audioReceivedDuring(2000), bob.audioReceivedDuring(2000)]);
    expect(heardByAlice.packets).toBeGreaterThan(50);
    expect(heardByAlice.energy).toBeGreaterThan(0.001);
    expect(heardByBob.packets).toBeGreaterThan(50);
    expect(heardByBob.energy).toBeGreaterThan(0.001);
    expect(await restartsMetric(gw)).toMatch(/type="web-web",media="relay"} 1$/m);

    await bob.hangup();
    await alice.waitForState('ended');
  }, 60_000);
});

