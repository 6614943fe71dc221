import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { allocatePort } from '../support/sip/ports.js';
import { runSipp, type SippResult } from '../support/sip/sipp.js';
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

async function sipGateway(sip: Record<string, unknown> = {}): Promise<{ gateway: Gateway; sipPort: number }> {
  const sipPort = await allocatePort();
  gateway = await startTestGateway({ sip: { enabled: true, port: sipPort, ...sip } });
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
