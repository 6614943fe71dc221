import { describe, expect, it } from 'vitest';
import { signAccessToken } from '../../src/auth/access-token.js';
import type { ConfigInput } from '../../src/config/load-config.js';
import { allocatePort } from '../support/sip/ports.js';
import { RecordingSipPeer } from '../support/sip/recording-sip-peer.js';
import { runSipp, startSippServer } from '../support/sip/sipp.js';
import { testScope } from '../support/test-scope.js';
import { WsTestClient } from '../support/ws-test-client.js';
import { makeWebRtcTestPeer, PCMU, TELEPHONE_EVENT_8K } from '../support/webrtc-test-peer.js';

// Toll fraud (hardening issue, item 1): nothing reaches a trunk unless a dial plan rule allows
// it for that caller, whether the caller dials, transfers a SIP party, or follows a SIP REFER.
// The "trunk" is a recording peer at sip.outbound.proxy: what it never receives never cost money.

const SECRET = 'a-long-enough-test-secret';
const DOMAIN = 'gw.test';

const scope = testScope();

type OutboundConfig = NonNullable<NonNullable<NonNullable<ConfigInput>['sip']>['outbound']>;

/** A gateway for token users and guests whose outgoing SIP goes to a recording trunk (unless `direct`). */
async function trunkGateway(outbound: OutboundConfig = {}, options: { direct?: boolean } = {}): Promise<RecordingSipPeer> {
  const trunk = await RecordingSipPeer.start();
  scope.defer(() => trunk.close());
  const proxy = options.direct ? {} : { proxy: `sip:127.0.0.1:${trunk.port}` };
  await scope.start({
    auth: { secret: SECRET, anonymous: true },
    sip: { enabled: true, port: await allocatePort(), domain: DOMAIN, outbound: { ...proxy, dialPlan: [], ...outbound } },
  });
  return trunk;
}

async function tokenUser(user: string, groups: string[] = []): Promise<WsTestClient> {
  const client = await WsTestClient.connect(scope.gateway!.httpPort);
  scope.defer(() => client.close());
  client.send({ type: 'login', protocol: 1, token: await signAccessToken({ secret: SECRET, user, ttlSeconds: 60, groups }) });
  await client.next('welcome');
  return client;
}

async function guest(name: string): Promise<WsTestClient> {
  const client = await WsTestClient.login(scope.gateway!.httpPort, name);
  scope.defer(() => client.close());
  return client;
}

/** Dials `to` and returns the outcome: the error code, or `ended:<reason>` for a call that was placed. */
async function dial(client: WsTestClient, to: string, callId: string): Promise<string> {
  const browser = makeWebRtcTestPeer(`browser-${callId}`, (close) => scope.defer(close));
  client.send({ type: 'call', id: callId, callId, to, sdp: await browser.createOffer([PCMU]) });
  const reply = await Promise.race([client.next('error', (f) => f.id === callId, 10_000), client.next('ended', (f) => f.callId === callId, 10_000)]);
  return reply.type === 'error' ? reply.code : `ended:${reply.reason}`;
}

