import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/load-config.js';
import { allocatePort } from '../support/sip/ports.js';
import { openRawUdp, phoneOffer, rawRequest, type RawUdpPeer } from '../support/sip/raw-sip.js';
import { runSipp, startSippServer } from '../support/sip/sipp.js';
import { testScope } from '../support/test-scope.js';
import { WsTestClient } from '../support/ws-test-client.js';
import { makeWebRtcTestPeer, PCMU } from '../support/webrtc-test-peer.js';

// The real source of a SIP request (the packet's address, the connection's
// peer) against what the request says about itself in its Via: only the
// first may decide who is allowed, where responses go and whose media is
// latched. Raw UDP from other loopback addresses (127.0.0.2...) plays the
// caller that lies.

const scope = testScope();

async function sipGateway(sip: NonNullable<NonNullable<ConfigInput>['sip']> = {}): Promise<number> {
  const sipPort = await allocatePort();
  await scope.start({ sip: { enabled: true, port: sipPort, ...sip } });
  return sipPort;
}

async function udpPeer(address: string): Promise<RawUdpPeer> {
  const peer = await openRawUdp(address);
  scope.defer(() => peer.close());
  return peer;
}

async function webUser(name: string): Promise<WsTestClient> {
  const client = await WsTestClient.login(scope.gateway!.httpPort, name);
  scope.defer(() => client.close());
  return client;
}

const statusOf = (message: string) => /^SIP\/2\.0 (\d{3} [^\r\n]*)/.exec(message)?.[1];
const answers = (branch: string) => (message: string) => message.startsWith('SIP/2.0 ') && message.includes(`branch=${branch}`) && !/^SIP\/2\.0 1\d\d /.test(message);

function request(peer: RawUdpPeer, sipPort: number, method: string, branch: string, options: { viaParams?: string; extra?: string[]; body?: string; user?: string } = {}): string {
  return rawRequest({
    method,
    user: options.user ?? 'alice',
    target: `127.0.0.1:${sipPort}`,
    transport: 'UDP',
    sentBy: `${peer.address}:${peer.port}`,
    branch,
    ...options,
  });
}

describe('sip.inbound.allowedSources judges the packet source, never the Via', () => {
  it('an INVITE from 127.0.0.2 whose Via claims received=127.0.0.1 gets 403 with allowedSources [127.0.0.1/32]', async () => {
    const sipPort = await sipGateway({ inbound: { allowedSources: ['127.0.0.1/32'] } });
    const alice = await webUser('alice');
    const caller = await udpPeer('127.0.0.2');
    caller.send(request(caller, sipPort, 'INVITE', 'z9hG4bKforged-received', { viaParams: ';received=127.0.0.1', body: phoneOffer('127.0.0.2', 40000) }), sipPort);
    expect(statusOf(await caller.next(answers('z9hG4bKforged-received')))).toBe('403 Source Not Allowed');
    expect(alice.frames.filter((frame) => frame.type === 'incoming')).toEqual([]);
  });

  it('a forged copy of the gateway\'s private source header does not help either', async () => {
    const sipPort = await sipGateway({ inbound: { allowedSources: ['127.0.0.1/32'] } });
    const caller = await udpPeer('127.0.0.2');
    const forged = ['X-Switchboard-Source: UDP 127.0.0.1:5060', 'x-switchboard-source : UDP 127.0.0.1:5060'];
    caller.send(request(caller, sipPort, 'INVITE', 'z9hG4bKforged-header', { extra: forged, body: phoneOffer('127.0.0.2', 40000) }), sipPort);
    expect(statusOf(await caller.next(answers('z9hG4bKforged-header')))).toBe('403 Source Not Allowed');
  });

  it.each(['OPTIONS', 'MESSAGE', 'SUBSCRIBE', 'REFER'])('an out-of-dialog %s from a source outside the list gets 403', async (method) => {
    const sipPort = await sipGateway({ inbound: { allowedSources: ['127.0.0.1/32'] } });
    const stranger = await udpPeer('127.0.0.2');
    const extra = method === 'REFER' ? ['Refer-To: <sip:bob@127.0.0.1>'] : method === 'SUBSCRIBE' ? ['Event: presence'] : [];
    stranger.send(request(stranger, sipPort, method, `z9hG4bKstranger-${method}`, { extra, viaParams: ';received=127.0.0.1' }), sipPort);
    expect(statusOf(await stranger.next(answers(`z9hG4bKstranger-${method}`)))).toBe('403 Source Not Allowed');
    // The allowed source is still served.
    const friend = await udpPeer('127.0.0.1');
    friend.send(request(friend, sipPort, 'OPTIONS', 'z9hG4bKfriend'), sipPort);
    expect(statusOf(await friend.next(answers('z9hG4bKfriend')))).toBe('200 OK');
  });

  it('a party the gateway called answers and hangs up from outside the list: responses and in-dialog requests still work', async () => {
    await sipGateway({ inbound: { allowedSources: ['192.0.2.0/24'] } });
    // The BYE half a second after the ACK: one at once can end the call while the anchor is still
    // making the browser's answer, and the web user then sees ringing -> ended, never `answered`.
    const callee = await startSippServer({ scenario: 'uas-answer-bye', calls: 1, timeoutS: 20, pauseMs: 500 });
    scope.defer(() => callee.stop());
    const alice = await webUser('alice');
    const browserSide = makeWebRtcTestPeer('alice-browser', (close) => scope.defer(close));
    alice.send({ type: 'call', callId: 'call-out-of-list', to: `sip:bob@127.0.0.1:${callee.port}`, sdp: await browserSide.createOffer([PCMU]) });
    browserSide.acceptAnswer((await alice.next('answered', () => true, 10_000)).sdp);
    expect(await alice.next('ended', () => true, 15_000)).toMatchObject({ callId: 'call-out-of-list', reason: 'hangup' });
    const result = await callee.done;
    expect(result.exitCode, result.errors).toBe(0);
  }, 30_000);

  it('a sipp caller outside the list gets 403, a sipp caller inside rings the web user', async () => {
    const sipPort = await sipGateway({ inbound: { allowedSources: ['127.0.0.3/32'] } });
    const alice = await webUser('alice');
    const refused = await runSipp({ scenario: 'uac-busy', remote: `127.0.0.1:${sipPort}`, service: 'alice', localAddress: '127.0.0.2', timeoutS: 10 });
    expect(refused.errors).toMatch(/403 Source Not Allowed/);
    const admitted = runSipp({ scenario: 'uac-busy', remote: `127.0.0.1:${sipPort}`, service: 'alice', localAddress: '127.0.0.3', timeoutS: 10 });
    const incoming = await alice.next('incoming', () => true, 10_000);
    expect(incoming.from).toMatch(/@127\.0\.0\.3/);
    alice.send({ type: 'reject', callId: incoming.callId, reason: 'busy' });
    expect((await admitted).exitCode).toBe(0);
  }, 30_000);
});

