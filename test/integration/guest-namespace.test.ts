import { afterEach, describe, expect, it } from 'vitest';
import { signAccessToken } from '../../src/auth/access-token.js';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway } from '../support/test-gateway.js';
import { WsTestClient } from '../support/ws-test-client.js';

// Guests pick their own names; token users prove theirs. A guest must never pass for a token user,
// take over a logged-in user's connection, or ring in their place (hardening issue, item 4).

const SECRET = 'a-long-enough-test-secret';
const OFFER = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n';

let gateway: Gateway | undefined;
const clients: WsTestClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await gateway?.stop();
  gateway = undefined;
});

async function connect(): Promise<WsTestClient> {
  const client = await WsTestClient.connect(gateway!.httpPort);
  clients.push(client);
  return client;
}

async function tokenUser(user: string): Promise<WsTestClient> {
  const client = await connect();
  client.send({ type: 'login', id: 'token', protocol: 1, token: await signAccessToken({ secret: SECRET, user, ttlSeconds: 60 }) });
  expect(await client.next('welcome')).toMatchObject({ user, address: `web:${user}` });
  return client;
}

describe('guests and token users (auth.secret with auth.anonymous)', () => {
  it('a guest who picks a token user’s name gets its own guest name and the token user keeps their calls', async () => {
    gateway = await startTestGateway({ auth: { secret: SECRET, anonymous: true } });
    const ceo = await tokenUser('ceo');
    const guest = await connect();
    guest.send({ type: 'login', id: 'g', protocol: 1, name: 'ceo' });
    expect(await guest.next('welcome')).toMatchObject({ id: 'g', user: 'guest-ceo', address: 'web:guest-ceo', guest: true });
    // The real ceo is still connected and still the one web:ceo rings.
    const caller = await tokenUser('alice');
    caller.send({ type: 'call', id: 'c', callId: 'call-to-ceo', to: 'web:ceo', sdp: OFFER });
    await caller.next('ack', (f) => f.id === 'c');
    expect(await ceo.next('incoming')).toMatchObject({ callId: 'call-to-ceo', from: 'web:alice' });
    expect(guest.frames.some((frame) => frame.type === 'incoming')).toBe(false);
    expect(ceo.closeCode).toBeUndefined();
  });

  it('a token for a name under the guest prefix is refused, so no token user can be confused with a guest', async () => {
    gateway = await startTestGateway({ auth: { secret: SECRET, anonymous: true } });
    const client = await connect();
    client.send({ type: 'login', id: 't', protocol: 1, token: await signAccessToken({ secret: SECRET, user: 'guest-bob', ttlSeconds: 60 }) });
    expect(await client.next('error')).toMatchObject({ id: 't', code: 'auth-failed' });
  });

  it('the prefix is configurable', async () => {
    gateway = await startTestGateway({ auth: { secret: SECRET, anonymous: true, guestPrefix: 'visitor.' } });
    const client = await connect();
    client.send({ type: 'login', id: 'g', protocol: 1, name: 'eve' });
    expect(await client.next('welcome')).toMatchObject({ user: 'visitor.eve', guest: true });
  });
});

describe('a guest never replaces a logged-in session', () => {
  it('anonymous-only gateway: a second guest with a name in use is refused (name-taken) and the first keeps it', async () => {
    gateway = await startTestGateway();
    const first = await connect();
    first.send({ type: 'login', id: 'a', protocol: 1, name: 'alice' });
    expect(await first.next('welcome')).toMatchObject({ user: 'alice', guest: true });
    const second = await connect();
    second.send({ type: 'login', id: 'b', protocol: 1, name: 'alice' });
    expect(await second.next('error')).toMatchObject({ id: 'b', code: 'name-taken' });
    // The first connection is untouched: it still answers and is still web:alice.
    first.send({ type: 'ping', id: 'p' });
    expect(await first.next('pong', (f) => f.id === 'p')).toBeDefined();
    expect(first.closeCode).toBeUndefined();
    // Once alice leaves, the name is free again.
    first.close();
    await expect.poll(async () => (await gateway!.directory.lookup('alice')) === undefined).toBe(true);
    const third = await connect();
    third.send({ type: 'login', id: 'c', protocol: 1, name: 'alice' });
    expect(await third.next('welcome')).toMatchObject({ user: 'alice' });
  });
});
