import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'sdp-transform';
import { RtpTonePeer, type RtpTonePeerOptions } from '../../src/testing/rtp-tone-peer.js';

const TEST_TIMEOUT_MS = 10_000;

const peers: RtpTonePeer[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
});

async function peer(options: RtpTonePeerOptions = {}): Promise<RtpTonePeer> {
  const created = await RtpTonePeer.create(options);
  peers.push(created);
  return created;
}

/** Offer from `a`, answer from `b`, as a SIP call between two phones would. */
function negotiate(a: RtpTonePeer, b: RtpTonePeer): { offer: string; answer: string } {
  const offer = a.offerSdp();
  const answer = b.answerSdp(offer);
  a.setRemoteFromAnswer(answer);
  return { offer, answer };
}

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('RtpTonePeer', () => {
  it('offers its codecs and telephone-event over RTP/AVP', { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = await peer({ codecs: [{ name: 'PCMA', payloadType: 8 }, { name: 'PCMU', payloadType: 96 }], telephoneEventPayloadType: 110 });
    const sdp = parse(a.offerSdp());
    const audio = sdp.media[0]!;
    expect(sdp.connection).toMatchObject({ version: 4, ip: '127.0.0.1' });
    expect(audio).toMatchObject({ type: 'audio', port: a.localPort, protocol: 'RTP/AVP', payloads: '8 96 110', ptime: 20, direction: 'sendrecv' });
    expect(audio.rtp).toEqual([
      { payload: 8, codec: 'PCMA', rate: 8000 },
      { payload: 96, codec: 'PCMU', rate: 8000 },
      { payload: 110, codec: 'telephone-event', rate: 8000 },
    ]);
    expect(audio.fmtp).toEqual([{ payload: 110, config: '0-15' }]);
  });

  it('hears the other peer’s tone and digits over real UDP', { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = await peer({ toneHz: 440 });
    const b = await peer({ toneHz: 1000 });
    negotiate(a, b);
    a.start();
    b.start();
    await waitFor(() => a.received.packets >= 25 && b.received.packets >= 25);

    const atB = b.received;
    expect(atB.rms).toBeGreaterThan(1000);
    expect(atB.tonePower(440)).toBeGreaterThan(100 * atB.tonePower(1000));
    // A 0.3 amplitude sine: power 0.09, a little less after G.711.
    expect(atB.tonePower(440)).toBeGreaterThan(0.07);
    expect(a.received.tonePower(1000)).toBeGreaterThan(100 * a.received.tonePower(440));
    expect(atB.ssrcs).toEqual([a.ssrc]);
    expect(atB.payloadTypes).toEqual(new Set([0]));
    expect(atB.sequenceGaps).toBe(0);
    expect(atB.firstPacketAt).toBeDefined();

    await a.sendDtmf('5');
    await a.sendDtmf('#');
    await waitFor(() => b.received.digits === '5#');
    // The telephone-event payload type joined the audio one; the tone carries on after the digits.
    expect(b.received.payloadTypes).toEqual(new Set([0, 101]));
    const before = b.received.packets;
    await waitFor(() => b.received.packets >= before + 10);
    expect(b.received.sequenceGaps).toBe(0);
  });

  it('answers in the offer’s payload type numbering and sends with it', { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = await peer({ codecs: [{ name: 'PCMU', payloadType: 96 }], telephoneEventPayloadType: 97 });
    const b = await peer({ codecs: [{ name: 'PCMA', payloadType: 8 }, { name: 'PCMU', payloadType: 0 }] });
    const { answer } = negotiate(a, b);
    expect(parse(answer).media[0]!.rtp.map((r) => [r.payload, r.codec])).toEqual([
      [96, 'PCMU'],
      [97, 'telephone-event'],
    ]);
    a.start();
    b.start();
    await waitFor(() => a.received.packets >= 10 && b.received.packets >= 10);
    expect(a.received.payloadTypes).toEqual(new Set([96]));
    expect(b.received.payloadTypes).toEqual(new Set([96]));
    expect(a.received.rms).toBeGreaterThan(1000);
    expect(b.received.rms).toBeGreaterThan(1000);
    await b.sendDtmf('9');
    await waitFor(() => a.received.digits === '9');
  });

  it('speaks A-law', { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = await peer({ codecs: [{ name: 'PCMA', payloadType: 8 }] });
    const b = await peer({ codecs: [{ name: 'PCMU', payloadType: 0 }, { name: 'PCMA', payloadType: 8 }] });
    negotiate(a, b);
    a.start();
    await waitFor(() => b.received.packets >= 25);
    expect(b.received.payloadTypes).toEqual(new Set([8]));
    expect(b.received.rms).toBeGreaterThan(1000);
    expect(b.received.tonePower(440)).toBeGreaterThan(100 * b.received.tonePower(1000));
  });

  it('refuses an offer with no codec in common', { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = await peer({ codecs: [{ name: 'PCMA', payloadType: 8 }] });
    const b = await peer({ codecs: [{ name: 'PCMU', payloadType: 0 }] });
    expect(() => b.answerSdp(a.offerSdp())).toThrow(/no common codec/);
  });

  it('sends at 50 packets per second', { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = await peer();
    const b = await peer();
    negotiate(a, b);
    a.start();
    await waitFor(() => b.received.packets >= 1);
    const start = b.received;
    await sleep(1000);
    const rate = b.received.packets - start.packets;
    // Drift-corrected, so only a stall of more than 100 ms (skipped, not burst) could lose packets.
    expect(rate).toBeGreaterThanOrEqual(45);
    expect(rate).toBeLessThanOrEqual(55);
    expect(b.received.bytes - start.bytes).toBe(rate * 172);
  });

  it('carries send times in timestamp mode for latency measurements', { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = await peer({ payload: 'timestamp' });
    const b = await peer({ payload: 'timestamp' });
    negotiate(a, b);
    a.start();
    await waitFor(() => b.received.latencyNs.length >= 10);
    const latencies = b.received.latencyNs;
    expect(latencies.every((ns) => ns > 0 && ns < 100_000_000)).toBe(true);
    // The rest of each payload is still the tone.
    expect(b.received.rms).toBeGreaterThan(1000);
  });

  it('honours direction: an offer to send only gets a receive-only answerer', { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = await peer();
    const b = await peer();
    const answer = b.answerSdp(a.offerSdp().replace('a=sendrecv', 'a=sendonly'));
    expect(parse(answer).media[0]!.direction).toBe('recvonly');
    a.setRemoteFromAnswer(answer);
    a.start();
    b.start();
    await waitFor(() => b.received.packets >= 10);
    expect(a.received.packets).toBe(0);
  });

  it('goes quiet while not sending, without using up sequence numbers', { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = await peer();
    const b = await peer();
    negotiate(a, b);
    a.start();
    await waitFor(() => b.received.packets >= 5);
    a.setSending(false);
    await sleep(60);
    const paused = b.received.packets;
    await sleep(200);
    expect(b.received.packets).toBe(paused);
    a.setSending(true);
    await waitFor(() => b.received.packets >= paused + 5);
    // Muting does not consume sequence numbers.
    expect(b.received.sequenceGaps).toBe(0);
  });
});