describe('responses go to the real source, whatever the Via claims (RFC 3261 section 18.2.1, RFC 3581)', () => {
  it('a forged received= does not reflect the response to another host', async () => {
    const sipPort = await sipGateway();
    const liar = await udpPeer('127.0.0.2');
    // The victim listens on the same port number at the address the liar names.
    const victim = await openRawUdp('127.0.0.5', liar.port);
    scope.defer(() => victim.close());
    liar.send(request(liar, sipPort, 'OPTIONS', 'z9hG4bKreflect', { viaParams: ';received=127.0.0.5' }), sipPort);
    const response = await liar.next(answers('z9hG4bKreflect'));
    expect(statusOf(response)).toBe('200 OK');
    expect(response).toMatch(/;received=127\.0\.0\.2\b/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(victim.received).toEqual([]);
  });

  it('a forged rport value does not send the response to another port', async () => {
    const sipPort = await sipGateway();
    const liar = await udpPeer('127.0.0.2');
    const victim = await udpPeer('127.0.0.2');
    liar.send(request(liar, sipPort, 'OPTIONS', 'z9hG4bKrport', { viaParams: `;rport=${victim.port}` }), sipPort);
    const response = await liar.next(answers('z9hG4bKrport'));
    expect(response).toMatch(new RegExp(`;rport=${liar.port}\\b`));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(victim.received).toEqual([]);
  });
  it('a request that came over UDP is answered over UDP whatever transport its Via names: no connection is opened for it', async () => {
    const sipPort = await sipGateway();
    const liar = await udpPeer('127.0.0.2');
    const accepted: Socket[] = [];
    const tcp = createServer((socket) => accepted.push(socket.on('error', () => undefined)));
    await new Promise<void>((resolve) => tcp.listen(liar.port, '127.0.0.2', resolve));
    scope.defer(() => {
      for (const socket of accepted) socket.destroy();
      return new Promise((resolve) => tcp.close(resolve));
    });
    liar.send(
      rawRequest({ method: 'OPTIONS', user: 'alice', target: `127.0.0.1:${sipPort}`, transport: 'TCP', sentBy: `127.0.0.2:${liar.port}`, branch: 'z9hG4bKvia-tcp' }),
      sipPort,
    );
    expect(statusOf(await liar.next(answers('z9hG4bKvia-tcp')))).toBe('200 OK');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(accepted).toHaveLength(0);
  });
});

describe('symmetric RTP latching trusts the real source of the INVITE', () => {
  it('an INVITE from 127.0.0.2 claiming received=127.0.0.9 lets only 127.0.0.2 start the media', async () => {
    const sipPort = await sipGateway();
    const alice = await webUser('alice');
    const caller = await udpPeer('127.0.0.2');
    caller.send(request(caller, sipPort, 'INVITE', 'z9hG4bKlatch', { viaParams: ';received=127.0.0.9', body: phoneOffer('127.0.0.2', 40000) }), sipPort);
    const incoming = await alice.next('incoming', () => true, 10_000);
    const call = scope.gateway!.calls.get(incoming.callId) ?? scope.gateway!.calls.list()[0];
    expect(call?.caller.signalingAddress).toBe('127.0.0.2');
    alice.send({ type: 'reject', callId: incoming.callId, reason: 'busy' });
  });
});
