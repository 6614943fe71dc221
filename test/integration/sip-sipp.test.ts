import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { allocatePort } from '../support/sip/ports.js';
import { startLossyUdpRelay } from '../support/sip/lossy-udp-relay.js';
import { runSipp, startSippServer, type SippResult } from '../support/sip/sipp.js';
import { startTestGateway } from '../support/test-gateway.js';
import { WsTestClient } from '../support/ws-test-client.js';
import type { WebRtcEndpoint } from '../../src/media/webrtc-endpoint.js';
import { makeWebRtcTestPeer, PCMU, TELEPHONE_EVENT_8K } from '../support/webrtc-test-peer.js';

// sipp, a real SIP peer, against the gateway's SIP adapter on loopback. The
// web user is a protocol client whose WebRTC side is a real node-datachannel
// endpoint, so answered calls carry real ICE/DTLS towards the anchor.

let gateway: Gateway | undefined;
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await gateway?.stop();
  gateway = undefined;
});

async function sipGateway(): Promise<{ gateway: Gateway; sipPort: number }> {
  const sipPort = await allocatePort();
  gateway = await startTestGateway({ sip: { enabled: true, port: sipPort } });
  return { gateway, sipPort };
}

async function webUser(name: string): Promise<WsTestClient> {
  const client = await WsTestClient.login(gateway!.httpPort, name);
  cleanups.push(() => client.close());
  return client;
}

/** Answers the next incoming call like a browser would: a WebRTC answer from a real ICE/DTLS endpoint. */
async function answerNextCall(client: WsTestClient): Promise<{ callId: string; endpoint: WebRtcEndpoint }> {
  const incoming = await client.next('incoming', () => true, 10_000);
  const endpoint = makeWebRtcTestPeer(`web-${incoming.callId}`, (close) => cleanups.push(close));
  client.send({ type: 'ringing', callId: incoming.callId });
  const answer = await endpoint.answerOffer(incoming.sdp, [PCMU, TELEPHONE_EVENT_8K]);
  client.send({ type: 'accept', callId: incoming.callId, sdp: answer });
  return { callId: incoming.callId, endpoint };
}

function expectSuccess(result: SippResult): void {
  expect(result.exitCode, `sipp failed:\n${result.errors}\n${result.stderr.slice(-2000)}\n${result.messages.slice(-6000)}`).toBe(0);
  expect(result.stats.successfulCalls).toBe(1);
}

describe('SIP peers call web users (sipp UAC over UDP)', () => {
  it('a busy web user gives the SIP caller 486', async () => {
    const { sipPort } = await sipGateway();
    const alice = await webUser('alice');
    const sipp = runSipp({ scenario: 'uac-busy', remote: `127.0.0.1:${sipPort}`, service: 'alice', timeoutS: 15 });
    const incoming = await alice.next('incoming', () => true, 10_000);
    expect(incoming.from).toMatch(/^sip:sipp@127\.0\.0\.1/);
    alice.send({ type: 'reject', callId: incoming.callId, reason: 'busy' });
    expectSuccess(await sipp);
  }, 30_000);

  it('CANCEL before answer ends the call for the web user as cancelled', async () => {
    const { sipPort } = await sipGateway();
    const alice = await webUser('alice');
    const sipp = runSipp({ scenario: 'uac-cancel', remote: `127.0.0.1:${sipPort}`, service: 'alice', timeoutS: 15 });
    const incoming = await alice.next('incoming', () => true, 10_000);
    alice.send({ type: 'ringing', callId: incoming.callId });
    expect(await alice.next('ended', () => true, 10_000)).toMatchObject({ callId: incoming.callId, reason: 'cancelled' });
    expectSuccess(await sipp);
  }, 30_000);

  it('an answered call ends with BYE from the SIP side', async () => {
    const { sipPort } = await sipGateway();
    const alice = await webUser('alice');
    const sipp = runSipp({ scenario: 'uac-call-bye', remote: `127.0.0.1:${sipPort}`, service: 'alice', timeoutS: 20 });
    const { callId } = await answerNextCall(alice);
    expect(await alice.next('ended', () => true, 15_000)).toMatchObject({ callId, reason: 'hangup' });
    expectSuccess(await sipp);
  }, 30_000);

  it('calls to unknown users get 404 and to offline users 480', async () => {
    const { sipPort } = await sipGateway();
    const offline = await runSipp({ scenario: 'uac-busy', remote: `127.0.0.1:${sipPort}`, service: 'nobody', timeoutS: 10 });
    expect(offline.exitCode).not.toBe(0);
    expect(offline.errors + offline.stdout).toMatch(/480/);
  }, 30_000);
});

