import { createHash } from 'node:crypto';
import { xml } from '@xmpp/client';
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/load-config.js';
import { startBaresip } from '../support/sip/baresip.js';
import { allocatePort } from '../support/sip/ports.js';
import { describeSipp, runSipp, startSippServer, type SippOptions, type SippResult } from '../support/sip/sipp.js';
import { testScope } from '../support/test-scope.js';
import { WsTestClient } from '../support/ws-test-client.js';
import { XmppLab } from '../support/xmpp/xmpp-lab.js';
import { makeWebRtcTestPeer, PCMU, TELEPHONE_EVENT_8K } from '../support/webrtc-test-peer.js';

// Chat between web users and SIP parties as SIP MESSAGE (RFC 3428), with sipp
// as the SIP party on loopback: sipp's MESSAGEs to web users, web users'
// messages to a sipp UAS, and what the gateway refuses (strangers, bodies
// that are not plain text or too large, floods, destinations the dial plan
// forbids). baresip (Debian's 1.0.0) takes MESSAGEs but its menu has no
// command to send one, so it is only a receiver here. XMPP contacts reach
// SIP phones through a real Prosody and the service account's routing rules.

const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

const scope = testScope();

type SipConfig = NonNullable<NonNullable<ConfigInput>['sip']>;

async function sipGateway(sip: Partial<SipConfig> = {}): Promise<number> {
  const sipPort = await allocatePort();
  await scope.start({ sip: { enabled: true, port: sipPort, ...sip } });
  return sipPort;
}

async function webUser(name: string): Promise<WsTestClient> {
  const client = await WsTestClient.login(scope.gateway!.httpPort, name);
  scope.defer(() => client.close());
  return client;
}

/** sipp sends one MESSAGE (or `calls` of them) to `user` at the gateway and takes the answers. */
function sippMessage(sipPort: number, user: string, body: string, options: Partial<SippOptions> & { contentType?: string } = {}): Promise<SippResult> {
  const { contentType, ...sipp } = options;
  return runSipp({
    scenario: 'uac-message',
    remote: `127.0.0.1:${sipPort}`,
    service: user,
    variables: { content_type: contentType ?? 'text/plain;charset=UTF-8', body },
    traceMessages: true,
    timeoutS: 15,
    ...sipp,
  });
}

/** The status lines sipp received, in order. */
function statusesReceived(result: SippResult): string[] {
  return [...result.messages.matchAll(/^SIP\/2\.0 (\d{3} [^\r\n]*)/gm)].map((match) => match[1]!);
}

/** The MESSAGE requests a sipp UAS received (its trace, one entry per message). */
function messagesReceived(result: SippResult): string[] {
  return result.messages.split(/^-{10,}.*$/m).filter((entry) => /message received/.test(entry) && /^MESSAGE sip:/m.test(entry));
}

/** A sipp UAS that takes one MESSAGE (200) or refuses it (404). */
async function sippUas(answer: 200 | 404): Promise<Awaited<ReturnType<typeof startSippServer>>> {
  const server = await startSippServer({ scenario: answer === 200 ? 'uas-message' : 'uas-message-404', calls: 1, timeoutS: 30, traceMessages: true });
  scope.defer(() => server.stop());
  return server;
}

function expectCompleted(result: SippResult): void {
  expect(result.exitCode, describeSipp(result)).toBe(0);
}

