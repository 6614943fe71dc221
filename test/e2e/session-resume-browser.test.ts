import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { useBrowserPages } from '../support/browser-pages.js';
import { startBaresip, type Baresip } from '../support/sip/baresip.js';
import { allocatePort } from '../support/sip/ports.js';
import type { SoftphonePage } from '../support/softphone-page.js';
import { startTcpCutProxy, type TcpCutProxy } from '../support/tcp-cut-proxy.js';
import { startTestGateway } from '../support/test-gateway.js';

// The demo page reaches the gateway through a TCP relay the test cuts (a reset: no close frame,
// as when Wi-Fi drops or a NAT forgets the flow) and keeps refusing for 5 s. The SDK resumes the
// session by itself once the relay lets it through; the call goes on with audio both ways.

const pages = useBrowserPages();
let gateway: Gateway | undefined;
let proxy: TcpCutProxy | undefined;
let phone: Baresip | undefined;
const OUTAGE_MS = 5000;

afterEach(async () => {
  await phone?.stop();
  phone = undefined;
  await proxy?.close();
  proxy = undefined;
  await gateway?.stop();
  gateway = undefined;
});

async function start(resumeWindowMs = 30_000): Promise<Gateway> {
  gateway = await startTestGateway({ sip: { enabled: true, port: await allocatePort() }, signaling: { resumeWindowMs } });
  proxy = await startTcpCutProxy(gateway.httpPort);
  return gateway;
}

function sdkState(page: SoftphonePage): Promise<{ resuming: boolean; loggedIn: boolean }> {
  return page.page.evaluate(() => {
    const client = (window as unknown as { switchboard: { client: { resuming: boolean; loggedIn: boolean } } }).switchboard.client;
    return { resuming: client.resuming, loggedIn: client.loggedIn };
  });
}

/** Cuts the page's connection, keeps the relay refusing for OUTAGE_MS, lets it through; resolves with the time from the cut to the resumed session. */
async function outage(page: SoftphonePage, expectResume = true): Promise<number> {
  const cutAt = Date.now();
  proxy!.refuse(true);
  proxy!.cut();
  await expect.poll(async () => (await sdkState(page)).resuming, { timeout: 5000 }).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS - (Date.now() - cutAt)));
  proxy!.refuse(false);
  if (!expectResume) return 0;
  await expect.poll(async () => sdkState(page), { timeout: 15_000, interval: 50 }).toEqual({ resuming: false, loggedIn: true });
  return Date.now() - cutAt;
}


describe('a web user whose connection drops for 5 s', () => {
  it('in an anchored call with baresip: the session resumes, audio flows both ways again, the phone never got a BYE', async () => {
    const gw = await start();
    const page = await pages.openPage(`http://127.0.0.1:${proxy!.port}`);
    await page.login('alice');
    phone = await startBaresip({ user: 'bob', toneHz: 440 });
    await page.dial(phone.uri);
    await phone.waitForCallEstablished(10_000);
    const establishedAt = Date.now();
    await page.waitForState('active');
    expect((await page.audioReceivedDuring(1500)).packets).toBeGreaterThan(40);
    const [call] = gw.calls.list();
    expect(call?.media.mode).toBe('anchor');

    const recoveredMs = await outage(page);
    console.log(`anchored call: session resumed ${recoveredMs} ms after the cut (${OUTAGE_MS} ms of it refused)`);
    const resumedAt = Date.now();
    expect(gw.calls.list().map((c) => c.id)).toEqual([call!.id]);
    expect(await page.page.textContent('#state')).toBe('active');

    const heardByPage = await page.audioReceivedDuring(3000);
    expect(heardByPage.packets).toBeGreaterThan(100);
    expect(heardByPage.energy).toBeGreaterThan(0.005);
    const heardByPhone = phone.recordedAudio({ skipS: (resumedAt - establishedAt) / 1000 });
    expect(heardByPhone.durationS).toBeGreaterThan(2);
    expect(heardByPhone.rms).toBeGreaterThan(100);
    expect(phone.events().some((event) => event.type === 'CALL_CLOSED')).toBe(false);

    // The resumed connection carries the call's signaling: the hang-up reaches the phone.
    await page.hangup();
    await phone.waitForCallClosed(10_000);
    const resumes = await gw.metrics.registry.getSingleMetricAsString('switchboard_session_resumes_total');
    expect(resumes).toMatch(/outcome="resumed"} 1$/m);
  }, 90_000);

  it('in a relayed call with another page: the session resumes, audio both ways, either side can hang up', async () => {
    const gw = await start();
    const alice = await pages.openPage(`http://127.0.0.1:${proxy!.port}`);
    await alice.login('alice');
    const bob = await pages.openPage(`http://127.0.0.1:${gw.httpPort}`);
    await bob.login('bob');
    await alice.callAndConnect(bob, 'bob');
    expect(gw.calls.list()[0]?.media.mode).toBe('relay');

    const recoveredMs = await outage(alice);
    console.log(`relayed call: session resumed ${recoveredMs} ms after the cut (${OUTAGE_MS} ms of it refused)`);
    const [heardByAlice, heardByBob] = await Promise.all([alice.audioReceivedDuring(2000), bob.audioReceivedDuring(2000)]);
    expect(heardByAlice.packets).toBeGreaterThan(50);
    expect(heardByAlice.energy).toBeGreaterThan(0.001);
    expect(heardByBob.packets).toBeGreaterThan(50);
    expect(heardByBob.energy).toBeGreaterThan(0.001);

    await bob.hangup();
    await alice.waitForState('ended');
    expect(gw.calls.size).toBe(0);
  }, 90_000);

  it('past the resume window the call ends on both sides, and the page signs in again', async () => {
    const gw = await start(2000);
    const page = await pages.openPage(`http://127.0.0.1:${proxy!.port}`);
    await page.login('alice');
    phone = await startBaresip({ user: 'bob', toneHz: 440 });
    await page.dial(phone.uri);
    await phone.waitForCallEstablished(10_000);
    await page.waitForState('active');

    await outage(page, false);
    // The gateway gave up after 2 s: the phone got its BYE; the page ended the call itself.
    await phone.waitForCallClosed(10_000);
    await page.waitForState('ended');
    expect(await page.page.textContent('#end-reason')).toBe('resume-failed');
    await expect.poll(async () => (await sdkState(page)).loggedIn, { timeout: 20_000 }).toBe(true);
    expect(gw.calls.size).toBe(0);
  }, 90_000);
});
