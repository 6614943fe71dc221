import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { useBrowserPages } from '../support/browser-pages.js';
import { WebParty } from '../support/cluster/web-party.js';
import { allocatePort } from '../support/sip/ports.js';
import { startTestGateway } from '../support/test-gateway.js';
import { measurePcmu, sendTone } from '../support/xmpp/xmpp-lab.js';

// media.iceUdpMux: every anchored WebRTC leg on one UDP port, told apart by ICE username
// (libjuice's mux mode). Chromium and 50 node-datachannel parties call service:echo at once; each
// hears its own audio back, and every candidate the anchor gave carries the one port.

const pages = useBrowserPages();
let gateway: Gateway | undefined;
const parties: WebParty[] = [];
const CALLS = 50;

afterEach(async () => {
  for (const party of parties.splice(0)) party.close();
  await gateway?.stop();
  gateway = undefined;
});

/** The ports of the host candidates the anchor trickled to `party`. */
function anchorCandidatePorts(party: WebParty): number[] {
  return party.client.frames
    .filter((frame) => frame.type === 'candidate' && frame.candidate)
    .map((frame) => Number(/ (\d+) typ /.exec((frame as { candidate: { candidate: string } }).candidate.candidate)?.[1]));
}

describe('media.iceUdpMux', () => {
  it('puts a browser and 50 concurrent anchored calls on one UDP port, each with its own audio', async () => {
    const port = await allocatePort();
    gateway = await startTestGateway({
      media: { iceUdpMux: { port } },
      signaling: { maxCallsPerSource: CALLS + 10, maxPendingLoginsPerSource: CALLS + 10, rateLimit: { messagesPerSecond: 500, burst: 1000 } },
    });
    const gw = gateway;

    const page = await pages.openPage(`http://127.0.0.1:${gw.httpPort}`);
    await page.login('browser');
    await page.dial('service:echo');
    await page.waitForState('active');
    const heardByPage = await page.audioReceivedDuring(2000);
    expect(heardByPage.packets).toBeGreaterThan(60);
    expect(heardByPage.energy).toBeGreaterThan(0.001);

    for (let i = 0; i < CALLS; i += 1) parties.push(await WebParty.login(gw.httpPort, `mux${i}`));
    await Promise.all(
      parties.map(async (party) => {
        const callId = await party.call('service:echo');
        await party.answered(callId);
        await party.connected();
      }),
    );
    expect(gw.calls.size).toBe(CALLS + 1);
    // Each party sends its own tone and hears it back: 50 streams on one port, none crossed.
    const echoes = await Promise.all(parties.map((party) => measurePcmu(party.endpoint!, () => sendTone(party.endpoint!, 25))));
    for (const echo of echoes) {
      expect(echo.received).toBeGreaterThan(15);
      expect(echo.rms).toBeGreaterThan(1000);
    }
    const ports = new Set(parties.flatMap(anchorCandidatePorts));
    expect([...ports]).toEqual([port]);
  }, 120_000);

  it('refuses a mux port together with an ICE port range', async () => {
    await expect(startTestGateway({ media: { iceUdpMux: { port: 40000 }, icePortMin: 41000, icePortMax: 41100 } })).rejects.toThrow(/iceUdpMux/);
  });
});
