import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import type { WebRtcEndpoint } from '../../src/media/webrtc-endpoint.js';
import type { IceCandidate, WelcomeMessage } from '../../src/protocol/messages.js';
import { startTcpCutProxy, type TcpCutProxy } from '../support/tcp-cut-proxy.js';
import { startTestGateway } from '../support/test-gateway.js';
import { makeWebRtcTestPeer, PCMU } from '../support/webrtc-test-peer.js';
import { WsTestClient } from '../support/ws-test-client.js';
import { measurePcmu, sendTone, waitConnected } from '../support/xmpp/xmpp-lab.js';

// A web user's WebSocket goes through a TCP relay the test cuts (reset, no close frame): the
// gateway holds the session for signaling.resumeWindowMs, and a `resume` on a new connection takes
// it back with its calls. The anchored call is to service:echo, so audio that comes back after the
// resume proves the call's media and its leg lived through the cut.

let gateway: Gateway | undefined;
let proxy: TcpCutProxy | undefined;
const cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  await proxy?.close();
  proxy = undefined;
  await gateway?.stop();
  gateway = undefined;
});

interface Alice {
  client: WsTestClient;
  welcome: WelcomeMessage;
}

async function start(signaling: Record<string, unknown> = {}): Promise<Gateway> {
  gateway = await startTestGateway({ signaling: { resumeWindowMs: 5000, ...signaling } });
  proxy = await startTcpCutProxy(gateway.httpPort);
  return gateway;
}

async function loginThroughProxy(name: string): Promise<Alice> {
  const client = await WsTestClient.connect(proxy!.port);
  cleanups.push(() => client.close());
  client.send({ type: 'login', id: 'login', protocol: 1, name });
  return { client, welcome: await client.next('welcome') };
}

/** Alice calls service:echo with a real peer; resolves once its media is up. */
async function echoCall(alice: Alice): Promise<{ callId: string; media: WebRtcEndpoint }> {
  const media = makeWebRtcTestPeer('alice', (close) => cleanups.push(close));
  const callId = 'resume-echo-call';
  alice.client.send({ type: 'call', id: 'call', callId, to: 'service:echo', sdp: await media.createOffer([PCMU]) });
  const answered = await alice.client.next('answered', (f) => f.callId === callId, 10_000);
  media.acceptAnswer(answered.sdp);
  // The anchor trickles its own candidates after its answer.
  for (;;) {
    const frame = await alice.client.next('candidate', (f) => f.callId === callId, 10_000);
    media.addRemoteCandidate(frame.candidate as IceCandidate | null);
    if (frame.candidate === null) break;
  }
  await waitConnected(media);
  return { callId, media };
}

async function resume(token: string, received: number): Promise<WsTestClient> {
  const client = await WsTestClient.connect(proxy!.port);
  cleanups.push(() => client.close());
  client.send({ type: 'resume', id: 'resume', protocol: 1, token, received });
  return client;
}

