import { setTimeout as sleep } from 'node:timers/promises';
import nodeDataChannel, { type PeerConnection, type Track } from 'node-datachannel';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseAddress } from '../../src/calls/address.js';
import type { Gateway } from '../../src/gateway.js';
import { dtlsSetupOf } from '../../src/media/webrtc-sdp.js';
import { RtpTonePeer } from '../../src/testing/rtp-tone-peer.js';
import { RtpPeerLeg } from '../support/rtp-peer-leg.js';
import { ANCHOR_ON_LOOPBACK, startTestGateway } from '../support/test-gateway.js';
import { UdpTraceProxy, type TraceEntry } from '../support/udp-trace-proxy.js';
import { makeWebRtcTestPeer, PCMU } from '../support/webrtc-test-peer.js';
import { WsTestClient } from '../support/ws-test-client.js';

// Issue #18: a DTLS flight that reaches a party before it can use it is lost more often than
// not (node-datachannel keeps it and loses it replaying it) and only re-sent a second later. So
// the first flight must come from the party that applied the last description, and only once the
// other one's DTLS transport is up. A UDP proxy between the gateway's anchor and the party writes
// down every datagram in order; the party's signaling is slowed down (the answer waits 300 ms),
// as a browser's is on a real network, so that an early flight would show.

/** Kept until afterAll: node-datachannel crashes when V8 collects a wrapper before cleanup() (stun-server.test.ts). */
const native: (PeerConnection | Track)[] = [];
const cleanups: (() => void | Promise<void>)[] = [];
let gateway: Gateway | undefined;

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await gateway?.stop();
  gateway = undefined;
});

afterAll(() => {
  for (const object of native) object.close();
  nodeDataChannel.cleanup();
  native.length = 0;
});

const SLOW_SIGNALING_MS = 300;

interface CandidatePort {
  address: string;
  port: number;
}

/** The host candidates of `sdp` pointed at the proxy's `port` instead, and where they pointed before. */
function throughProxy(sdp: string, port: number): { sdp: string; was: CandidatePort | undefined } {
  let was: CandidatePort | undefined;
  const rewritten = sdp.replace(/^(a=candidate:\S+ 1 UDP \d+ )(\S+) (\d+)( typ host.*)$/gim, (_line, head: string, address: string, original: string, tail: string) => {
    was ??= { address, port: Number(original) };
    return `${head}127.0.0.1 ${port}${tail}`;
  });
  return { sdp: rewritten, was };
}

const isDtls = (entry: TraceEntry): boolean => entry.kind === 'dtls' || entry.kind === 'dtls-client-hello';
const mark = (label: string) => (entry: TraceEntry): boolean => entry.type === 'mark' && entry.label === label;

