import { afterEach, describe, expect, it } from 'vitest';
import { signAccessToken } from '../../src/auth/access-token.js';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway } from '../support/test-gateway.js';
import { WsTestClient } from '../support/ws-test-client.js';

// A browser-shaped offer: one loopback host candidate and one private-range one the gateway must drop.
const OFFER = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=rtpmap:111 opus/48000/2',
  'a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host',
  'a=candidate:2 1 udp 2122194687 10.1.2.3 50001 typ host',
  '',
].join('\r\n');
const ANSWER = OFFER.replace('o=- 1 2', 'o=- 3 4');

let gateway: Gateway;
const clients: WsTestClient[] = [];

async function login(name: string): Promise<WsTestClient> {
  const client = await WsTestClient.login(gateway.httpPort, name);
  clients.push(client);
  return client;
}

async function connect(): Promise<WsTestClient> {
  const client = await WsTestClient.connect(gateway.httpPort);
  clients.push(client);
  return client;
}

/** alice calls bob; returns both once bob saw the incoming call. */
async function ringingCall(callId: string): Promise<{ alice: WsTestClient; bob: WsTestClient }> {
  const alice = await login('alice');
  const bob = await login('bob');
  alice.send({ type: 'call', id: 'c1', callId, to: 'web:bob', sdp: OFFER });
  await alice.next('ack', (f) => f.id === 'c1');
  await bob.next('incoming', (f) => f.callId === callId);
  return { alice, bob };
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await gateway?.stop();
});

describe('login', () => {
  it('anonymous login gets a welcome with the embedded STUN server', async () => {
    gateway = await startTestGateway();
    const client = await connect();
    client.send({ type: 'login', id: 'l', protocol: 1, name: 'alice' });
    const welcome = await client.next('welcome');
    expect(welcome).toMatchObject({ id: 'l', user: 'alice', address: 'web:alice', protocol: 1 });
    expect(welcome.iceServers).toContainEqual({ urls: [`stun:127.0.0.1:${gateway.stunPort}`] });
  });

  it('hands out TURN REST credentials per user', async () => {
    gateway = await startTestGateway({ ice: { turn: [{ urls: ['turn:127.0.0.1:3479'], secret: 's3cret', ttlSeconds: 600 }] } });
    const client = await connect();
    client.send({ type: 'login', protocol: 1, name: 'alice' });
    const { iceServers } = await client.next('welcome');
    const turn = iceServers.find((s) => s.urls[0]!.startsWith('turn:'))!;
    const [expiry, user] = turn.username!.split(':');
    expect(user).toBe('alice');
    expect(Number(expiry) - Date.now() / 1000).toBeGreaterThan(590);
    expect(turn.credential).toMatch(/^[A-Za-z0-9+/]{27}=$/);
  });

  it('token login works, bad tokens and anonymous names are refused when a secret is set', async () => {
    const secret = 'a-long-enough-test-secret';
    gateway = await startTestGateway({ auth: { secret } });
    const good = await connect();
    good.send({ type: 'login', id: 'a', protocol: 1, token: await signAccessToken({ secret, user: 'carol', ttlSeconds: 60 }) });
    expect(await good.next('welcome')).toMatchObject({ user: 'carol' });

    const forged = await connect();
    forged.send({ type: 'login', id: 'b', protocol: 1, token: await signAccessToken({ secret: 'another-secret-value', user: 'carol', ttlSeconds: 60 }) });
    expect(await forged.next('error')).toMatchObject({ id: 'b', code: 'auth-failed' });

    const expired = await connect();
    const old = await signAccessToken({ secret, user: 'dave', ttlSeconds: 1, now: Date.now() - 10_000 });
    expired.send({ type: 'login', id: 'c', protocol: 1, token: old });
    expect(await expired.next('error')).toMatchObject({ id: 'c', code: 'auth-failed', message: 'token expired' });

    const anonymous = await connect();
    anonymous.send({ type: 'login', id: 'd', protocol: 1, name: 'eve' });
    expect(await anonymous.next('error')).toMatchObject({ id: 'd', code: 'anonymous-disabled' });
  });

  it('refuses another protocol version, a second login and an invalid name', async () => {
    gateway = await startTestGateway();
    const client = await connect();
    client.send({ type: 'login', id: 'v', protocol: 99, name: 'alice' });
    expect(await client.next('error')).toMatchObject({ id: 'v', code: 'unsupported-protocol' });
    client.send({ type: 'login', id: 'n', protocol: 1, name: 'no spaces' });
    expect(await client.next('error')).toMatchObject({ id: 'n', code: 'bad-message' });
    client.send({ type: 'login', id: 'ok', protocol: 1, name: 'alice' });
    await client.next('welcome');
    client.send({ type: 'login', id: 'again', protocol: 1, name: 'alice' });
    expect(await client.next('error')).toMatchObject({ id: 'again', code: 'already-logged-in' });
  });

  it('a second token login of the same user replaces the first connection (close 4001)', async () => {
    const secret = 'a-long-enough-test-secret';
    gateway = await startTestGateway({ auth: { secret } });
    const tokenLogin = async () => {
      const client = await connect();
      client.send({ type: 'login', protocol: 1, token: await signAccessToken({ secret, user: 'alice', ttlSeconds: 60 }) });
      await client.next('welcome');
      return client;
    };
    const first = await tokenLogin();
    await tokenLogin();
    expect(await first.closed).toBe(4001);
  });

  it('closes a connection that never logs in (4000)', async () => {
    gateway = await startTestGateway({ signaling: { loginTimeoutMs: 200 } });
    const client = await connect();
    expect(await client.closed).toBe(4000);
  });
});