describe('SIP parties write to web users (sipp MESSAGE in)', () => {
  it('a MESSAGE reaches the online web user as a message frame and gets 200', async () => {
    const sipPort = await sipGateway();
    const alice = await webUser('alice');
    const result = await sippMessage(sipPort, 'alice', 'hello from the desk phone');
    expectCompleted(result);
    expect(statusesReceived(result)).toEqual(['200 OK']);
    const frame = await alice.next('message');
    expect(frame.body).toBe('hello from the desk phone');
    // The From URI with its port: what the web user replies to.
    expect(frame.from).toMatch(/^sip:sipp@127\.0\.0\.1:\d+$/);
  }, 30_000);

  it('a web user who is not online is 480, a Request-URI no web user stands for 404', async () => {
    const sipPort = await sipGateway();
    expect(statusesReceived(await sippMessage(sipPort, 'bob', 'anyone?'))).toEqual(['480 Temporarily Unavailable']);
    expect(statusesReceived(await sippMessage(sipPort, '%2Bnot*a*user', 'anyone?'))).toEqual(['404 No Such User']);
  }, 30_000);

  it('only text/plain is taken (415 with Accept: text/plain), and no body beyond 4096 characters (413)', async () => {
    const sipPort = await sipGateway();
    const alice = await webUser('alice');
    const html = await sippMessage(sipPort, 'alice', '<b>hi</b>', { contentType: 'text/html' });
    expect(statusesReceived(html)).toEqual(['415 Unsupported Media Type']);
    expect(html.messages).toMatch(/^Accept: text\/plain\r?$/m);
    const composing = await sippMessage(sipPort, 'alice', '<isComposing/>', { contentType: 'application/im-iscomposing+xml' });
    expect(statusesReceived(composing)).toEqual(['415 Unsupported Media Type']);
    const latin1 = await sippMessage(sipPort, 'alice', 'hi', { contentType: 'text/plain; charset=ISO-8859-1' });
    expect(statusesReceived(latin1)).toEqual(['415 Unsupported Media Type']);
    const oversize = await sippMessage(sipPort, 'alice', 'x'.repeat(5000));
    expect(statusesReceived(oversize)).toEqual(['413 Request Entity Too Large']);
    // The largest a web user could send back themselves still goes through, and is the only message the web user got.
    expect(statusesReceived(await sippMessage(sipPort, 'alice', 'y'.repeat(4096)))).toEqual(['200 OK']);
    expect((await alice.next('message')).body).toBe('y'.repeat(4096));
    expect(alice.frames.filter((frame) => frame.type === 'message')).toEqual([]);
  }, 60_000);

  it('a stranger (outside sip.inbound.allowedSources) is refused as its INVITE would be: 403, nothing reaches the web user', async () => {
    const sipPort = await sipGateway({ inbound: { allowedSources: ['127.0.0.1/32'] } });
    const alice = await webUser('alice');
    const stranger = await sippMessage(sipPort, 'alice', 'buy now', { localAddress: '127.0.0.2' });
    expect(statusesReceived(stranger)).toEqual(['403 Source Not Allowed']);
    const trusted = await sippMessage(sipPort, 'alice', 'from the PBX');
    expect(statusesReceived(trusted)).toEqual(['200 OK']);
    expect((await alice.next('message')).body).toBe('from the PBX');
    expect(alice.frames.filter((frame) => frame.type === 'message')).toEqual([]);
  }, 30_000);

  it('a flood from one source gets 503 with Retry-After beyond sip.inbound.messagesPerSecond', async () => {
    // One message per 10 s: the bucket holds one token, and the next comes long after sipp is done.
    const sipPort = await sipGateway({ inbound: { messagesPerSecond: 0.1 } });
    await webUser('alice');
    const result = await sippMessage(sipPort, 'alice', 'spam', { calls: 8, rate: 200 });
    const statuses = statusesReceived(result);
    expect(statuses).toHaveLength(8);
    expect(statuses.filter((status) => status === '200 OK')).toHaveLength(1);
    expect(statuses.filter((status) => status === '503 Too Many Messages')).toHaveLength(7);
    expect(result.messages).toMatch(/^Retry-After: 5\r?$/m);
  }, 30_000);
});

describe('chat inside a call', () => {
  it('a MESSAGE in the dialog of a call reaches the web user of that call (sip.js used to answer 200 and drop it)', async () => {
    const sipPort = await sipGateway();
    const alice = await webUser('alice');
    const sipp = runSipp({ scenario: 'uac-call-message-bye', remote: `127.0.0.1:${sipPort}`, service: 'alice', timeoutS: 20, traceMessages: true });
    const incoming = await alice.next('incoming', () => true, 10_000);
    const endpoint = makeWebRtcTestPeer(`web-${incoming.callId}`, (close) => scope.defer(close));
    alice.send({ type: 'accept', callId: incoming.callId, sdp: await endpoint.answerOffer(incoming.sdp, [PCMU, TELEPHONE_EVENT_8K]) });
    const frame = await alice.next('message', () => true, 10_000);
    expect(frame).toMatchObject({ body: 'said during the call' });
    expect(frame.from).toMatch(/^sip:sipp@127\.0\.0\.1:\d+$/);
    expect(await alice.next('ended', () => true, 10_000)).toMatchObject({ callId: incoming.callId, reason: 'hangup' });
    const result = await sipp;
    expectCompleted(result);
    expect(result.messages).toMatch(/SIP\/2\.0 200 OK\r?\n(?:[^\r\n]+\r?\n)*CSeq: 2 MESSAGE/);
  }, 30_000);
});