describe('the first DTLS flight of an anchored call', () => {
  it('the anchor answers a browser with setup:passive: the browser, which has the answer, sends the first flight', async () => {
    gateway = await startTestGateway(ANCHOR_ON_LOOPBACK);
    const proxy = await UdpTraceProxy.start();
    cleanups.push(() => proxy.close());
    // Its candidates in the offer: they are what the proxy rewrites to stand between the two.
    const browser = makeWebRtcTestPeer('browser', (close) => cleanups.push(close), { candidatesInOffer: true });
    const client = await WsTestClient.login(gateway.httpPort, 'alice');
    cleanups.push(() => client.close());

    const offer = throughProxy(await browser.createOffer([PCMU]), proxy.anchorFacingPort);
    expect(dtlsSetupOf(offer.sdp)).toBe('actpass');
    proxy.setParty(offer.was!);
    client.send({ type: 'call', id: 'call', callId: 'dtls-first-flight-1', to: 'service:echo', sdp: offer.sdp });
    const answered = await client.next('answered', undefined, 10_000);

    // The decision: the anchor takes the server role.
    expect(dtlsSetupOf(answered.sdp)).toBe('passive');

    // The answer travels slowly; whatever the anchor sends meanwhile reaches a browser that cannot use it.
    await sleep(SLOW_SIGNALING_MS);
    const answer = throughProxy(answered.sdp, proxy.partyFacingPort);
    if (answer.was) proxy.setAnchor(answer.was);
    proxy.mark('browser applied the answer');
    browser.acceptAnswer(answer.sdp);
    // Trickled anchor candidates are not added: every datagram stays on the proxy.
    await waitFor(() => browser.state === 'connected', 'the browser connected');

    const applied = proxy.indexOf(mark('browser applied the answer'));
    const firstDtls = proxy.indexOf(isDtls);
    expect(firstDtls, JSON.stringify(proxy.trace)).toBeGreaterThan(applied);
    expect(proxy.trace[firstDtls]).toMatchObject({ direction: 'to-anchor', kind: 'dtls-client-hello' });
  }, 30_000);

  it('the anchor offers a browser without its candidates: the browser answers active and its ClientHello comes only once the anchor ICE is up', async () => {
    gateway = await startTestGateway(ANCHOR_ON_LOOPBACK);
    const bob = await WsTestClient.login(gateway.httpPort, 'bob');
    cleanups.push(() => bob.close());
    const phone = await RtpTonePeer.create();
    cleanups.push(() => phone.close());
    const leg = new RtpPeerLeg('dtls-first-flight-2', parseAddress('tel:5550100'), phone);
    await gateway.calls.place({ id: leg.id, caller: leg, target: parseAddress('web:bob'), sdp: phone.offerSdp() });
    const incoming = await bob.next('incoming', undefined, 10_000);

    // The decision: the offer keeps actpass (RFC 8842 section 5.2) and holds the anchor's candidates back.
    expect(dtlsSetupOf(incoming.sdp)).toBe('actpass');
    expect(incoming.sdp).not.toMatch(/^a=candidate:/m);

    // Bob answers as Chrome does (node-datachannel's own role for an actpass offer: active).
    const proxy = await UdpTraceProxy.start();
    cleanups.push(() => proxy.close());
    const toBob = throughProxy(incoming.sdp, proxy.partyFacingPort);
    if (toBob.was) proxy.setAnchor(toBob.was);
    const pc = new nodeDataChannel.PeerConnection('bob', { iceServers: [], bindAddress: '127.0.0.1' });
    native.push(pc);
    const audio = new nodeDataChannel.Audio(/^a=mid:(\S+)/m.exec(incoming.sdp)?.[1] ?? '0', 'SendRecv');
    audio.addAudioCodec(0, 'PCMU/8000');
    native.push(pc.addTrack(audio));
    const gathered = new Promise<void>((resolve) => pc.onGatheringStateChange((state) => state === 'complete' && resolve()));
    const connected = new Promise<void>((resolve) => pc.onStateChange((state) => state === 'connected' && resolve()));
    pc.setRemoteDescription(toBob.sdp, 'offer');
    await gathered;
    const bobAnswer = throughProxy(pc.localDescription()!.sdp, proxy.anchorFacingPort);
    expect(dtlsSetupOf(bobAnswer.sdp)).toBe('active');
    proxy.setParty(bobAnswer.was!);
    // Trickled anchor candidates are not added: every datagram stays on the proxy.

    await sleep(SLOW_SIGNALING_MS);
    proxy.mark('bob sent the answer');
    bob.send({ type: 'accept', callId: incoming.callId, sdp: bobAnswer.sdp });
    await Promise.race([connected, sleep(10_000).then(() => Promise.reject(new Error('bob never connected')))]);
    // The held candidates follow, then their end.
    await bob.next('candidate', (frame) => frame.candidate === null, 10_000);

    const sent = proxy.indexOf(mark('bob sent the answer'));
    const anchorIceUp = proxy.indexOf((entry) => entry.direction === 'to-anchor' && entry.kind === 'stun-success');
    const firstDtls = proxy.indexOf(isDtls);
    expect(firstDtls, JSON.stringify(proxy.trace)).toBeGreaterThan(sent);
    expect(anchorIceUp).toBeGreaterThan(sent);
    expect(firstDtls).toBeGreaterThan(anchorIceUp);
    expect(proxy.trace[firstDtls]).toMatchObject({ direction: 'to-anchor', kind: 'dtls-client-hello' });
  }, 30_000);
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}