describe('bad input', () => {
  it('answers each malformed frame with a precise error and keeps the connection', async () => {
    gateway = await startTestGateway();
    const client = await connect();
    client.sendRaw('{not json');
    expect(await client.next('error')).toMatchObject({ code: 'bad-json' });
    client.sendRaw('[1,2]');
    expect(await client.next('error')).toMatchObject({ code: 'bad-message' });
    client.send({ type: 'teleport', id: 'x' });
    expect(await client.next('error')).toMatchObject({ code: 'unknown-type', id: 'x' });
    client.send({ type: 'call', id: 'before-login', callId: 'abcdefgh', to: 'web:bob', sdp: OFFER });
    expect(await client.next('error')).toMatchObject({ code: 'not-logged-in', id: 'before-login' });
    client.sendRaw(Buffer.from([1, 2, 3]));
    expect(await client.next('error')).toMatchObject({ code: 'bad-message', message: 'binary frames are not supported' });
    client.send({ type: 'login', id: 'l', protocol: 1, name: 'alice' });
    await client.next('welcome');
    client.send({ type: 'call', id: 'm', callId: 'abcdefgh', to: 'web:bob' });
    expect(await client.next('error')).toMatchObject({ code: 'bad-message', id: 'm', message: 'call: field "sdp" Invalid input: expected string, received undefined' });
    client.send({ type: 'hangup', id: 'extra', callId: 'abcdefgh', evil: true });
    expect(await client.next('error')).toMatchObject({ code: 'bad-message', id: 'extra', message: 'hangup: field "evil" is not allowed' });
    client.send({ type: 'call', id: 'addr', callId: 'abcdefgh', to: 'gopher:x', sdp: OFFER });
    expect(await client.next('error')).toMatchObject({ code: 'bad-address', id: 'addr' });
    client.send({ type: 'call', id: 'self', callId: 'abcdefgh', to: 'alice', sdp: OFFER });
    expect(await client.next('error')).toMatchObject({ code: 'bad-address', id: 'self' });
    client.send({ type: 'ping', id: 'still-there' });
    expect(await client.next('pong')).toEqual({ type: 'pong', id: 'still-there' });
  });

  it('closes the socket with 1009 on an oversize frame', async () => {
    gateway = await startTestGateway({ signaling: { maxFrameBytes: 4096 } });
    const client = await connect();
    client.sendRaw('x'.repeat(5000));
    expect(await client.closed).toBe(1009);
  });

  it('calls to offline users and unknown calls get errors naming the problem', async () => {
    gateway = await startTestGateway();
    const alice = await login('alice');
    alice.send({ type: 'call', id: 'off', callId: 'call-offline', to: 'web:nobody', sdp: OFFER });
    expect(await alice.next('error')).toMatchObject({ id: 'off', code: 'offline', callId: 'call-offline' });
    alice.send({ type: 'hangup', id: 'h', callId: 'call-unknown' });
    expect(await alice.next('error')).toMatchObject({ id: 'h', code: 'unknown-call' });
    alice.send({ type: 'call', id: 'svc', callId: 'call-service', to: 'xmpp:carol@example.org', sdp: OFFER });
    expect(await alice.next('error')).toMatchObject({ id: 'svc', code: 'not-found' });
  });

  it('refuses to let a third party or the caller answer a call', async () => {
    gateway = await startTestGateway();
    const { alice } = await ringingCall('call-theft');
    const mallory = await login('mallory');
    mallory.send({ type: 'accept', id: 'steal', callId: 'call-theft', sdp: ANSWER });
    expect(await mallory.next('error')).toMatchObject({ id: 'steal', code: 'not-your-call' });
    alice.send({ type: 'accept', id: 'own', callId: 'call-theft', sdp: ANSWER });
    expect(await alice.next('error')).toMatchObject({ id: 'own', code: 'invalid-state' });
    mallory.send({ type: 'call', id: 'dup', callId: 'call-theft', to: 'web:alice', sdp: OFFER });
    expect(await mallory.next('error')).toMatchObject({ id: 'dup', code: 'duplicate-call-id' });
  });

  it('rate-limits a flooding client, then closes it with 1008, while another call goes on', async () => {
    gateway = await startTestGateway({ signaling: { rateLimit: { messagesPerSecond: 20, burst: 20, maxViolations: 50 } } });
    const { alice, bob } = await ringingCall('call-survives');
    const flooder = await login('flooder');
    for (let i = 0; i < 200; i++) flooder.send({ type: 'ping' });
    expect(await flooder.next('error')).toMatchObject({ code: 'rate-limited' });
    expect(await flooder.closed).toBe(1008);
    bob.send({ type: 'accept', id: 'a', callId: 'call-survives', sdp: ANSWER });
    expect(await alice.next('answered')).toMatchObject({ callId: 'call-survives' });
  });
});

