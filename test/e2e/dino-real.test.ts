import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { useBrowserPages } from '../support/browser-pages.js';
import { COMPONENT_DOMAIN, RealDinoLab } from '../support/dino/real-dino-lab.js';
import { LOOPBACK_NETWORKS, startTestGateway } from '../support/test-gateway.js';

// The real Dino (Debian dino-im 0.4.2) and a web user through the gateway's XMPP component, both
// directions: the demo page in headless Chromium dials xmpp:romeo@dino.test and Dino answers
// through its `accept-call` D-Bus action; Dino calls alice (its call button driven through
// AT-SPI) and the page answers. Audio is checked at both ends (the page's inbound RTP and its
// energy; Dino's output recorded from its PulseAudio sink). Dino answers without
// <group/> (no XEP-0338): this call failed at the answer until the gateway restored the BUNDLE
// group (issue #20). RealDinoLab has the lab's parts and why each is there.

const ALICE = `alice@${COMPONENT_DOMAIN}`;
// CI keeps test-output/screenshots (.ci/run).
const ARTIFACTS = join(import.meta.dirname, '../../test-output/screenshots/dino');

// Chromium binds every interface here: it must reach Dino on the lab's veth. The gateway passes
// only loopback and lab candidates (ice.candidateNetworks), and Dino's namespace has no other route.
const pages = useBrowserPages({ loopbackSocketsOnly: false });
let lab: RealDinoLab | undefined;
let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  await lab?.stop();
  lab = undefined;
});

async function waitFor<T>(read: () => Promise<T | undefined>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no ${what} within ${timeoutMs} ms`);
}

type DemoPage = Awaited<ReturnType<typeof pages.openPage>>;

/** Both ends hear the other for 4 s (screenshots as `<name>-page.png`, `<name>-screen.png`). */
async function expectAudioBothWays(page: DemoPage, dino: RealDinoLab, name: string): Promise<void> {
  const [pageHeard, dinoHeard] = await Promise.all([page.inboundAudio(4000), dino.recordDino(5)]);
  await page.page.screenshot({ path: join(ARTIFACTS, `${name}-page.png`) });
  dino.saveScreen(join(ARTIFACTS, `${name}-screen.png`));
  const dinoWarnings = dino.dinoOutput.split('\n').filter((line) => /WARNING|CRITICAL/.test(line));
  const context = JSON.stringify({ pageHeard, dinoHeard, dinoWarnings: dinoWarnings.slice(-15) });
  // 20 ms frames: ~200 in 4 s; Dino's voice processing may thin the pauses.
  expect(pageHeard.packetsReceived, context).toBeGreaterThan(100);
  expect(pageHeard.totalAudioEnergy, context).toBeGreaterThan(0);
  // At least a second of Dino's output: parec's own start eats into its 5 s on a loaded machine.
  expect(dinoHeard.samples, context).toBeGreaterThan(16_000);
  expect(dinoHeard.rms, context).toBeGreaterThan(300);
}

/** The page hangs up: the gateway forgets the call and Dino hears session-terminate with success. */
async function hangUpFromThePage(page: DemoPage): Promise<void> {
  await page.hangup();
  await page.waitForState('ended');
  await expect.poll(() => gateway!.calls.size).toBe(0);
  await expect.poll(() => /session-terminate[\s\S]{0,600}success/.test(lab!.dinoOutput), { timeout: 10_000 }).toBe(true);
}

describe('the real Dino 0.4.2', () => {
  it('a web user calls Dino: Dino rings, answers (accept-call over D-Bus), audio flows both ways, the page hangs up', async () => {
    lab = await RealDinoLab.start({ contacts: [ALICE] });
    gateway = await startTestGateway({
      ice: { candidateNetworks: [...LOOPBACK_NETWORKS, lab.network] },
      media: { mode: 'relay' },
      xmpp: { enabled: true, component: { domain: COMPONENT_DOMAIN, password: 'component-secret', server: lab.componentService }, outbound: { guests: true } },
    });
    await lab.startDino();
    const page = await pages.openPage(`http://127.0.0.1:${gateway.httpPort}`);
    await page.login('alice');
    await expect.poll(() => page.registrationState(`xmpp:${ALICE}`), { timeout: 10_000 }).toBe('registered');

    const database = lab.database;
    const before = Number(await lab.sql(database, 'select coalesce(max(id), 0) from call'));
    await page.dial(`xmpp:${lab.dinoJid}`);
    // Dino shows the incoming call once the JMI propose arrived; it keeps it in its database.
    const callId = await waitFor(async () => (await lab!.sql(database, `select id from call where id > ${before} order by id desc limit 1`)) || undefined, 'call in Dino', 30_000);
    const conversation = await lab.sql(database, `select c.id from conversation c join jid j on j.id = c.jid_id where j.bare_jid = '${ALICE}'`);
    expect(conversation, lab.dinoOutput.slice(-3000)).toMatch(/^\d+$/);
    await lab.dinoAction('accept-call', `<(${conversation}, ${callId})>`);
    await page.waitForState('active', 30_000);

    // 4 s of call: Chromium hears Dino's speech-like microphone, Dino plays Chromium's fake microphone.
    await expectAudioBothWays(page, lab, 'web-calls-dino');
    await hangUpFromThePage(page);
  }, 180_000);

  // In the suite since 2026-12-04: of 21 runs on this machine (9 quiet, 12 beside two busy loops
  // or three heavy test files) 20 passed, the other on the recording length fixed below. Before, it ran by hand only: on a machine loaded to a
  // load average of 6-8, 2 of 5 runs connected and Dino heard the page but the page received no RTP
  // from Dino (cause not found; Dino logs "Sending RTP audio buffer seq N with SSRC X when our ssrc
  // is Y", plugins/rtp/src/stream.vala:321, in passing runs too, and "Counterpart's preferred content
  // type doesn't match any of our sent ones", content_parameters.vala:165, because Chromium's opus
  // answer carries minptime), and one more failed only because parec, started late, recorded under
  // 2 s of Dino's output (now: at least 1 s of a 5 s recording). The assertion's context prints
  // both ends' figures and Dino's last warnings if it fails again.
  it("Dino calls the web user (JMI, Dino's offer without BUNDLE, SDES beside DTLS): the page answers, audio flows both ways, the page hangs up", async () => {
    lab = await RealDinoLab.start({ contacts: [ALICE] });
    gateway = await startTestGateway({
      ice: { candidateNetworks: [...LOOPBACK_NETWORKS, lab.network] },
      media: { mode: 'relay' },
      xmpp: { enabled: true, component: { domain: COMPONENT_DOMAIN, password: 'component-secret', server: lab.componentService }, outbound: { guests: true } },
    });
    const page = await pages.openPage(`http://127.0.0.1:${gateway.httpPort}`);
    await page.login('alice');
    await expect.poll(() => page.registrationState(`xmpp:${ALICE}`), { timeout: 10_000 }).toBe('registered');
    // alice is online before Dino logs in: Prosody's probe for Dino's roster brings her presence and
    // caps, which is what makes Dino show its call button.
    await lab.startDino({ openChats: [ALICE] });
    await lab.startAudioCall(ALICE);
    await page.waitForState('incoming', 30_000);
    await page.answer();
    await page.waitForState('active', 30_000);

    await expectAudioBothWays(page, lab, 'dino-calls-web');
    await hangUpFromThePage(page);
  }, 180_000);
});
