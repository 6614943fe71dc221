import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { useBrowserPages } from '../support/browser-pages.js';
import { ANCHOR_ON_LOOPBACK, startTestGateway } from '../support/test-gateway.js';

// The media quality metrics the operators' dashboard reads, from a real
// anchored call: a Chromium page dials service:echo, and the gateway's
// /metrics shows the packets flowing while the call lasts, then each leg's
// loss and jitter once it ended.

const pages = useBrowserPages();
let gateway: Gateway | undefined;

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

/** One sample of the Prometheus text at /metrics: `name{labels}` -> value. */
async function scrape(): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${gateway!.httpPort}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

describe('anchored media metrics', () => {
  it('count packets both ways while an echo call lasts, then observe loss and jitter per leg at its end', async () => {
    gateway = await startTestGateway(ANCHOR_ON_LOOPBACK);
    const page = await pages.openPage(`http://127.0.0.1:${gateway.httpPort}`);
    await page.login('alice');
    await page.dial('service:echo');
    await page.waitForState('active');

    // 50 packets/s each way per leg: well over 100 within a few seconds, read while the call goes on.
    const packets = (samples: Map<string, number>, direction: string) => samples.get(`switchboard_anchor_packets_total{type="web-service",direction="${direction}"}`) ?? 0;
    await expect.poll(async () => packets(await scrape(), 'in'), { timeout: 10_000 }).toBeGreaterThan(100);
    const during = await scrape();
    expect(packets(during, 'out')).toBeGreaterThan(100);
    expect(during.get('switchboard_anchor_call_loss_ratio_count{type="web-service"}') ?? 0).toBe(0);

    await page.hangup();
    await page.waitForState('ended');
    const after = await scrape();
    expect(packets(after, 'in')).toBeGreaterThanOrEqual(packets(during, 'in'));
    // Both legs (the browser's WebRTC leg and the echo's RTP leg) carried media: two observations each.
    expect(after.get('switchboard_anchor_call_loss_ratio_count{type="web-service"}')).toBe(2);
    expect(after.get('switchboard_anchor_call_jitter_seconds_count{type="web-service"}')).toBe(2);
    // Loopback loses nothing worth the name, and its jitter stays far below a packet's 20 ms.
    expect(after.get('switchboard_anchor_call_loss_ratio_sum{type="web-service"}')).toBeLessThan(0.05);
    expect(after.get('switchboard_anchor_call_jitter_seconds_sum{type="web-service"}')).toBeLessThan(0.1);
    expect(after.get('switchboard_anchor_packets_lost_total{type="web-service"}')).toBeGreaterThanOrEqual(0);
  }, 60_000);
});
