import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { allocatePort, udpPortFree } from '../support/sip/ports.js';
import { runSipp, type SippResult } from '../support/sip/sipp.js';
import { startTestGateway } from '../support/test-gateway.js';
import { WsTestClient } from '../support/ws-test-client.js';
import { makeWebRtcTestPeer, PCMU, TELEPHONE_EVENT_8K } from '../support/webrtc-test-peer.js';

// node-datachannel aborts the process when its ICE port range is exhausted;
// the anchor must refuse the call that would need one port too many instead.
// The RTP range likewise: a call that finds no free pair is refused as
// `overloaded` (SIP callers: 503 with Retry-After), and the others go on.

let gateway: Gateway | undefined;
const closers: (() => unknown)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await gateway?.stop();
  gateway = undefined;
});

async function offer(name: string): Promise<string> {
  const endpoint = makeWebRtcTestPeer(name, (close) => closers.push(close));
  return endpoint.createOffer([PCMU]);
}

describe('anchor ICE port capacity', () => {
  it('a call beyond media.icePortMin..icePortMax ends with overloaded; the gateway and the first call go on', async () => {
    const port = await allocatePort();
    gateway = await startTestGateway({ media: { icePortMin: port, icePortMax: port } });
    const alice = await WsTestClient.login(gateway.httpPort, 'alice');
    closers.push(() => alice.close());

    alice.send({ type: 'call', callId: 'echo-call-first', to: 'service:echo', sdp: await offer('first') });
    await alice.next('answered', (f) => f.callId === 'echo-call-first');
    expect(gateway.media.webRtcEndpoints).toBe(1);

    alice.send({ type: 'call', callId: 'echo-call-second', to: 'service:echo', sdp: await offer('second') });
    expect(await alice.next('ended', (f) => f.callId === 'echo-call-second')).toMatchObject({ reason: 'overloaded' });
    expect(gateway.calls.get('echo-call-first')?.state).toBe('active');

    alice.send({ type: 'hangup', callId: 'echo-call-first' });
    await expect.poll(() => gateway!.media.webRtcEndpoints).toBe(0);
    alice.send({ type: 'call', callId: 'echo-call-third', to: 'service:echo', sdp: await offer('third') });
    await alice.next('answered', (f) => f.callId === 'echo-call-third');
  }, 20_000);
});

/** An even port whose pair (port, port + 1) is free on loopback now, for an RTP range of one pair. */
async function freeRtpPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await allocatePort();
    const even = port % 2 === 0 ? port : port + 1;
    if ((await udpPortFree(even)) && (await udpPortFree(even + 1))) return even;
  }
  throw new Error('no free RTP port pair');
}

function expectSippSuccess(result: SippResult): void {
  expect(result.exitCode, `sipp failed:\n${result.errors}\n${result.stderr.slice(-2000)}`).toBe(0);
  expect(result.stats.successfulCalls).toBe(1);
}

describe('anchor RTP port capacity', () => {
  it('with the one RTP pair taken, an inbound SIP call gets 503 with Retry-After and a web call to SIP ends overloaded; the first call goes on', async () => {
    const rtpPort = await freeRtpPair();
    const sipPort = await allocatePort();
    gateway = await startTestGateway({ sip: { enabled: true, port: sipPort }, media: { rtpPortMin: rtpPort, rtpPortMax: rtpPort + 1 } });
    const [alice, bob] = await Promise.all([WsTestClient.login(gateway.httpPort, 'alice'), WsTestClient.login(gateway.httpPort, 'bob')]);
    closers.push(() => alice.close(), () => bob.close());

    // The first call holds the only pair while it talks for a few seconds.
    const first = runSipp({ scenario: 'uac-call-bye', remote: `127.0.0.1:${sipPort}`, service: 'alice', pauseMs: 4_000, timeoutS: 30 });
    const incoming = await alice.next('incoming', () => true, 10_000);
    const endpoint = makeWebRtcTestPeer('alice-web', (close) => closers.push(close));
    alice.send({ type: 'accept', callId: incoming.callId, sdp: await endpoint.answerOffer(incoming.sdp, [PCMU, TELEPHONE_EVENT_8K]) });
    expect(gateway.media.ports.inUse).toBe(1);

    expectSippSuccess(await runSipp({ scenario: 'uac-service-unavailable', remote: `127.0.0.1:${sipPort}`, service: 'bob', timeoutS: 10 }));

    bob.send({ type: 'call', callId: 'bob-to-sip', to: 'sip:carol@127.0.0.1', sdp: await offer('bob-web') });
    expect(await bob.next('ended', (f) => f.callId === 'bob-to-sip', 10_000)).toMatchObject({ reason: 'overloaded' });

    expect(gateway.calls.get(incoming.callId)?.state).toBe('active');
    expect(await alice.next('ended', (f) => f.callId === incoming.callId, 15_000)).toMatchObject({ reason: 'hangup' });
    expectSippSuccess(await first);
    await expect.poll(() => gateway!.media.ports.inUse).toBe(0);
  }, 45_000);
});
