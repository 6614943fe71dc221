import { describe, expect, it } from 'vitest';
import { allocatePort } from '../support/sip/ports.js';
import { openRawUdp, rawRequest, type RawUdpPeer } from '../support/sip/raw-sip.js';
import { testScope } from '../support/test-scope.js';

// Every SIP request costs the gateway a full sip.js parse, which is slow per URI parameter and list
// item. A peer must not be able to buy seconds of the event loop with a few datagrams, or with a flood.

const scope = testScope();

async function sipGateway(inbound: Record<string, number> = {}): Promise<number> {
  const sipPort = await allocatePort();
  await scope.start({ sip: { enabled: true, port: sipPort, inbound } });
  return sipPort;
}

async function udpPeer(address: string): Promise<RawUdpPeer> {
  const peer = await openRawUdp(address);
  scope.defer(() => peer.close());
  return peer;
}

function options(peer: RawUdpPeer, sipPort: number, branch: string, extra: string[] = []): string {
  return rawRequest({ method: 'OPTIONS', user: 'switchboard', target: `127.0.0.1:${sipPort}`, transport: 'UDP', sentBy: `${peer.address}:${peer.port}`, branch, extra });
}

describe('what one SIP request may ask the parser to read', () => {
  it.each([
    ['12,000 Contact parameters', [`Contact: <sip:raw@127.0.0.2>${';p=v'.repeat(12_000)}`]],
    ['2,000 Record-Route entries', [`Record-Route: ${Array.from({ length: 2000 }, (_, i) => `<sip:10.0.${i % 250}.1;lr>`).join(',')}`]],
    ['300 header fields', Array.from({ length: 300 }, (_, i) => `X-Filler-${i}: ${i}`)],
  ])('%s get 400 with a Warning before sip.js parses them, and the next request is served', async (_what, extra) => {
    const sipPort = await sipGateway();
    const peer = await udpPeer('127.0.0.2');
    peer.send(options(peer, sipPort, 'z9hG4bKbig', extra), sipPort);
    const refused = await peer.next((message) => message.includes('branch=z9hG4bKbig'));
    expect(refused).toMatch(/^SIP\/2\.0 400 /);
    expect(refused).toMatch(/^Warning: 399 \S+ "More than \d+ header (parameters and list items|fields)"/m);
    peer.send(options(peer, sipPort, 'z9hG4bKsmall'), sipPort);
    expect(await peer.next((message) => message.includes('branch=z9hG4bKsmall'))).toMatch(/^SIP\/2\.0 200 /);
  }, 20_000);
});

describe('requests per source (sip.inbound.requestsPerSecond)', () => {
  it('a source sending more than its rate is dropped unanswered while another source is served', async () => {
    const sipPort = await sipGateway({ requestsPerSecond: 50 });
    const flooder = await udpPeer('127.0.0.2');
    const caller = await udpPeer('127.0.0.3');
    // About 2,500 requests a second, in bursts the socket buffer can hold, until the gateway has
    // read 1,000 datagrams (a loaded machine reads them late, and the kernel drops what overflows
    // the buffer meanwhile: what was sent is not what the gateway saw).
    const counters = () => scope.gateway!.sip!.transportCounters()!;
    let sent = 0;
    const started = Date.now();
    const flood = setInterval(() => {
      if (counters().received.UDP >= 1000) return;
      for (let i = 0; i < 50; i++) flooder.send(options(flooder, sipPort, `z9hG4bKflood${sent++}`), sipPort);
    }, 20);
    // The other source retransmits as a UA does over UDP (RFC 3261 Timer E) until it gets its answer.
    const retransmit = setInterval(() => caller.send(options(caller, sipPort, 'z9hG4bKother'), sipPort), 200);
    try {
      expect(await caller.next((message) => message.includes('branch=z9hG4bKother'), 5000)).toMatch(/^SIP\/2\.0 200 /);
      await expect.poll(() => counters().received.UDP, { timeout: 10_000 }).toBeGreaterThanOrEqual(1000);
    } finally {
      clearInterval(flood);
      clearInterval(retransmit);
    }
    const { requestsRateLimited: limited, received } = counters();
    expect(limited).toBeGreaterThan(received.UDP / 2);
    // What the flooder got answered is its rate, whatever the machine's speed: a second's burst
    // (50) plus 50 a second for as long as the test ran, not the thousands it sent.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const seconds = (Date.now() - started) / 1000;
    expect(flooder.received.length).toBeLessThanOrEqual(50 + Math.ceil(50 * seconds));
    expect(sent).toBeGreaterThanOrEqual(received.UDP - 50);
  }, 20_000);
});