/** Time for an INVITE that did leave to reach the trunk (loopback: milliseconds). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 500));

describe('the dial plan keeps calls off the trunk', () => {
  it('with no rule, neither a guest nor a token user reaches the trunk by tel:, a number at the own domain, or the own host', async () => {
    const trunk = await trunkGateway();
    const mallory = await guest('mallory');
    const alice = await tokenUser('alice');
    for (const [client, name] of [[mallory, 'guest'], [alice, 'user']] as const) {
      expect(await dial(client, 'tel:+19005550100', `${name}-tel`)).toBe('forbidden');
      expect(await dial(client, `sip:+8823456789@${DOMAIN}`, `${name}-own-domain`)).toBe('forbidden');
      expect(await dial(client, 'sip:+8823456789@127.0.0.1', `${name}-own-host`)).toBe('forbidden');
    }
    await settle();
    expect(trunk.received('INVITE')).toEqual([]);
  }, 30_000);

  it('a number rule applies to the number as dialled (tel: form, anchored $), for its group only', async () => {
    const trunk = await trunkGateway({
      dialPlan: [
        { match: '^tel:\\+1900', action: 'deny' },
        { match: '^tel:\\+1212555\\d{4}$', groups: ['staff'] },
      ],
    });
    const staff = await tokenUser('alice', ['staff']);
    const other = await tokenUser('bob');
    const mallory = await guest('mallory');
    expect(await dial(staff, 'tel:+12125550100', 'staff-ok')).toBe('ended:busy');
    expect(trunk.received('INVITE').map((invite) => invite.requestUri)).toEqual([`sip:+12125550100@${DOMAIN};user=phone`]);
    expect(await dial(staff, 'tel:+19005550100', 'staff-premium')).toBe('forbidden');
    expect(await dial(staff, `sip:+12125550100@${DOMAIN}`, 'staff-sip-form')).toBe('forbidden');
    expect(await dial(other, 'tel:+12125550100', 'other-user')).toBe('forbidden');
    expect(await dial(mallory, 'tel:+12125550100', 'guest-user')).toBe('forbidden');
    await settle();
    expect(trunk.received('INVITE')).toHaveLength(1);
  }, 30_000);

  it('guests reach a destination only where a rule says guests: true', async () => {
    const trunk = await trunkGateway({ dialPlan: [{ match: '^tel:\\+1800\\d{7}$', guests: true }] });
    const mallory = await guest('mallory');
    expect(await dial(mallory, 'tel:+18005550100', 'toll-free')).toBe('ended:busy');
    expect(trunk.received('INVITE')).toHaveLength(1);
  }, 30_000);
});

describe('transfers go through the same dial plan', () => {
  it('a web user cannot transfer a SIP party to a destination the plan refuses: no REFER leaves', async () => {
    await trunkGateway({ dialPlan: [{ match: '^sip:bob@127\\.0\\.0\\.1:\\d+$', guests: true }] }, { direct: true });
    // uas-answer fails on any request but the BYE it waits for, so a REFER would fail it.
    const party = await startSippServer({ scenario: 'uas-answer', calls: 1, timeoutS: 20 });
    scope.defer(() => party.stop());
    const alice = await guest('alice');
    const browser = makeWebRtcTestPeer('alice-browser', (close) => scope.defer(close));
    alice.send({ type: 'call', callId: 'to-party', to: `sip:bob@127.0.0.1:${party.port}`, sdp: await browser.createOffer([PCMU]) });
    browser.acceptAnswer((await alice.next('answered', () => true, 10_000)).sdp);
    alice.send({ type: 'transfer', id: 'xfer', callId: 'to-party', to: 'tel:+19005550100' });
    expect(await alice.next('error', (f) => f.id === 'xfer')).toMatchObject({ code: 'forbidden' });
    alice.send({ type: 'hangup', callId: 'to-party' });
    const result = await party.done;
    expect(result.exitCode, `${result.errors}\n${result.messages.slice(-3000)}`).toBe(0);
    expect(result.messages).not.toMatch(/^REFER /m);
  }, 30_000);

  it.each([
    ['a premium number', 'tel:+19005550100'],
    ['a number at the gateway’s own domain', `sip:+19005550100@${DOMAIN}`],
    ['a number at the gateway’s own host', 'sip:+19005550100@127.0.0.1'],
    ['an outside SIP address', 'sip:carol@198.51.100.7'],
  ])('a SIP party’s REFER to %s is refused with 403 and the web user is never asked to follow', async (_what, referTo) => {
    const trunk = await trunkGateway({ dialPlan: [{ match: '^tel:', guests: true }] });
    const alice = await tokenUser('alice');
    const transferor = runSipp({ scenario: 'uac-refer-refused', remote: `127.0.0.1:${scope.gateway!.sip!.addresses()!.udp!.port}`, service: 'alice', pauseMs: 300, timeoutS: 20, variables: { refer_to: referTo } });
    const incoming = await alice.next('incoming', () => true, 10_000);
    const browser = makeWebRtcTestPeer('alice-web', (close) => scope.defer(close));
    alice.send({ type: 'accept', callId: incoming.callId, sdp: await browser.answerOffer(incoming.sdp, [PCMU, TELEPHONE_EVENT_8K]) });
    const result = await transferor;
    expect(result.exitCode, `${result.errors}\n${result.messages.slice(-3000)}`).toBe(0);
    expect(alice.frames.some((frame) => frame.type === 'transfer')).toBe(false);
    expect(trunk.received('INVITE')).toEqual([]);
  }, 30_000);

  it('a SIP party’s REFER to a user of the gateway’s own domain sends the web user to that web user', async () => {
    await trunkGateway();
    const alice = await tokenUser('alice');
    const transferor = runSipp({ scenario: 'uac-refer', remote: `127.0.0.1:${scope.gateway!.sip!.addresses()!.udp!.port}`, service: 'alice', pauseMs: 300, timeoutS: 20, variables: { refer_to: `sip:bob@${DOMAIN}` } });
    scope.defer(() => transferor);
    const incoming = await alice.next('incoming', () => true, 10_000);
    const browser = makeWebRtcTestPeer('alice-web', (close) => scope.defer(close));
    alice.send({ type: 'accept', callId: incoming.callId, sdp: await browser.answerOffer(incoming.sdp, [PCMU, TELEPHONE_EVENT_8K]) });
    expect(await alice.next('transfer', () => true, 10_000)).toMatchObject({ callId: incoming.callId, to: 'web:bob' });
    alice.send({ type: 'hangup', callId: incoming.callId });
  }, 30_000);
});