describe('web users call SIP peers (sipp UAS over UDP)', () => {
  it('the SIP party answers, the web user hangs up with BYE', async () => {
    const { sipPort } = await sipGateway();
    expect(sipPort).toBeGreaterThan(0);
    const server = await startSippServer({ scenario: 'uas-answer', calls: 1, timeoutS: 20 });
    cleanups.push(() => server.stop());
    const alice = await webUser('alice');
    const browserSide = makeWebRtcTestPeer('alice-browser', (close) => cleanups.push(close));
    const offer = await browserSide.createOffer([PCMU]);
    alice.send({ type: 'call', id: 'c', callId: 'call-to-sipp-uas', to: `sip:bob@127.0.0.1:${server.port}`, sdp: offer });
    await alice.next('ack', (f) => f.id === 'c');
    const answered = await alice.next('answered', () => true, 10_000);
    browserSide.acceptAnswer(answered.sdp);
    alice.send({ type: 'hangup', callId: 'call-to-sipp-uas' });
    const result = await server.done;
    expectSuccess(result);
  }, 30_000);

  it('a busy SIP party ends the web call with busy', async () => {
    await sipGateway();
    const server = await startSippServer({ scenario: 'uas-busy', calls: 1, timeoutS: 20 });
    cleanups.push(() => server.stop());
    const alice = await webUser('alice');
    const browserSide = makeWebRtcTestPeer('alice-browser', (close) => cleanups.push(close));
    const offer = await browserSide.createOffer([PCMU]);
    alice.send({ type: 'call', callId: 'call-to-busy-uas', to: `sip:bob@127.0.0.1:${server.port}`, sdp: offer });
    expect(await alice.next('ended', () => true, 10_000)).toMatchObject({ reason: 'busy', detail: 'SIP 486 Busy Here' });
    expectSuccess(await server.done);
  }, 30_000);

  it('the dial policy refuses other domains', async () => {
    await sipGateway();
    const alice = await webUser('alice');
    alice.send({ type: 'call', id: 'toll', callId: 'call-toll-fraud', to: 'sip:+1900555@premium.example.com', sdp: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' });
    expect(await alice.next('error', (f) => f.id === 'toll')).toMatchObject({ code: 'forbidden' });
  }, 15_000);
});

describe('mid-call SIP (sipp UAC over UDP)', () => {
  it('re-INVITE hold and resume are answered by the anchor (recvonly, then sendrecv); the web user stays in the call', async () => {
    const { sipPort } = await sipGateway();
    const alice = await webUser('alice');
    const sipp = runSipp({ scenario: "uac-hold", remote: `127.0.0.1:${sipPort}`, service: "alice", pauseMs: 300, timeoutS: 20 });
    const { callId } = await answerNextCall(alice);
    expectSuccess(await sipp);
    // The browser was never asked to renegotiate: the anchor answered both re-INVITEs itself.
    expect(alice.frames.filter((f) => f.type === 'offer')).toEqual([]);
    expect(await alice.next('ended', () => true, 5000)).toMatchObject({ callId, reason: 'hangup' });
  }, 30_000);

  it('INFO DTMF (dtmf-relay and dtmf) reaches the web user', async () => {
    const { sipPort } = await sipGateway();
    const alice = await webUser('alice');
    const sipp = runSipp({ scenario: 'uac-info-dtmf', remote: `127.0.0.1:${sipPort}`, service: 'alice', pauseMs: 300, timeoutS: 20 });
    const { callId } = await answerNextCall(alice);
    expect(await alice.next('dtmf', () => true, 10_000)).toMatchObject({ callId, digits: '5' });
    expect(await alice.next('dtmf', () => true, 10_000)).toMatchObject({ callId, digits: '#' });
    expectSuccess(await sipp);
  }, 30_000);

  it('the web user hangs up: the gateway sends BYE to the SIP party', async () => {
    const { sipPort } = await sipGateway();
    const alice = await webUser('alice');
    const sipp = runSipp({ scenario: 'uac-call-remote-bye', remote: `127.0.0.1:${sipPort}`, service: 'alice', timeoutS: 20 });
    const { callId } = await answerNextCall(alice);
    await new Promise((resolve) => setTimeout(resolve, 500));
    alice.send({ type: 'hangup', callId });
    expectSuccess(await sipp);
  }, 30_000);

  it('over TCP too', async () => {
    const { sipPort } = await sipGateway();
    const alice = await webUser('alice');
    const sipp = runSipp({ scenario: 'uac-call-bye', remote: `127.0.0.1:${sipPort}`, service: 'alice', transport: 't1', timeoutS: 20 });
    await answerNextCall(alice);
    expectSuccess(await sipp);
  }, 30_000);

  it('calls set up through a lossy UDP link (20% of packets dropped both ways) by retransmission', async () => {
    const { sipPort } = await sipGateway();
    const relay = await startLossyUdpRelay({ serverPort: sipPort, dropRate: 0.2, seed: 7 });
    cleanups.push(() => relay.close());
    const alice = await webUser('alice');
    const sipp = runSipp({ scenario: 'uac-call-bye', remote: `127.0.0.1:${relay.port}`, service: 'alice', lossyLink: true, timeoutS: 45 });
    await answerNextCall(alice);
    const result = await sipp;
    expectSuccess(result);
    expect(relay.stats.toServer.dropped + relay.stats.toClient.dropped).toBeGreaterThan(0);
  }, 60_000);
});

describe('blind transfer (REFER, RFC 3515)', () => {
  it('a SIP party transfers the web user: the web user follows to the target, the transferor gets NOTIFY 100 then 200', async () => {
    const { sipPort } = await sipGateway();
    const target = await startSippServer({ scenario: 'uas-answer', calls: 1, timeoutS: 25 });
    cleanups.push(() => target.stop());
    const alice = await webUser('alice');
    const transferor = runSipp({
      scenario: 'uac-refer',
      remote: `127.0.0.1:${sipPort}`,
      service: 'alice',
      pauseMs: 300,
      timeoutS: 25,
      variables: { refer_to: `sip:carol@127.0.0.1:${target.port}` },
    });
    const { callId } = await answerNextCall(alice);
    const transfer = await alice.next('transfer', () => true, 10_000);
    expect(transfer).toMatchObject({ callId, to: `sip:carol@127.0.0.1:${target.port}` });

    // The web user follows the transfer like the SDK and demo page do.
    const browserSide = makeWebRtcTestPeer('alice-follow-up', (close) => cleanups.push(close));
    const offer = await browserSide.createOffer([PCMU]);
    alice.send({ type: 'call', id: 'follow', callId: 'call-after-transfer', to: transfer.to, sdp: offer, transferId: transfer.transferId });
    const answered = await alice.next('answered', (f) => f.callId === 'call-after-transfer', 10_000);
    browserSide.acceptAnswer(answered.sdp);

    // NOTIFY 200 lets the transferor hang up its call with the web user.
    expect(await alice.next('ended', (f) => f.callId === callId, 15_000)).toMatchObject({ reason: 'hangup' });
    expectSuccess(await transferor);
    alice.send({ type: 'hangup', callId: 'call-after-transfer' });
    expectSuccess(await target.done);
  }, 45_000);

  it('the web user transfers a SIP party: the gateway sends REFER', async () => {
    await sipGateway();
    const transferee = await startSippServer({ scenario: 'uas-refer', calls: 1, timeoutS: 20 });
    cleanups.push(() => transferee.stop());
    const alice = await webUser('alice');
    const browserSide = makeWebRtcTestPeer('alice-browser', (close) => cleanups.push(close));
    const offer = await browserSide.createOffer([PCMU]);
    alice.send({ type: 'call', callId: 'call-to-transfer', to: `sip:bob@127.0.0.1:${transferee.port}`, sdp: offer });
    const answered = await alice.next('answered', () => true, 10_000);
    browserSide.acceptAnswer(answered.sdp);
    alice.send({ type: 'transfer', id: 'xfer', callId: 'call-to-transfer', to: 'sip:dave@127.0.0.1:5999' });
    await alice.next('ack', (f) => f.id === 'xfer');
    expect(await alice.next('ended', () => true, 15_000)).toMatchObject({ callId: 'call-to-transfer', reason: 'hangup' });
    expectSuccess(await transferee.done);
  }, 30_000);
});

describe('bad SIP input', () => {
  it('INVITEs from a source outside sip.inbound.allowedSources get 403', async () => {
    const sipPort = await allocatePort();
    gateway = await startTestGateway({ sip: { enabled: true, port: sipPort, inbound: { allowedSources: ['192.0.2.0/24'] } } });
    await webUser('alice');
    const result = await runSipp({ scenario: 'uac-busy', remote: `127.0.0.1:${sipPort}`, service: 'alice', timeoutS: 10 });
    expect(result.exitCode).not.toBe(0);
    expect(result.errors).toMatch(/403 Source Not Allowed/);
  }, 20_000);

  it('a flood of INVITEs beyond sip.inbound.invitesPerSecond gets 503 with Retry-After; the web user rings only within the limit', async () => {
    const sipPort = await allocatePort();
    gateway = await startTestGateway({ sip: { enabled: true, port: sipPort, inbound: { invitesPerSecond: 2 } } });
    const alice = await webUser('alice');
    let rung = 0;
    alice.socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string; callId?: string };
      if (frame.type !== 'incoming') return;
      rung += 1;
      alice.send({ type: 'reject', callId: frame.callId!, reason: 'busy' });
    });
    const result = await runSipp({ scenario: 'uac-busy', remote: `127.0.0.1:${sipPort}`, service: 'alice', calls: 20, rate: 40, timeoutS: 15 });
    expect(result.stats.successfulCalls).toBeGreaterThanOrEqual(1);
    expect(result.stats.failedCalls).toBeGreaterThanOrEqual(10);
    expect(result.errors).toMatch(/503 Too Many Calls/);
    expect(result.errors).toMatch(/Retry-After: 5/);
    expect(rung).toBe(result.stats.successfulCalls);
  }, 30_000);

  it('a malformed request gets a stateless 400 and the gateway keeps serving calls', async () => {
    const { sipPort } = await sipGateway();
    const alice = await webUser('alice');
    const { createSocket } = await import('node:dgram');
    const socket = createSocket('udp4');
    cleanups.push(() => socket.close());
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const reply = new Promise<string>((resolve) => socket.once('message', (data) => resolve(String(data))));
    // No Call-ID, no CSeq: RFC 3261 section 8.1.1 mandatory headers are missing.
    socket.send(
      ['INVITE sip:alice@127.0.0.1 SIP/2.0', `Via: SIP/2.0/UDP 127.0.0.1:${(socket.address()).port};branch=z9hG4bKbroken`, 'From: <sip:x@127.0.0.1>;tag=1', 'To: <sip:alice@127.0.0.1>', 'Max-Forwards: 70', 'Content-Length: 0', '', ''].join('\r\n'),
      sipPort,
      '127.0.0.1',
    );
    expect(await reply).toMatch(/^SIP\/2\.0 400 /);
    const sipp = runSipp({ scenario: 'uac-busy', remote: `127.0.0.1:${sipPort}`, service: 'alice', timeoutS: 10 });
    const incoming = await alice.next('incoming', () => true, 10_000);
    alice.send({ type: 'reject', callId: incoming.callId, reason: 'busy' });
    expectSuccess(await sipp);
  }, 20_000);

  // Found by test/fuzz/sdp-audio.test.ts: sdp-transform reads such a port as a string or a number
  // above 65535, which reached the RTP socket and came back as a 500.
  it('an INVITE whose audio port is not a port gets 488 Not Acceptable Here', async () => {
    const { sipPort } = await sipGateway();
    const alice = await webUser('alice');
    const { createSocket } = await import('node:dgram');
    const socket = createSocket('udp4');
    cleanups.push(() => socket.close());
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const local = socket.address().port;
    for (const port of ['99999999999999999999', '70000']) {
      const final = new Promise<string>((resolve) => {
        const onMessage = (data: Buffer) => {
          if (/^SIP\/2\.0 1\d\d /.test(String(data))) return;
          socket.off('message', onMessage);
          resolve(String(data));
        };
        socket.on('message', onMessage);
      });
      const sdp = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
      const invite = [
        `INVITE sip:alice@127.0.0.1:${sipPort} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bKport${port}`,
        'Max-Forwards: 70',
        `From: <sip:x@127.0.0.1>;tag=port${port}`,
        'To: <sip:alice@127.0.0.1>',
        `Call-ID: badport-${port}`,
        'CSeq: 1 INVITE',
        `Contact: <sip:x@127.0.0.1:${local}>`,
        'Content-Type: application/sdp',
        `Content-Length: ${sdp.length}`,
        '',
        sdp,
      ].join('\r\n');
      socket.send(invite, sipPort, '127.0.0.1');
      expect(await final).toMatch(/^SIP\/2\.0 488 /);
    }
    expect(alice.frames.filter((frame) => frame.type === 'incoming')).toStrictEqual([]);
  }, 20_000);
});