describe('web users write to SIP parties (MESSAGE out to a sipp UAS)', () => {
  it('a message goes as text/plain MESSAGE from sip:<user>@<domain>; the 200 means delivered, a 404 comes back as message-error', async () => {
    const sipPort = await sipGateway();
    const alice = await webUser('alice');
    const taker = await sippUas(200);
    alice.send({ type: 'message', id: 'm1', to: `sip:bob@127.0.0.1:${taker.port}`, body: 'hello from the web ✓' });
    await alice.next('ack', (frame) => frame.id === 'm1');
    const taken = await taker.done;
    expectCompleted(taken);
    const request = messagesReceived(taken)[0] ?? '';
    expect(request).toMatch(new RegExp(`^MESSAGE sip:bob@127\\.0\\.0\\.1:${taker.port} SIP/2\\.0`, 'm'));
    // No sip.domain: the advertised host with the gateway's port, where the phone's reply reaches alice.
    expect(request).toMatch(new RegExp(`^From: "alice" <sip:alice@127\\.0\\.0\\.1:${sipPort}>;tag=`, 'm'));
    expect(request).toMatch(/^Content-Type: text\/plain;charset=utf-8\r?$/m);
    expect(request).toContain('hello from the web ✓');

    const refuser = await sippUas(404);
    alice.send({ type: 'message', id: 'm2', to: `sip:nobody@127.0.0.1:${refuser.port}`, body: 'anyone?' });
    await alice.next('ack', (frame) => frame.id === 'm2');
    expectCompleted(await refuser.done);
    const bounce = await alice.next('message-error', () => true, 10_000);
    expect(bounce).toEqual({ type: 'message-error', id: 'm2', to: `sip:nobody@127.0.0.1:${refuser.port}`, code: 'undeliverable', message: `sip:nobody@127.0.0.1:${refuser.port} did not take the message (SIP 404 Not Found)` });
    // The first message's 200 came in before the second was sent: it bounced nothing.
    expect(alice.frames.filter((frame) => frame.type === 'message-error')).toEqual([]);
  }, 60_000);

  it('a phone that never answers: message-error with SIP 408 once the MESSAGE transaction times out (Timer F, 32 s)', async () => {
    await sipGateway();
    const alice = await webUser('alice');
    // A UDP port nobody listens on: the MESSAGE and its retransmissions go nowhere.
    const silent = await allocatePort();
    alice.send({ type: 'message', id: 'm1', to: `sip:gone@127.0.0.1:${silent}`, body: 'hello?' });
    await alice.next('ack', (frame) => frame.id === 'm1');
    expect(await alice.next('message-error', () => true, 45_000)).toMatchObject({
      id: 'm1',
      code: 'undeliverable',
      message: `sip:gone@127.0.0.1:${silent} did not take the message (SIP 408 Request Timeout)`,
    });
  }, 60_000);

  it('a destination the dial plan forbids is refused with forbidden and nothing is sent; an allowed one on the same phone goes', async () => {
    await sipGateway({ outbound: { dialPlan: [{ match: '^sip:allowed@127\\.0\\.0\\.1(:\\d+)?$', guests: true }] } });
    const alice = await webUser('alice');
    const phone = await sippUas(200);
    alice.send({ type: 'message', id: 'denied', to: `sip:premium@127.0.0.1:${phone.port}`, body: 'toll fraud' });
    expect(await alice.next('error', (frame) => frame.id === 'denied')).toMatchObject({ code: 'forbidden' });
    alice.send({ type: 'message', id: 'tel', to: 'tel:+19005551234', body: 'toll fraud' });
    expect(await alice.next('error', (frame) => frame.id === 'tel')).toMatchObject({ code: 'forbidden' });
    alice.send({ type: 'message', id: 'ok', to: `sip:allowed@127.0.0.1:${phone.port}`, body: 'allowed' });
    await alice.next('ack', (frame) => frame.id === 'ok');
    const result = await phone.done;
    expectCompleted(result);
    // sipp took exactly one MESSAGE (-m 1): the allowed one.
    const received = messagesReceived(result);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatch(/^MESSAGE sip:allowed@/m);
    expect(result.messages).not.toContain('toll fraud');
  }, 30_000);
});

describe('through a trunk that authenticates', () => {
  it('a message to tel: goes through sip.outbound.proxy and answers its 407 with the trunk credentials', async () => {
    const md5 = (text: string) => createHash('md5').update(text).digest('hex');
    const uri = 'sip:+15550100@127.0.0.1;user=phone';
    // RFC 2617 section 3.2.2.1 without qop, as the challenge offers none.
    const expected = md5(`${md5('trunk-user:trunk.test:trunk-secret')}:nonce-1:${md5(`MESSAGE:${uri}`)}`);
    const trunk = await startSippServer({
      scenario: 'uas-message-auth-407',
      calls: 1,
      timeoutS: 30,
      traceMessages: true,
      variables: { auth_nonce: 'nonce-1', expected_response: expected },
    });
    scope.defer(() => trunk.stop());
    await sipGateway({
      outbound: { proxy: `sip:127.0.0.1:${trunk.port}`, username: 'trunk-user', password: 'trunk-secret', dialPlan: [{ match: '^tel:\\+1555\\d{4}$', guests: true }] },
    });
    const alice = await webUser('alice');
    alice.send({ type: 'message', id: 'm1', to: 'tel:+15550100', body: 'via the trunk' });
    await alice.next('ack', (frame) => frame.id === 'm1');
    const result = await trunk.done;
    expectCompleted(result);
    const [first, second] = messagesReceived(result);
    expect(first).toMatch(/^MESSAGE sip:\+15550100@127\.0\.0\.1;user=phone SIP\/2\.0/m);
    expect(first).toMatch(new RegExp(`^Route: <sip:127\\.0\\.0\\.1:${trunk.port};lr>\\r?$`, 'm'));
    expect(second).toMatch(/^Proxy-Authorization: Digest .*username="trunk-user"/m);
    // The trunk took the credentials: it answered 200, not 403.
    expect(result.messages).toMatch(/SIP\/2\.0 200 OK\r?\n(?:[^\r\n]+\r?\n)*CSeq: 2 MESSAGE/);
  }, 40_000);
});