describe('browser-to-browser call relay', () => {
  it('forwards offer, ringing, answer and loopback candidates; drops other networks', async () => {
    gateway = await startTestGateway();
    const { alice, bob } = await ringingCall('call-relay-1');
    expect(bob.frames).toEqual([]);
    bob.send({ type: 'ringing', callId: 'call-relay-1' });
    await alice.next('ringing');
    bob.send({ type: 'accept', id: 'acc', callId: 'call-relay-1', sdp: ANSWER });
    await bob.next('ack', (f) => f.id === 'acc');
    const answered = await alice.next('answered');
    expect(answered.sdp).toContain('127.0.0.1 50000 typ host');
    expect(answered.sdp).not.toContain('10.1.2.3');
    alice.send({ type: 'candidate', callId: 'call-relay-1', candidate: { candidate: 'candidate:9 1 udp 1 10.9.9.9 4000 typ host', sdpMid: '0' } });
    // A loopback candidate carrying a second SDP line passed the filter, which reads only the first (found by test/fuzz).
    const smuggled = 'candidate:4 1 udp 1 127.0.0.1 4002 typ host generation 0\r\na=candidate:9 1 udp 1 10.9.9.9 4000 typ host';
    alice.send({ type: 'candidate', id: 'smuggled', callId: 'call-relay-1', candidate: { candidate: smuggled, sdpMid: '0' } });
    expect(await alice.next('error', (f) => f.id === 'smuggled')).toMatchObject({ code: 'bad-message' });
    alice.send({ type: 'candidate', callId: 'call-relay-1', candidate: { candidate: 'candidate:3 1 udp 1 127.0.0.1 4001 typ host', sdpMid: '0' } });
    alice.send({ type: 'candidate', callId: 'call-relay-1', candidate: null });
    expect(await bob.next('candidate')).toMatchObject({ candidate: { candidate: 'candidate:3 1 udp 1 127.0.0.1 4001 typ host' } });
    expect(await bob.next('candidate')).toMatchObject({ candidate: null });
    alice.send({ type: 'offer', callId: 'call-relay-1', sdp: OFFER });
    expect((await bob.next('offer')).sdp).not.toContain('10.1.2.3');
    bob.send({ type: 'answer', callId: 'call-relay-1', sdp: ANSWER });
    await alice.next('answer');
    bob.send({ type: 'dtmf', callId: 'call-relay-1', digits: '12#' });
    expect(await alice.next('dtmf')).toMatchObject({ digits: '12#' });
    alice.send({ type: 'hangup', callId: 'call-relay-1' });
    expect(await bob.next('ended')).toMatchObject({ callId: 'call-relay-1', reason: 'hangup' });
    expect(gateway.calls.size).toBe(0);
  });

  it('a hangup with a failure reason reaches the other party as that failure, never as a hangup', async () => {
    gateway = await startTestGateway();
    const { alice, bob } = await ringingCall('call-failed-1');
    bob.send({ type: 'accept', id: 'a', callId: 'call-failed-1', sdp: ANSWER });
    await alice.next('answered');
    // The reason is one of the failures; anything else is a bad frame.
    alice.send({ type: 'hangup', id: 'bad', callId: 'call-failed-1', reason: 'busy' });
    expect(await alice.next('error', (f) => f.id === 'bad')).toMatchObject({ code: 'bad-message' });
    alice.send({ type: 'hangup', callId: 'call-failed-1', reason: 'media-failed', detail: 'Failed to set remote answer sdp' });
    expect(await bob.next('ended')).toMatchObject({ callId: 'call-failed-1', reason: 'media-failed', detail: 'the browser: Failed to set remote answer sdp' });
    expect(gateway.calls.size).toBe(0);
  });

  it('caller hang-up before answer is a cancel; callee reject is busy for the caller', async () => {
    gateway = await startTestGateway();
    const { alice, bob } = await ringingCall('call-cancel-1');
    alice.send({ type: 'hangup', callId: 'call-cancel-1' });
    expect(await bob.next('ended')).toMatchObject({ reason: 'cancelled' });

    alice.send({ type: 'call', id: 'c2', callId: 'call-busy-1', to: 'web:bob', sdp: OFFER });
    await bob.next('incoming', (f) => f.callId === 'call-busy-1');
    bob.send({ type: 'reject', callId: 'call-busy-1', reason: 'busy' });
    expect(await alice.next('ended')).toMatchObject({ callId: 'call-busy-1', reason: 'busy' });
  });

  it('an unanswered call ends with no-answer for both; a dropped connection ends calls for the other side once the resume window is over', async () => {
    gateway = await startTestGateway({ signaling: { ringTimeoutMs: 300, resumeWindowMs: 500 } });
    const { alice, bob } = await ringingCall('call-timeout');
    expect(await alice.next('ended')).toMatchObject({ reason: 'no-answer' });
    expect(await bob.next('ended')).toMatchObject({ reason: 'no-answer' });

    alice.send({ type: 'call', id: 'c3', callId: 'call-drop-1', to: 'web:bob', sdp: OFFER });
    await bob.next('incoming', (f) => f.callId === 'call-drop-1');
    bob.send({ type: 'accept', callId: 'call-drop-1', sdp: ANSWER });
    await alice.next('answered');
    bob.socket.terminate();
    expect(await alice.next('ended')).toMatchObject({ callId: 'call-drop-1', reason: 'connection-lost' });
  });

  it('presence: the subscriber gets the online list, then changes', async () => {
    gateway = await startTestGateway();
    const alice = await login('alice');
    alice.send({ type: 'presence-subscribe', id: 'p' });
    await alice.next('ack', (f) => f.id === 'p');
    expect(await alice.next('presence')).toEqual({ type: 'presence', full: true, users: [{ user: 'alice', status: 'online' }] });
    const bob = await login('bob');
    expect(await alice.next('presence')).toEqual({ type: 'presence', full: false, users: [{ user: 'bob', status: 'online' }] });
    bob.close();
    expect(await alice.next('presence')).toEqual({ type: 'presence', full: false, users: [{ user: 'bob', status: 'offline' }] });
  });
});

describe('operations endpoints', () => {
  it('/healthz answers and /metrics counts sockets, calls and errors', async () => {
    gateway = await startTestGateway();
    const base = `http://127.0.0.1:${gateway.httpPort}`;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const { alice } = await ringingCall('call-metrics');
    alice.send({ type: 'nonsense' });
    await alice.next('error');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^switchboard_websocket_connections 2$/m);
    expect(metrics).toMatch(/^switchboard_calls_active\{type="web-web"\} 1$/m);
    expect(metrics).toMatch(/^switchboard_signaling_errors_total\{code="unknown-type"\} 1$/m);
    expect(metrics).toMatch(/^switchboard_users_online 2$/m);
    expect((await fetch(`${base}/nothing-here`)).status).toBe(404);
    expect((await fetch(`${base}/..%2fpackage.json`)).status).toBe(404);
  });
});
