import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { useBrowserPages } from '../support/browser-pages.js';
import { routeTelToTonePhones, type RtpPeerLeg } from '../support/rtp-peer-leg.js';
import type { SoftphonePage } from '../support/softphone-page.js';
import { startTestGateway } from '../support/test-gateway.js';

// A browser in an anchored call to a plain-RTP phone loses its
// PeerConnection while its WebSocket stays open. The gateway must end the
// call with `media-timeout` on both legs rather than keep it (and its ports)
// forever. What the anchor sees, found with this very setup:
// - pc.close(): Chromium sends a DTLS close_notify; node-datachannel reports
//   `disconnected` then `closed` within milliseconds;
// - a browser that stops answering (its renderer frozen): libjuice's ICE
//   consent freshness (RFC 7675) expires 30 s after the last answered check,
//   and node-datachannel reports `failed` then `closed`.

const pages = useBrowserPages();
let gateway: Gateway | undefined;
const legs: RtpPeerLeg[] = [];
const frozen: number[] = [];

afterEach(async () => {
  for (const pid of frozen.splice(0)) signal(pid, 'SIGCONT');
  for (const leg of legs.splice(0)) await leg.peer.close();
  await gateway?.stop();
  gateway = undefined;
});

async function anchoredCallToPhone(name: string): Promise<{ page: SoftphonePage; leg: () => RtpPeerLeg }> {
  // The phone sends a tone all along: only the browser's side can be what ends the call.
  gateway = await startTestGateway({ media: { inactivityTimeoutMs: 3000 } });
  routeTelToTonePhones(gateway, legs);
  const page = await pages.openPage(`http://127.0.0.1:${gateway.httpPort}`);
  await page.login(name);
  await page.dial('tel:100');
  await page.waitForState('active');
  // Media flows both ways before anything breaks.
  expect((await page.inboundAudio(1000)).packetsReceived).toBeGreaterThan(20);
  await expect.poll(() => legs.at(-1)!.peer.received.packets, { timeout: 5000 }).toBeGreaterThan(20);
  return { page, leg: () => legs.at(-1)! };
}

describe('a browser whose PeerConnection is gone while its WebSocket lives', () => {
  it('pc.close() in the page ends the anchored call with media-timeout on both legs', async () => {
    const { page, leg } = await anchoredCallToPhone('alice');
    await page.page.evaluate(() => (window as unknown as { switchboard: { call: { pc: RTCPeerConnection } } }).switchboard.call.pc.close());

    await page.waitForState('ended', 15_000);
    expect(await page.endReason()).toBe('media-timeout');
    expect(await page.page.getAttribute('#end-reason', 'title')).toBe('web:alice closed its WebRTC connection');
    await expect.poll(() => leg().endReason).toBe('media-timeout');
    expect(leg().endDetail).toBe('web:alice closed its WebRTC connection');
    expect(gateway!.calls.size).toBe(0);
    expect(gateway!.media.ports.inUse).toBe(0);
    expect(gateway!.media.webRtcEndpoints).toBe(0);

    // The WebSocket lived on: the same page places a new call that works.
    await page.dial('tel:100');
    await page.waitForState('active');
    expect((await page.inboundAudio(1000)).packetsReceived).toBeGreaterThan(20);
    await page.hangup();
    await page.waitForState('ended');
    expect(await page.endReason()).toBe('hangup');
  }, 60_000);

  it('a browser that stops answering (renderer frozen) is hung up once ICE consent expires', async () => {
    const { page, leg } = await anchoredCallToPhone('bob');
    // Freeze this browser's renderers (the page, its WebRTC stack and its WebSocket client). The
    // browser process and its network service live on, so the TCP connection stays open.
    const renderers = chromiumRenderers();
    expect(renderers.length).toBeGreaterThan(0);
    for (const pid of renderers) {
      frozen.push(pid);
      signal(pid, 'SIGSTOP');
    }
    // libjuice waits 30 s for consent; the bound leaves room on a busy machine.
    await expect.poll(() => leg().endReason, { timeout: 50_000, interval: 500 }).toBe('media-timeout');
    expect(leg().endDetail).toBe('web:bob lost its WebRTC connection (ICE consent expired or DTLS failed)');
    expect(gateway!.calls.size).toBe(0);

    // Thawed, the page reads the `ended` frame the gateway sent over the still open WebSocket.
    for (const pid of frozen.splice(0)) signal(pid, 'SIGCONT');
    await page.waitForState('ended', 15_000);
    expect(await page.endReason()).toBe('media-timeout');
  }, 90_000);
});

/** Chromium renderer processes started by this test process (the browser of useBrowserPages). */
function chromiumRenderers(): number[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ pid: Number(match[1]), ppid: Number(match[2]), args: match[3]! }));
  const ours = new Set([process.pid]);
  // Parents come before their children in ps order only by chance: repeat until nothing is added.
  for (let added = true; added; ) {
    added = false;
    for (const row of rows) {
      if (ours.has(row.ppid) && !ours.has(row.pid)) {
        ours.add(row.pid);
        added = true;
      }
    }
  }
  return rows.filter((row) => ours.has(row.pid) && row.args.includes('--type=renderer')).map((row) => row.pid);
}

function signal(pid: number, name: 'SIGSTOP' | 'SIGCONT'): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}