describe('session resume over a new WebSocket', () => {
  it('a cut connection comes back with resume: the anchored call goes on with audio, and frames sent meanwhile arrive in order', async () => {
    const gw = await start();
    const alice = await loginThroughProxy('alice');
    expect(alice.welcome.resume).toMatchObject({ token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), windowMs: 5000 });
    const bob = await WsTestClient.login(gw.httpPort, 'bob');
    cleanups.push(() => bob.close());
    const { callId, media } = await echoCall(alice);
    expect((await measurePcmu(media, () => sendTone(media, 25))).received).toBeGreaterThan(10);

    proxy!.refuse(true);
    proxy!.cut();
    await alice.client.closed;
    // While alice is away: bob's chat messages are kept for her, her presence stays, her call stays.
    await expect.poll(() => gw.metrics.registry.getSingleMetricAsString('switchboard_sessions_detached_total').then((text) => /total 1$/m.test(text))).toBe(true);
    bob.send({ type: 'message', id: 'm1', to: 'web:alice', body: 'first while away' });
    bob.send({ type: 'message', id: 'm2', to: 'web:alice', body: 'second while away' });
    await bob.next('ack', (f) => f.id === 'm2');
    expect(gw.calls.size).toBe(1);
    // A new call would ring nowhere: refused as offline rather than left ringing for the window.
    bob.send({ type: 'call', id: 'call-away', callId: 'call-to-away-alice', to: 'web:alice', sdp: await makeWebRtcTestPeer('bob', (close) => cleanups.push(close)).createOffer([PCMU]) });
    expect(await bob.next('error', (f) => f.id === 'call-away', 10_000)).toMatchObject({ code: 'offline' });
    proxy!.refuse(false);

    const back = await resume(alice.welcome.resume!.token, alice.client.framesSinceWelcome);
    const resumed = await back.next('resumed');
    expect(resumed).toMatchObject({ id: 'resume', user: 'alice', sessionId: alice.welcome.sessionId, replayed: 2 });
    expect(resumed.resume.token).not.toBe(alice.welcome.resume!.token);
    const replayed = [await back.next('message'), await back.next('message')];
    expect(replayed.map((m) => m.body)).toEqual(['first while away', 'second while away']);

    // Audio through the anchor after the resume, and the call answers to the new connection.
    // sendTone numbers from 0 again: SRTP replay protection drops the first 25, which came before.
    const heard = await measurePcmu(media, () => sendTone(media, 100));
    expect(heard.received).toBeGreaterThan(50);
    expect(heard.rms).toBeGreaterThan(1000);
    back.send({ type: 'hangup', id: 'bye', callId });
    await back.next('ack', (f) => f.id === 'bye');
    await expect.poll(() => gw.calls.size).toBe(0);
    const outcomes = await gw.metrics.registry.getSingleMetricAsString('switchboard_session_resumes_total');
    expect(outcomes).toMatch(/outcome="resumed"} 1$/m);
  }, 60_000);

  it('frames the dead socket swallowed are sent again: the client says how many it got', async () => {
    const gw = await start();
    const alice = await loginThroughProxy('alice');
    const bob = await WsTestClient.login(gw.httpPort, 'bob');
    cleanups.push(() => bob.close());
    bob.send({ type: 'message', id: 'm1', to: 'web:alice', body: 'seen' });
    await alice.client.next('message');
    bob.send({ type: 'message', id: 'm2', to: 'web:alice', body: 'lost on the way' });
    await alice.client.next('message');
    proxy!.cut();
    await alice.client.closed;
    // As if the second message had died in the dead connection's buffers: report one frame fewer.
    const back = await resume(alice.welcome.resume!.token, alice.client.framesSinceWelcome - 1);
    expect(await back.next('resumed')).toMatchObject({ replayed: 1 });
    expect((await back.next('message')).body).toBe('lost on the way');
  }, 30_000);

  it('a resume claiming frames the gateway never sent is refused, and that session ends', async () => {
    const gw = await start();
    const alice = await loginThroughProxy('alice');
    proxy!.cut();
    await alice.client.closed;
    const liar = await resume(alice.welcome.resume!.token, alice.client.framesSinceWelcome + 5);
    expect(await liar.next('error')).toMatchObject({ code: 'resume-failed', message: expect.stringContaining('missed') });
    await expect.poll(() => gw.metrics.registry.getSingleMetricAsString('switchboard_users_online').then((text) => /online 0$/m.test(text))).toBe(true);
  }, 30_000);

  it('a session waiting for its resume keeps its place in the per-source connection cap', async () => {
    await start({ maxConnectionsPerSource: 2 });
    const alice = await loginThroughProxy('alice');
    const bob = await loginThroughProxy('bob');
    proxy!.cut();
    await Promise.all([alice.client.closed, bob.client.closed]);
    // Dropping connections on purpose does not free places for more: both sessions still hold theirs.
    await expect(WsTestClient.connect(proxy!.port)).rejects.toThrow(/429/);
  }, 30_000);

  it('a forged token and a spent one are refused and take nothing over; the session stays resumable', async () => {
    const gw = await start();
    const alice = await loginThroughProxy('alice');
    proxy!.cut();
    await alice.client.closed;

    const forger = await resume('A'.repeat(43), 0);
    expect(await forger.next('error')).toMatchObject({ id: 'resume', code: 'resume-failed' });
    expect(gw.calls.size).toBe(0);

    const first = await resume(alice.welcome.resume!.token, alice.client.framesSinceWelcome);
    const resumed = await first.next('resumed');
    // The token just used is spent: replaying it (someone who saw it) gets nothing.
    const replayer = await resume(alice.welcome.resume!.token, 0);
    expect(await replayer.next('error')).toMatchObject({ code: 'resume-failed' });
    first.send({ type: 'ping', id: 'still-mine' });
    expect(await first.next('pong')).toMatchObject({ id: 'still-mine' });
    // A resume while the session's own connection looks open (the browser noticed the loss first) moves it.
    const again = await resume(resumed.resume.token, first.framesSinceWelcome);
    expect(await again.next('resumed')).toMatchObject({ user: 'alice' });
    await first.closed;
    const refused = await gw.metrics.registry.getSingleMetricAsString('switchboard_session_resumes_total');
    expect(refused).toMatch(/outcome="refused"} 2$/m);
  }, 30_000);

  it('past the window the session ends: its call ends for the other party as connection-lost', async () => {
    const gw = await start({ resumeWindowMs: 1500 });
    const alice = await loginThroughProxy('alice');
    const bob = await WsTestClient.login(gw.httpPort, 'bob');
    cleanups.push(() => bob.close());
    const aliceMedia = makeWebRtcTestPeer('alice', (close) => cleanups.push(close));
    alice.client.send({ type: 'call', id: 'call', callId: 'resume-window-call', to: 'web:bob', sdp: await aliceMedia.createOffer([PCMU]) });
    const incoming = await bob.next('incoming', () => true, 10_000);
    const bobMedia = makeWebRtcTestPeer('bob', (close) => cleanups.push(close));
    bob.send({ type: 'accept', callId: incoming.callId, sdp: await bobMedia.answerOffer(incoming.sdp, [PCMU]) });
    await alice.client.next('answered', () => true, 10_000);

    proxy!.refuse(true);
    proxy!.cut();
    await alice.client.closed;
    const ended = await bob.next('ended', (f) => f.callId === incoming.callId, 10_000);
    expect(ended.reason).toBe('connection-lost');
    expect(gw.calls.size).toBe(0);
    proxy!.refuse(false);
    const late = await resume(alice.welcome.resume!.token, alice.client.framesSinceWelcome);
    expect(await late.next('error')).toMatchObject({ code: 'resume-failed' });
    const outcomes = await gw.metrics.registry.getSingleMetricAsString('switchboard_session_resumes_total');
    expect(outcomes).toMatch(/outcome="expired"} 1$/m);
  }, 30_000);

  it('a close the client meant (1000, 1001) ends the session at once, and so does a window of 0', async () => {
    const gw = await start();
    const bob = await WsTestClient.login(gw.httpPort, 'bob');
    cleanups.push(() => bob.close());
    await bob.send({ type: 'presence-subscribe', id: 'p' });
    await bob.next('ack', (f) => f.id === 'p');
    const alice = await loginThroughProxy('alice');
    await bob.next('presence', (f) => f.users.some((u) => u.user === 'alice' && u.status === 'online'));
    alice.client.socket.close(1001, 'page unloaded');
    await bob.next('presence', (f) => f.users.some((u) => u.user === 'alice' && u.status === 'offline'));
    const late = await resume(alice.welcome.resume!.token, 0);
    expect(await late.next('error')).toMatchObject({ code: 'resume-failed' });

    await gateway!.stop();
    gateway = undefined;
    await proxy!.close();
    const off = await start({ resumeWindowMs: 0 });
    const carol = await loginThroughProxy('carol');
    expect(carol.welcome.resume).toBeUndefined();
    expect(off.config.signaling.resumeWindowMs).toBe(0);
  }, 30_000);
});