describe('session timers (RFC 4028)', () => {
  it('a caller asking for a 90 s timer gets it agreed (refresher=uac) in the 200 and in the answer to its refresh', async () => {
    const { sipPort } = await sipGateway();
    const alice = await webUser('alice');
    const sipp = runSipp({ scenario: 'uac-session-timer', remote: `127.0.0.1:${sipPort}`, service: 'alice', pauseMs: 300, timeoutS: 20 });
    const { callId } = await answerNextCall(alice);
    expectSuccess(await sipp);
    expect(await alice.next('ended', (f) => f.callId === callId, 5000)).toMatchObject({ reason: 'hangup' });
  }, 30_000);

  it('an interval below 90 s is refused with 422 and Min-SE', async () => {
    const { sipPort } = await sipGateway();
    await webUser('alice');
    expectSuccess(await runSipp({ scenario: 'uac-session-timer-too-small', remote: `127.0.0.1:${sipPort}`, service: 'alice', timeoutS: 10 }));
  }, 20_000);
});

describe('early media', () => {
  it('a 183 with SDP reaches the browser as `progress` before `answered`, and the call is set up once', async () => {
    await sipGateway();
    const server = await startSippServer({ scenario: 'uas-early-media', calls: 1, pauseMs: 1000, timeoutS: 20 });
    cleanups.push(() => server.stop());
    const alice = await webUser('alice');
    const browserSide = makeWebRtcTestPeer('alice-early', (close) => cleanups.push(close));
    const offer = await browserSide.createOffer([PCMU]);
    alice.send({ type: 'call', callId: 'call-early-media', to: `sip:pbx@127.0.0.1:${server.port}`, sdp: offer });
    const progress = await alice.next('progress', () => true, 10_000);
    expect(progress.sdp).toContain('a=fingerprint:');
    expect(alice.frames.some((f) => f.type === 'answered')).toBe(false);
    const answered = await alice.next('answered', () => true, 10_000);
    expect(answered.sdp).toBe(progress.sdp); // the anchor negotiated once: the final answer repeats it
    browserSide.acceptAnswer(answered.sdp);
    alice.send({ type: 'hangup', callId: 'call-early-media' });
    expectSuccess(await server.done);
  }, 30_000);
});
