import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { allocatePort } from '../support/sip/ports.js';
import { runSipp, startSippServer, type SippResult } from '../support/sip/sipp.js';
import { startTestGateway } from '../support/test-gateway.js';
import { WsTestClient } from '../support/ws-test-client.js';
import type { WebRtcEndpoint } from '../../src/media/webrtc-endpoint.js';
import { makeWebRtcTestPeer, PCMU, TELEPHONE_EVENT_8K } from '../support/webrtc-test-peer.js';
import { buildRtpPacket } from '../../src/media/rtp-packet.js';

// sipp against the gateway's SIP adapter for dialog-level behaviour: method
// inspection, UPDATE, delayed offer, session timers as UAC, OPTIONS keep-alive.

let gateway: Gateway | undefined;
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await gateway?.stop();
  gateway = undefined;
});

async function sipGateway(sip: Record<string, unknown> = {}, options: Parameters<typeof startTestGateway>[1] = {}): Promise<{ gateway: Gateway; sipPort: number }> {
  const sipPort = await allocatePort();
  gateway = await startTestGateway({ sip: { enabled: true, port: sipPort, ...sip } }, options);
  return { gateway, sipPort };
}

async function webUser(name: string): Promise<WsTestClient> {
  const client = await WsTestClient.login(gateway!.httpPort, name);
  cleanups.push(() => client.close());
  return client;
}

/** Answers the next incoming call like a browser would: a WebRTC answer from a real ICE/DTLS endpoint. */
async function answerNextCall(client: WsTestClient): Promise<{ callId: string; endpoint: WebRtcEndpoint; offer: string }> {
  const incoming = await client.next('incoming', () => true, 10_000);
  const endpoint = makeWebRtcTestPeer(`web-${incoming.callId}`, (close) => cleanups.push(close));
  client.send({ type: 'ringing', callId: incoming.callId });
  const answer = await endpoint.answerOffer(incoming.sdp, [PCMU, TELEPHONE_EVENT_8K]);
  client.send({ type: 'accept', callId: incoming.callId, sdp: answer });
  return { callId: incoming.callId, endpoint, offer: incoming.sdp };
}

function expectSuccess(result: SippResult): void {
  expect(result.exitCode, `sipp failed:\n${result.errors}\n${result.stderr.slice(-2000)}\n${result.messages.slice(-6000)}`).toBe(0);
  expect(result.stats.successfulCalls).toBe(1);
}

/** The values of a header in sipp's message trace (what it sent and received), in order. */
function tracedHeaders(result: SippResult, header: string): string[] {
  return [...result.messages.matchAll(new RegExp(`^${header}\\s*:\\s*(.*?)\\r?$`, 'gim'))].map((m) => m[1]!);
}

describe('method inspection (RFC 3261 section 8.2.1)', () => {
  it('an unknown method gets 501 and a known one the gateway does not accept 405, both with the Allow list', async () => {
    const { sipPort } = await sipGateway();
    const result = await runSipp({ scenario: 'uac-unsupported-methods', remote: `127.0.0.1:${sipPort}`, service: 'alice', timeoutS: 10, traceMessages: true });
    expectSuccess(result);
    const allows = tracedHeaders(result, 'Allow');
    expect(allows).toHaveLength(2);
    for (const allow of allows) {
      const methods = allow.split(/\s*,\s*/);
      expect(methods).toEqual(expect.arrayContaining(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'INFO', 'REFER']));
      expect(methods).not.toContain('PUBLISH');
      expect(methods).not.toContain('REGISTER');
      expect(methods).not.toContain('SUBSCRIBE');
    }
  }, 20_000);
});

describe('UPDATE in a dialog (RFC 3311)', () => {
  it('a session refresh without SDP gets 200 with Session-Expires; hold and resume by UPDATE are answered by the anchor', async () => {
    const { sipPort } = await sipGateway();
    const alice = await webUser('alice');
    const sipp = runSipp({ scenario: 'uac-update', remote: `127.0.0.1:${sipPort}`, service: 'alice', pauseMs: 300, timeoutS: 20, traceMessages: true });
    const { callId } = await answerNextCall(alice);
    const result = await sipp;
    expectSuccess(result);
    // The browser was never asked to renegotiate: the anchor answered both offers itself.
    expect(alice.frames.filter((f) => f.type === 'offer')).toEqual([]);
    expect(await alice.next('ended', (f) => f.callId === callId, 5000)).toMatchObject({ reason: 'hangup' });
  }, 30_000);
});

