import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { useBrowserPages } from '../support/browser-pages.js';
import { allocatePort } from '../support/sip/ports.js';
import { startTestGateway } from '../support/test-gateway.js';

// A call the dial plan refuses (`forbidden`) must leave no trace but its own
// error: the SDK's ICE candidates for it used to follow the `call` frame and
// each came back as an `unknown-call` error, counted in
// switchboard_signaling_errors_total as if the client had misbehaved.

const pages = useBrowserPages();
let gateway: Gateway | undefined;

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

async function signalingErrors(): Promise<Record<string, number>> {
  const metric = await gateway!.metrics.signalingErrors.get();
  return Object.fromEntries(metric.values.map((value) => [String(value.labels.code), value.value]));
}

describe('a refused call from the demo page', () => {
  it('ends with forbidden; the SDK sent no candidates for it and the gateway counted no unknown-call errors', async () => {
    // SIP on, with an empty dial plan: a guest may not dial tel: numbers.
    gateway = await startTestGateway({ sip: { enabled: true, port: await allocatePort(), outbound: { dialPlan: [] } } });
    const page = await pages.openPage(`http://127.0.0.1:${gateway.httpPort}`);
    const sent: { type?: string; callId?: string }[] = [];
    page.page.on('websocket', (socket) => socket.on('framesent', ({ payload }) => sent.push(JSON.parse(String(payload)))));
    await page.login('alice');

    for (let attempt = 0; attempt < 3; attempt++) {
      await page.dial('tel:+19005550100');
      await page.waitForState('ended');
      expect(await page.endReason()).toBe('forbidden');
    }
    // Time for every candidate Chromium gathered to reach the gateway (loopback: milliseconds).
    await page.page.waitForTimeout(1500);

    // The SDK sends candidates only once the gateway acked the call: a refused call has none.
    expect(sent.filter((frame) => frame.type === 'call')).toHaveLength(3);
    expect(sent.filter((frame) => frame.type === 'candidate')).toEqual([]);
    const errors = await signalingErrors();
    expect(errors.forbidden).toBe(3);
    expect(errors['unknown-call'] ?? 0).toBe(0);
    expect(Object.keys(errors).sort()).toEqual(['forbidden']);
  }, 60_000);
});
