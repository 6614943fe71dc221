import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import type { RegistrationMessage } from '../../src/protocol/messages.js';
import { startKamailio, type Kamailio } from '../support/sip/kamailio.js';
import { allocatePort } from '../support/sip/ports.js';
import { runSipp } from '../support/sip/sipp.js';
import { startTestGateway } from '../support/test-gateway.js';
import { WsTestClient } from '../support/ws-test-client.js';
import { makeWebRtcTestPeer, PCMU } from '../support/webrtc-test-peer.js';

// Kamailio as registrar and proxy: the gateway registers a web user with
// digest authentication, and a SIP UA reaches that user through Kamailio.

let gateway: Gateway | undefined;
let kamailio: Kamailio | undefined;
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await gateway?.stop();
  gateway = undefined;
  await kamailio?.stop();
  kamailio = undefined;
});

/** Web users (guests here) may register accounts of the Kamailio's domain, at `registrar` (default: the domain). */
function registrationFor(lab: Kamailio, registrar?: string) {
  return { domains: [{ domain: lab.domain, guests: true, ...(registrar ? { registrar } : {}) }] };
}

async function loginWithSip(name: string, sip: { aor: string; password: string; registrar?: string }): Promise<WsTestClient> {
  const client = await WsTestClient.connect(gateway!.httpPort);
  cleanups.push(() => client.close());
  client.send({ type: 'login', id: 'login', protocol: 1, name, sip });
  await client.next('welcome');
  return client;
}

async function registrationState(client: WsTestClient, state: RegistrationMessage['state']): Promise<RegistrationMessage> {
  return client.next('registration', (f) => f.state === state, 10_000);
}