/** Sends PCMU packets from the browser side every 20 ms until stopped; resolves once its ICE/DTLS is up. */
async function talk(endpoint: WebRtcEndpoint): Promise<() => void> {
  if (endpoint.state !== 'connected') {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`browser side still ${endpoint.state}`)), 10_000);
      endpoint.on('statechange', (state) => {
        if (state === 'connected') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }
  let sequenceNumber = 1;
  const ssrc = 0x5eed;
  const interval = setInterval(() => {
    endpoint.sendRtp(buildRtpPacket({ payloadType: 0, sequenceNumber, timestamp: sequenceNumber * 160, ssrc, payload: Buffer.alloc(160, 0xd5) }));
    sequenceNumber += 1;
  }, 20);
  return () => clearInterval(interval);
}

describe('delayed offer (INVITE without SDP, RFC 3261 section 13.2.1)', () => {
  it('the gateway offers in the 200 and takes the answer from the ACK: media flows to the address the ACK gave', async () => {
    const { sipPort } = await sipGateway();
    const alice = await webUser('alice');
    const sipp = runSipp({ scenario: 'uac-delayed-offer', remote: `127.0.0.1:${sipPort}`, service: 'alice', pauseMs: 2500, rtpEcho: true, timeoutS: 20, traceMessages: true });
    const { callId, endpoint, offer } = await answerNextCall(alice);
    // The web user was offered what every phone has (G.711), with telephone-event.
    expect(offer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 8 101\r?$/m);
    let echoed = 0;
    endpoint.on('rtp', () => (echoed += 1));
    const stop = await talk(endpoint);
    cleanups.push(stop);
    const result = await sipp;
    stop();
    expectSuccess(result);
    // sipp only echoes what reaches it: the anchor sent to the address in the ACK's answer.
    expect(echoed).toBeGreaterThan(10);
    expect(await alice.next('ended', (f) => f.callId === callId, 5000)).toMatchObject({ reason: 'hangup' });
  }, 30_000);
});

/** The web user alice calls `sip:bob@<sipp>` from a WebRTC endpoint and gets the answer. */
async function callSipp(port: number, callId: string): Promise<WsTestClient> {
  const alice = await webUser('alice');
  const browserSide = makeWebRtcTestPeer(`alice-${callId}`, (close) => cleanups.push(close));
  const offer = await browserSide.createOffer([PCMU]);
  alice.send({ type: 'call', callId, to: `sip:bob@127.0.0.1:${port}`, sdp: offer });
  const answered = await alice.next('answered', (f) => f.callId === callId, 10_000);
  browserSide.acceptAnswer(answered.sdp);
  return alice;
}

// RFC 4028's shortest interval is 90 s, so a refresh takes 45 s and an expiry 60 s. These tests
// lower the gateway's floor (an adapter option for tests, not configuration) and let sipp pick
// intervals of a few seconds, which RFC 4028 allows a UAS down to the UAC's Min-SE.
const SHORT_TIMERS = { sipAdapter: { sessionTimerFloorSeconds: 2 } };

