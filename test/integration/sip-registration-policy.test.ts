import { describe, expect, it } from 'vitest';
import { signAccessToken } from '../../src/auth/access-token.js';
import type { RegistrationMessage } from '../../src/protocol/messages.js';
import { allocatePort } from '../support/sip/ports.js';
import { RecordingSipPeer } from '../support/sip/recording-sip-peer.js';
import { testScope } from '../support/test-scope.js';
import { WsTestClient } from '../support/ws-test-client.js';

// Registration to arbitrary hosts (hardening issue, item 2): a login's SIP account makes the
// gateway send REGISTERs, so only configured domains, at their configured registrar, for the
// audience configured. Everything refused must never leave the gateway.

const SECRET = 'a-long-enough-test-secret';

// The gateway first, so its unregistrations find the registrars still there.
const scope = testScope('gateway-first');

async function registrar(): Promise<RecordingSipPeer> {
  const peer = await RecordingSipPeer.start();
  scope.defer(() => peer.close());
  return peer;
}

async function login(frame: Record<string, unknown>): Promise<WsTestClient> {
  const client = await WsTestClient.connect(scope.gateway!.httpPort);
  scope.defer(() => client.close());
  client.send({ type: 'login', protocol: 1, ...frame });
  await client.next('welcome');
  return client;
}

const failed = (client: WsTestClient): Promise<RegistrationMessage> => client.next('registration', (r) => r.state === 'failed', 5000);
const settle = () => new Promise((resolve) => setTimeout(resolve, 700));

describe('SIP accounts a login brings', () => {
  it('with no registration domain configured, no REGISTER leaves for any host a user names', async () => {
    const target = await registrar();
    await scope.start({ sip: { enabled: true, port: await allocatePort() } });
    const mallory = await login({ name: 'mallory', sip: { aor: `sip:victim@127.0.0.1:${target.port}`, password: 'x' } });
    expect(await failed(mallory)).toMatchObject({ code: 403 });
    const other = await login({ name: 'eve', sip: { aor: 'sip:eve@example.com', password: 'x', registrar: `sip:127.0.0.1:${target.port}` } });
    expect(await failed(other)).toMatchObject({ code: 403 });
    await settle();
    expect(target.received('REGISTER')).toEqual([]);
  }, 20_000);

  it('an allowed domain registers at its configured registrar, only for its audience, and a login cannot redirect it', async () => {
    const pbx = await registrar();
    const elsewhere = await registrar();
    const domain = `127.0.0.1:${pbx.port}`;
    await scope.start({
      auth: { secret: SECRET, anonymous: true },
      sip: { enabled: true, port: await allocatePort(), registration: { domains: [{ domain, groups: ['staff'] }] } },
    });
    const token = (user: string, groups: string[]) => signAccessToken({ secret: SECRET, user, ttlSeconds: 60, groups });
    const alice = await login({ token: await token('alice', ['staff']), sip: { aor: `sip:alice@${domain}`, password: 'x' } });
    await alice.next('registration', (r) => r.state === 'registering', 5000);
    await expect.poll(() => pbx.received('REGISTER').length, { timeout: 5000 }).toBeGreaterThan(0);
    expect(pbx.received('REGISTER')[0]!.requestUri).toBe(`sip:${domain}`);

    const bob = await login({ token: await token('bob', []), sip: { aor: `sip:bob@${domain}`, password: 'x' } });
    expect(await failed(bob)).toMatchObject({ code: 403 });
    const guest = await login({ name: 'carol', sip: { aor: `sip:carol@${domain}`, password: 'x' } });
    expect(await failed(guest)).toMatchObject({ code: 403 });
    const redirected = await login({ token: await token('dave', ['staff']), sip: { aor: `sip:dave@${domain}`, password: 'x', registrar: `sip:127.0.0.1:${elsewhere.port}` } });
    expect(await failed(redirected)).toMatchObject({ code: 403, reason: expect.stringMatching(/registrar/) });
    await settle();
    expect(pbx.received('REGISTER').every((register) => /From:[^\r\n]*alice@/i.test(register.text))).toBe(true);
    expect(elsewhere.received('REGISTER')).toEqual([]);
  }, 20_000);
});