describe('a real phone (baresip) takes a web user\'s message', () => {
  it('baresip answers the MESSAGE 200 and the web user gets no message-error', async () => {
    await sipGateway();
    const phone = await startBaresip({ user: 'phone', sipTrace: true });
    scope.defer(() => phone.stop());
    const alice = await webUser('alice');
    alice.send({ type: 'message', id: 'm1', to: phone.uri, body: 'hello baresip' });
    await alice.next('ack', (frame) => frame.id === 'm1');
    // baresip -s prints every SIP message: the MESSAGE as it arrived, then its own 200.
    await phone.process.waitFor(/^Content-Type: text\/plain;charset=utf-8\r?\nContent-Length: 13\r?\n\r?\nhello baresip/m);
    await phone.process.waitFor(/SIP\/2\.0 200 OK\r?\n(?:[^\r\n]+\r?\n)*CSeq: 1 MESSAGE/);
    // A refused message right after it is the first and only message-error.
    const refuser = await sippUas(404);
    alice.send({ type: 'message', id: 'm2', to: `sip:nobody@127.0.0.1:${refuser.port}`, body: 'x' });
    expect(await alice.next('message-error', () => true, 10_000)).toMatchObject({ id: 'm2' });
    expect(alice.frames.filter((frame) => frame.type === 'message-error')).toEqual([]);
  }, 60_000);
});

describe('XMPP contacts write to SIP phones through the chat router', () => {
  it('a listed contact reaches the phone its xmpp.inbound rule names; a refusal bounces back; an unlisted one is forbidden', async () => {
    const phone = await sippUas(200);
    const refuser = await sippUas(404);
    const lab = await XmppLab.start({
      users: { carol: 'carol-secret', mallory: 'mallory-secret' },
      // The dial plan lets nobody reach these phones: the operator's rule is the permission (a routed party).
      xmpp: {
        inbound: {
          rules: [
            { match: '^desk$', target: `sip:desk@127.0.0.1:${phone.port}` },
            { match: '^gone$', target: `sip:gone@127.0.0.1:${refuser.port}` },
          ],
          allowedCallers: ['carol@localhost'],
        },
      },
      config: { sip: { enabled: true, port: await allocatePort(), outbound: { dialPlan: [] } } },
    });
    scope.defer(() => lab.stop());
    const carol = await lab.xmppClient('carol', 'carol-secret');
    const mallory = await lab.xmppClient('mallory', 'mallory-secret');

    await mallory.send(xml('message', { to: 'gateway@localhost/desk', type: 'chat', id: 'x1' }, xml('body', {}, 'free calls?')));
    const forbidden = await mallory.message('error', 'jabber:client');
    expect(forbidden.getChild('error')?.getChild('forbidden', NS_STANZAS)).toBeDefined();

    await carol.send(xml('message', { to: 'gateway@localhost/desk', type: 'chat', id: 'c1' }, xml('body', {}, 'hello desk phone')));
    const taken = await phone.done;
    expectCompleted(taken);
    const request = messagesReceived(taken)[0] ?? '';
    expect(request).toMatch(/^MESSAGE sip:desk@127\.0\.0\.1:\d+ SIP\/2\.0/m);
    expect(request).toMatch(/^From: "xmpp:carol@localhost" <sip:switchboard@127\.0\.0\.1>;tag=/m);
    expect(request).toContain('hello desk phone');
    expect(taken.messages).not.toContain('free calls?');

    await carol.send(xml('message', { to: 'gateway@localhost/gone', type: 'chat', id: 'c2' }, xml('body', {}, 'still there?')));
    const bounce = await carol.message('error', 'jabber:client');
    expect(bounce.attrs).toMatchObject({ type: 'error', id: 'c2' });
    expect(bounce.getChild('error')?.getChild('service-unavailable', NS_STANZAS)).toBeDefined();
    expectCompleted(await refuser.done);
  }, 60_000);
});
