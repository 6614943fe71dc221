import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { useBrowserPages } from '../support/browser-pages.js';
import { startCoturn, type Coturn } from '../support/coturn.js';
import type { SoftphonePage } from '../support/softphone-page.js';
import { startTestGateway } from '../support/test-gateway.js';

// Two Chromium pages on the demo softphone call each other through the gateway;
// media flows browser to browser (relay mode), on loopback.

const pages = useBrowserPages();
let gateway: Gateway | undefined;
let coturn: Coturn | undefined;

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  await coturn?.stop();
  coturn = undefined;
});

function openPage(query = ''): Promise<SoftphonePage> {
  return pages.openPage(`http://127.0.0.1:${gateway!.httpPort}`, query);
}

/** The minimum a second of the fake microphone's beeps produces at the other end. */
function expectAudio(audio: { packetsReceived: number; totalAudioEnergy: number; maxAudioLevel: number }): void {
  expect(audio.packetsReceived).toBeGreaterThan(50); // 50 packets/s of 20 ms audio
  expect(audio.totalAudioEnergy).toBeGreaterThan(0.001);
  expect(audio.maxAudioLevel).toBeGreaterThan(0.01);
}

describe('browser to browser through the demo page', () => {
  it('alice calls bob, both hear each other, alice hangs up and both see why', async () => {
    gateway = await startTestGateway();
    const alice = await openPage('?name=alice');
    const bob = await openPage();
    await alice.login('alice');
    await bob.login('bob');

    await alice.dial('web:bob');
    await bob.answer();
    await alice.waitForState('active');
    await bob.waitForState('active');

    const [heardByAlice, heardByBob] = await Promise.all([alice.inboundAudio(3000), bob.inboundAudio(3000)]);
    expectAudio(heardByAlice);
    expectAudio(heardByBob);
    const pair = await alice.selectedCandidateTypes();
    expect(pair.local).toBe('host');

    await alice.hangup();
    await alice.waitForState('ended');
    await bob.waitForState('ended');
    expect(await bob.endReason()).toBe('hangup');
    expect(await alice.endReason()).toBe('hangup');
    expect(gateway.calls.size).toBe(0);
  }, 60_000);

  it('the same call forced through a real coturn uses relay candidates and carries audio', async () => {
    coturn = await startCoturn();
    gateway = await startTestGateway({
      ice: { turn: [{ urls: [`turn:127.0.0.1:${coturn.port}?transport=udp`], secret: coturn.secret, ttlSeconds: 600 }] },
    });
    const alice = await openPage('?iceTransportPolicy=relay');
    const bob = await openPage('?iceTransportPolicy=relay');
    await alice.login('alice');
    await bob.login('bob');

    await alice.dial('web:bob');
    await bob.answer();
    await alice.waitForState('active', 20_000);
    await bob.waitForState('active', 20_000);

    expect(await alice.selectedCandidateTypes()).toEqual({ local: 'relay', remote: 'relay' });
    const [heardByAlice, heardByBob] = await Promise.all([alice.inboundAudio(3000), bob.inboundAudio(3000)]);
    expectAudio(heardByAlice);
    expectAudio(heardByBob);
    // coturn saw the allocations made with the gateway's REST credentials.
    expect(coturn.process.output()).toMatch(/ALLOCATE.*success|allocation.*created|session .* new/i);

    await bob.hangup();
    await alice.waitForState('ended');
    expect(await alice.endReason()).toBe('hangup');
  }, 60_000);
});