describe('session timers on outgoing calls (the gateway as UAC, RFC 4028)', () => {
  it('a 422 is retried once with the Min-SE it gave, in the same dialog setup', async () => {
    await sipGateway();
    const server = await startSippServer({ scenario: 'uas-session-timer-422', calls: 1, timeoutS: 15 });
    cleanups.push(() => server.stop());
    const alice = await callSipp(server.port, 'call-timer-422');
    alice.send({ type: 'hangup', callId: 'call-timer-422' });
    expectSuccess(await server.done);
  }, 30_000);

  it('as refresher the gateway refreshes by UPDATE at half the interval, and the call goes on', async () => {
    await sipGateway({}, SHORT_TIMERS);
    const server = await startSippServer({ scenario: 'uas-session-timer-refresh', calls: 1, timeoutS: 20, traceMessages: true });
    cleanups.push(() => server.stop());
    const alice = await callSipp(server.port, 'call-timer-refresh');
    // sipp hangs up after the second refresh: the call lived through two intervals' halves.
    expectSuccess(await server.done);
    expect(await alice.next('ended', (f) => f.callId === 'call-timer-refresh', 5000)).toMatchObject({ reason: 'hangup' });
  }, 30_000);

  it('a refresher that does not refresh gets BYE at expiry; the web user is told', async () => {
    await sipGateway({}, SHORT_TIMERS);
    const server = await startSippServer({ scenario: 'uas-session-timer-expiry', calls: 1, timeoutS: 15 });
    cleanups.push(() => server.stop());
    const alice = await callSipp(server.port, 'call-timer-expiry');
    expect(await alice.next('ended', (f) => f.callId === 'call-timer-expiry', 10_000)).toMatchObject({ reason: 'failed', detail: 'SIP session timer expired' });
    expectSuccess(await server.done);
  }, 30_000);
});

describe('OPTIONS keep-alive over UDP (sip.keepAliveSeconds)', () => {
  it('the gateway pings its outbound proxy with OPTIONS', async () => {
    const proxy = await startSippServer({ scenario: 'uas-keep-alive', calls: 2, timeoutS: 15, traceMessages: true });
    cleanups.push(() => proxy.stop());
    await sipGateway({ keepAliveSeconds: 1, outbound: { proxy: `sip:127.0.0.1:${proxy.port}` } });
    const result = await proxy.done;
    expect(result.exitCode, result.errors).toBe(0);
    expect(result.stats.successfulCalls).toBe(2);
    expect(result.messages.match(/^OPTIONS sip:127\.0\.0\.1:\d+ SIP\/2\.0/gm)).toHaveLength(2);
  }, 30_000);

  it('a registered account pings its registrar with OPTIONS while registered', async () => {
    const registrar = await startSippServer({ scenario: 'uas-keep-alive', calls: 0, timeoutS: 20, traceMessages: true });
    cleanups.push(() => registrar.stop());
    await sipGateway({ keepAliveSeconds: 1, accounts: [{ user: 'alice', aor: `sip:alice@127.0.0.1:${registrar.port}`, password: 'secret' }] });
    const alice = await WsTestClient.login(gateway!.httpPort, 'alice');
    cleanups.push(() => alice.close());
    expect(await alice.next('registration', (f) => f.state === 'registered', 10_000)).toBeTruthy();
    await new Promise((resolve) => setTimeout(resolve, 3500)); // a few keep-alive intervals
    alice.close(); // logout unregisters, which the registrar still answers
    await new Promise((resolve) => setTimeout(resolve, 500));
    const result = await registrar.stop();
    expect(result.errors).toBe('');
    expect(result.messages.match(/^REGISTER sip:/gm)).toHaveLength(2); // register, unregister
    expect(result.messages.match(/^OPTIONS sip:127\.0\.0\.1:\d+ SIP\/2\.0/gm)?.length).toBeGreaterThanOrEqual(2);
  }, 30_000);
});

describe('a caller that never ACKs', () => {
  // sip.js 0.21's ACK timer (64*T1 = 32 s) fires on the terminated session and used to throw from a timer, ending the process.
  it('a BYE before the ACK ends the call, and the gateway lives past the ACK timeout', async () => {
    const { sipPort } = await sipGateway();
    const alice = await webUser('alice');
    const sipp = runSipp({ scenario: 'uac-bye-without-ack', remote: `127.0.0.1:${sipPort}`, service: 'alice', timeoutS: 15 });
    const { callId } = await answerNextCall(alice);
    expectSuccess(await sipp);
    expect(await alice.next('ended', (f) => f.callId === callId, 10_000)).toMatchObject({ reason: 'hangup' });
    await new Promise((resolve) => setTimeout(resolve, 34_000));
    // Still serving: a new call rings alice.
    const again = runSipp({ scenario: 'uac-call-bye', remote: `127.0.0.1:${sipPort}`, service: 'alice', timeoutS: 15 });
    await answerNextCall(alice);
    expectSuccess(await again);
  }, 70_000);
});