describe('registration to Kamailio on behalf of web users', () => {
  it('registers with digest auth, receives a call routed by Kamailio, and unregisters on logout', async () => {
    kamailio = await startKamailio({ users: { alice: 'alice-secret' } });
    gateway = await startTestGateway({ sip: { enabled: true, port: await allocatePort(), registration: registrationFor(kamailio) } });
    const alice = await loginWithSip('alice', { aor: `sip:alice@${kamailio.domain}`, password: 'alice-secret' });
    await registrationState(alice, 'registering');
    expect(await registrationState(alice, 'registered')).toMatchObject({ aor: `sip:alice@${kamailio.domain}` });

    // A SIP UA calls alice's address of record at Kamailio; Kamailio forwards to the gateway's contact.
    const sipp = runSipp({ scenario: 'uac-call-bye', remote: `127.0.0.1:${kamailio.udpPort}`, service: 'alice', timeoutS: 20 });
    const incoming = await alice.next('incoming', () => true, 10_000);
    const endpoint = makeWebRtcTestPeer('alice-web', (close) => cleanups.push(close));
    const answer = await endpoint.answerOffer(incoming.sdp, [PCMU]);
    alice.send({ type: 'accept', callId: incoming.callId, sdp: answer });
    expect(await alice.next('ended', () => true, 15_000)).toMatchObject({ reason: 'hangup' });
    const result = await sipp;
    expect(result.exitCode, result.errors).toBe(0);

    // Logout unregisters: Kamailio no longer has a contact for alice and answers 404 itself.
    alice.close();
    await expect.poll(() => gateway!.calls.size).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const afterLogout = await runSipp({ scenario: 'uac-busy', remote: `127.0.0.1:${kamailio.udpPort}`, service: 'alice', timeoutS: 10 });
    expect(afterLogout.exitCode).not.toBe(0);
    expect(afterLogout.errors + afterLogout.stdout).toMatch(/404/);
  }, 45_000);

  it('registers over TCP when the registrar URI says so', async () => {
    // UDP and TCP on different ports: only TCP listens on the registrar's port, so success proves TCP.
    kamailio = await startKamailio({ users: { carol: 'carol-secret' }, udpPort: await allocatePort(), tcpPort: await allocatePort() });
    expect(kamailio.tcpPort).not.toBe(kamailio.udpPort);
    const registrar = `sip:127.0.0.1:${kamailio.tcpPort};transport=tcp`;
    gateway = await startTestGateway({ sip: { enabled: true, port: await allocatePort(), registration: registrationFor(kamailio, registrar) } });
    const carol = await loginWithSip('carol', {
      aor: `sip:carol@${kamailio.domain}`,
      password: 'carol-secret',
      registrar,
    });
    expect(await registrationState(carol, 'registered')).toMatchObject({ aor: `sip:carol@${kamailio.domain}` });
    expect(kamailio.process.output()).not.toMatch(/ERROR/);
  }, 30_000);

  it('registers over WebSocket as an RFC 7118 client, and a SIP UA reaches the web user through that flow', async () => {
    kamailio = await startKamailio({ users: { dave: 'dave-secret' }, wsPort: await allocatePort() });
    // No UDP or TCP listener: the WebSocket flow the gateway opens to Kamailio is its only SIP path,
    // so the INVITE, the ACK and the BYE can only reach it over that flow.
    const registrar = `sip:127.0.0.1:${kamailio.wsPort};transport=ws`;
    gateway = await startTestGateway({ sip: { enabled: true, port: 0, udp: false, tcp: false, ws: true, registration: registrationFor(kamailio, registrar) } });
    expect(gateway.sip!.addresses()).toMatchObject({ udp: undefined, tcp: undefined });
    const dave = await loginWithSip('dave', {
      aor: `sip:dave@${kamailio.domain}`,
      password: 'dave-secret',
      registrar,
    });
    expect(await registrationState(dave, 'registered')).toMatchObject({ aor: `sip:dave@${kamailio.domain}` });
    // Kamailio saw the REGISTER (challenged, then with credentials) arrive over WS.
    expect(kamailio.process.output()).toMatch(/SB REGISTER sip:127\.0\.0\.1:\d+;transport=ws from 127\.0\.0\.1:\d+ \(ws\)/);

    const sipp = runSipp({ scenario: 'uac-call-bye', remote: `127.0.0.1:${kamailio.udpPort}`, service: 'dave', timeoutS: 20 });
    const incoming = await dave.next('incoming', () => true, 10_000);
    expect(incoming.from).toMatch(/^sip:sipp@127\.0\.0\.1/);
    const endpoint = makeWebRtcTestPeer('dave-web', (close) => cleanups.push(close));
    const answer = await endpoint.answerOffer(incoming.sdp, [PCMU]);
    dave.send({ type: 'accept', callId: incoming.callId, sdp: answer });
    // sipp's BYE comes back through Kamailio over the flow: the web user's call ends as a hangup.
    expect(await dave.next('ended', () => true, 15_000)).toMatchObject({ callId: incoming.callId, reason: 'hangup' });
    const result = await sipp;
    expect(result.exitCode, result.errors).toBe(0);
    expect(result.stats.successfulCalls).toBe(1);

    // Logout unregisters over the same flow: Kamailio answers 404 for dave again.
    dave.close();
    await expect.poll(() => gateway!.calls.size).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const afterLogout = await runSipp({ scenario: 'uac-busy', remote: `127.0.0.1:${kamailio.udpPort}`, service: 'dave', timeoutS: 10 });
    expect(afterLogout.exitCode).not.toBe(0);
    expect(afterLogout.errors + afterLogout.stdout).toMatch(/404/);
    expect(kamailio.process.output()).not.toMatch(/ERROR/);
  }, 45_000);

  it('a wrong password is reported as a failed registration with the SIP status', async () => {
    kamailio = await startKamailio({ users: { bob: 'right-password' } });
    gateway = await startTestGateway({ sip: { enabled: true, port: await allocatePort(), registration: registrationFor(kamailio) } });
    const bob = await loginWithSip('bob', { aor: `sip:bob@${kamailio.domain}`, password: 'wrong-password' });
    const failed = await registrationState(bob, 'failed');
    expect(failed.code === 401 || failed.code === 403 || failed.code === 407).toBe(true);
    expect(failed.reason).toMatch(/credentials|forbids/);
  }, 30_000);
});
