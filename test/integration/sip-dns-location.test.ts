import { describe, expect, it } from 'vitest';
import { startDnsmasq, type DnsRecords, type TestDns } from '../support/dnsmasq.js';
import { startKamailio } from '../support/sip/kamailio.js';
import { allocatePort } from '../support/sip/ports.js';
import { makeWebRtcTestPeer, PCMU } from '../support/webrtc-test-peer.js';
import { describeSipp, startSippServer, type SippOptions, type SippResult } from '../support/sip/sipp.js';
import { testScope } from '../support/test-scope.js';
import { WsTestClient } from '../support/ws-test-client.js';

// RFC 3263 server location for the gateway's outgoing SIP, against a real DNS server (dnsmasq on
// loopback, the gateway's sip.dns.servers pointed at it: never the machine's resolver) and sipp
// as the SIP servers the records name. A web user writes to `sip:bob@<domain>`; where the
// MESSAGE lands shows which records were followed.

const scope = testScope();

/** Only the test's own domain, besides the loopback rules every test gateway has. */
const DIAL_PLAN = [{ match: '^sip:[a-z]+@[a-z.]*example\\.test(:\\d+)?(;transport=(udp|tcp))?$', guests: true }];

async function dns(records: Omit<DnsRecords, 'zones'>): Promise<TestDns> {
  const server = await startDnsmasq({ zones: ['example.test'], ...records });
  scope.defer(() => server.stop());
  return server;
}

async function gatewayUsing(server: TestDns, extra: Record<string, unknown> = {}): Promise<void> {
  await scope.start({ sip: { enabled: true, port: await allocatePort(), dns: { servers: [server.server], ...extra }, outbound: { dialPlan: DIAL_PLAN } } });
}

async function webUser(name: string): Promise<WsTestClient> {
  const client = await WsTestClient.login(scope.gateway!.httpPort, name);
  scope.defer(() => client.close());
  return client;
}

async function sippUas(options: Partial<SippOptions> & { scenario?: string } = {}): Promise<Awaited<ReturnType<typeof startSippServer>>> {
  const server = await startSippServer({ scenario: 'uas-message', calls: 1, timeoutS: 30, traceMessages: true, ...options });
  scope.defer(() => server.stop());
  return server;
}

/** The MESSAGE requests a sipp UAS received. */
function messagesReceived(result: SippResult): string[] {
  return result.messages.split(/^-{10,}.*$/m).filter((entry) => /message received/.test(entry) && /^MESSAGE sip:/m.test(entry));
}

describe('RFC 3263: where the gateway sends a request for sip:user@domain', () => {
  it('NAPTR picks TCP, SRV orders two targets: the first refuses the connection, the MESSAGE reaches the second', async () => {
    const dead = await allocatePort();
    const live = await sippUas({ transport: 't1' });
    const server = await dns({
      a: [{ name: 'dead.example.test', address: '127.0.0.1' }, { name: 'live.example.test', address: '127.0.0.1' }],
      naptr: [
        { name: 'example.test', order: 10, preference: 10, flags: 's', service: 'SIP+D2T', replacement: '_sip._tcp.example.test' },
        // A service the gateway does not speak (RFC 7118 WebSocket) is skipped, whatever its order.
        { name: 'example.test', order: 5, preference: 10, flags: 's', service: 'SIP+D2W', replacement: '_sip._ws.example.test' },
      ],
      srv: [
        { name: '_sip._tcp.example.test', target: 'dead.example.test', port: dead, priority: 10, weight: 0 },
        { name: '_sip._tcp.example.test', target: 'live.example.test', port: live.port, priority: 20, weight: 0 },
      ],
    });
    await gatewayUsing(server);
    const alice = await webUser('alice');
    alice.send({ type: 'message', id: 'm1', to: 'sip:bob@example.test', body: 'found you' });
    await alice.next('ack', (frame) => frame.id === 'm1');
    const taken = await live.done;
    expect(taken.exitCode, describeSipp(taken)).toBe(0);
    const request = messagesReceived(taken)[0] ?? '';
    expect(request).toMatch(/^MESSAGE sip:bob@example\.test SIP\/2\.0/m);
    expect(request).toMatch(/^Via: SIP\/2\.0\/TCP /m);
    expect(request).toContain('found you');
    expect(alice.frames.filter((frame) => frame.type === 'message-error')).toEqual([]);
    const queries = server.queries();
    expect(queries.some((query) => query.startsWith('query[NAPTR] example.test'))).toBe(true);
    expect(queries.some((query) => query.startsWith('query[SRV] _sip._tcp.example.test'))).toBe(true);
    expect(queries.some((query) => query.includes('_sip._ws.'))).toBe(false);
  }, 60_000);

  it('SRV over UDP: the first target answers 503 without Retry-After, the MESSAGE goes on to the second and is delivered', async () => {
    const refusing = await sippUas({ scenario: 'uas-message-503' });
    const live = await sippUas();
    const server = await dns({
      a: [{ name: 'busy.example.test', address: '127.0.0.1' }, { name: 'live.example.test', address: '127.0.0.1' }],
      srv: [
        { name: '_sip._udp.example.test', target: 'busy.example.test', port: refusing.port, priority: 10, weight: 0 },
        { name: '_sip._udp.example.test', target: 'live.example.test', port: live.port, priority: 20, weight: 0 },
      ],
    });
    await gatewayUsing(server);
    const alice = await webUser('alice');
    alice.send({ type: 'message', id: 'm1', to: 'sip:bob@example.test', body: 'second time lucky' });
    await alice.next('ack', (frame) => frame.id === 'm1');
    const [refused, taken] = await Promise.all([refusing.done, live.done]);
    expect(refused.exitCode, describeSipp(refused)).toBe(0);
    expect(taken.exitCode, describeSipp(taken)).toBe(0);
    const first = messagesReceived(refused)[0] ?? '';
    const second = messagesReceived(taken)[0] ?? '';
    expect(second).toContain('second time lucky');
    // A new transaction at the second server (RFC 3263 section 4.3): same request, another branch.
    const branchOf = (text: string) => /^Via: [^\r\n]*;branch=([^;\r\n]+)/m.exec(text)?.[1];
    expect(branchOf(second)).toBeDefined();
    expect(branchOf(second)).not.toBe(branchOf(first));
    expect(/^Call-ID: (.*)$/m.exec(second)?.[1]).toBe(/^Call-ID: (.*)$/m.exec(first)?.[1]);
    // The 503 never reached the web user: no bounce, the message was delivered.
    expect(alice.frames.filter((frame) => frame.type === 'message-error')).toEqual([]);
  }, 60_000);

  it('a web user calls sip:bob@example.test: the first server rejects the INVITE with 503 and gets its ACK, the second answers the call', async () => {
    const refusing = await sippUas({ scenario: 'uas-invite-503' });
    const answering = await sippUas({ scenario: 'uas-answer' });
    const server = await dns({
      a: [{ name: 'busy.example.test', address: '127.0.0.1' }, { name: 'live.example.test', address: '127.0.0.1' }],
      naptr: [{ name: 'example.test', order: 10, preference: 10, flags: 's', service: 'SIP+D2U', replacement: '_sip._udp.example.test' }],
      srv: [
        { name: '_sip._udp.example.test', target: 'busy.example.test', port: refusing.port, priority: 10, weight: 0 },
        { name: '_sip._udp.example.test', target: 'live.example.test', port: answering.port, priority: 20, weight: 0 },
      ],
    });
    await gatewayUsing(server);
    const alice = await webUser('alice');
    const browserSide = makeWebRtcTestPeer('alice-browser', (close) => scope.defer(close));
    alice.send({ type: 'call', id: 'c', callId: 'call-via-srv', to: 'sip:bob@example.test', sdp: await browserSide.createOffer([PCMU]) });
    await alice.next('ack', (frame) => frame.id === 'c');
    const answered = await alice.next('answered', () => true, 15_000);
    browserSide.acceptAnswer(answered.sdp);
    alice.send({ type: 'hangup', callId: 'call-via-srv' });
    const [refused, taken] = await Promise.all([refusing.done, answering.done]);
    // sipp ends its scenario only once the 503 was acknowledged (RFC 3261 section 17.1.1.3).
    expect(refused.exitCode, describeSipp(refused)).toBe(0);
    expect(taken.exitCode, describeSipp(taken)).toBe(0);
    const ack = refused.messages.split(/^-{10,}.*$/m).find((entry) => /message received/.test(entry) && /^ACK sip:bob@example\.test SIP\/2\.0/m.test(entry)) ?? '';
    const invite = refused.messages.split(/^-{10,}.*$/m).find((entry) => /message received/.test(entry) && /^INVITE /m.test(entry)) ?? '';
    const branchOf = (text: string) => /^Via: [^\r\n]*;branch=([^;\r\n]+)/m.exec(text)?.[1];
    expect(branchOf(ack)).toBeDefined();
    expect(branchOf(ack)).toBe(branchOf(invite));
    expect(alice.frames.filter((frame) => frame.type === 'ended' && frame.reason !== 'hangup')).toEqual([]);
  }, 60_000);

  it('after a 503 sent the INVITE to the second server, the caller giving up sends CANCEL and the 487 ACK there, on that branch', async () => {
    const refusing = await sippUas({ scenario: 'uas-invite-503' });
    const ringing = await sippUas({ scenario: 'uas-ring-cancel' });
    const server = await dns({
      a: [{ name: 'busy.example.test', address: '127.0.0.1' }, { name: 'live.example.test', address: '127.0.0.1' }],
      srv: [
        { name: '_sip._udp.example.test', target: 'busy.example.test', port: refusing.port, priority: 10, weight: 0 },
        { name: '_sip._udp.example.test', target: 'live.example.test', port: ringing.port, priority: 20, weight: 0 },
      ],
    });
    await gatewayUsing(server);
    const alice = await webUser('alice');
    const browserSide = makeWebRtcTestPeer('alice-browser', (close) => scope.defer(close));
    alice.send({ type: 'call', id: 'c', callId: 'call-given-up', to: 'sip:bob@example.test', sdp: await browserSide.createOffer([PCMU]) });
    await alice.next('ringing', (frame) => frame.callId === 'call-given-up', 15_000);
    alice.send({ type: 'hangup', callId: 'call-given-up' });
    const [refused, cancelled] = await Promise.all([refusing.done, ringing.done]);
    expect(refused.exitCode, describeSipp(refused)).toBe(0);
    // sipp's scenario needs the CANCEL and then the ACK of its 487, both matched to its INVITE.
    expect(cancelled.exitCode, describeSipp(cancelled)).toBe(0);
    const received = (method: string) =>
      cancelled.messages.split(/^-{10,}.*$/m).find((entry) => /message received/.test(entry) && new RegExp(`^${method} `, 'm').test(entry)) ?? '';
    const branchOf = (text: string) => /^Via: [^\r\n]*;branch=([^;\r\n]+)/m.exec(text)?.[1];
    expect(branchOf(received('INVITE'))).toBeDefined();
    expect(branchOf(received('CANCEL'))).toBe(branchOf(received('INVITE')));
    expect(branchOf(received('ACK'))).toBe(branchOf(received('INVITE')));
  }, 60_000);

  it('SRV over UDP: the first target never answers, after sip.dns.failoverAfterMs the MESSAGE goes to the second', async () => {
    const silent = await allocatePort();
    const live = await sippUas();
    const server = await dns({
      a: [{ name: 'silent.example.test', address: '127.0.0.1' }, { name: 'live.example.test', address: '127.0.0.1' }],
      srv: [
        { name: '_sip._udp.example.test', target: 'silent.example.test', port: silent, priority: 10, weight: 0 },
        { name: '_sip._udp.example.test', target: 'live.example.test', port: live.port, priority: 20, weight: 0 },
      ],
    });
    await gatewayUsing(server, { failoverAfterMs: 1000 });
    const alice = await webUser('alice');
    alice.send({ type: 'message', id: 'm1', to: 'sip:bob@example.test', body: 'is anyone there?' });
    await alice.next('ack', (frame) => frame.id === 'm1');
    const taken = await live.done;
    expect(taken.exitCode, describeSipp(taken)).toBe(0);
    expect(messagesReceived(taken)).toHaveLength(1);
    expect(messagesReceived(taken)[0]).toContain('is anyone there?');
    expect(alice.frames.filter((frame) => frame.type === 'message-error')).toEqual([]);
  }, 60_000);

  it("a login's account at example.test registers at the registrar the domain's NAPTR and SRV records name (Kamailio over TCP), past a dead first target", async () => {
    const kamailio = await startKamailio({ users: { alice: 'alice-secret' }, udpPort: await allocatePort(), tcpPort: await allocatePort() });
    scope.defer(() => kamailio.stop());
    const dead = await allocatePort();
    const server = await dns({
      a: [{ name: 'old.example.test', address: '127.0.0.1' }, { name: 'registrar.example.test', address: '127.0.0.1' }],
      naptr: [{ name: 'example.test', order: 10, preference: 10, flags: 's', service: 'SIP+D2T', replacement: '_sip._tcp.example.test' }],
      srv: [
        { name: '_sip._tcp.example.test', target: 'old.example.test', port: dead, priority: 10, weight: 0 },
        { name: '_sip._tcp.example.test', target: 'registrar.example.test', port: kamailio.tcpPort, priority: 20, weight: 0 },
      ],
    });
    await scope.start({
      sip: { enabled: true, port: await allocatePort(), dns: { servers: [server.server] }, registration: { domains: [{ domain: 'example.test', guests: true }] } },
    });
    const alice = await WsTestClient.connect(scope.gateway!.httpPort);
    scope.defer(() => alice.close());
    alice.send({ type: 'login', id: 'login', protocol: 1, name: 'alice', sip: { aor: 'sip:alice@example.test', password: 'alice-secret' } });
    await alice.next('welcome');
    expect(await alice.next('registration', (frame) => frame.state === 'registered' || frame.state === 'failed', 15_000)).toMatchObject({
      state: 'registered',
      aor: 'sip:alice@example.test',
    });
    expect(server.queries().some((query) => query.startsWith('query[SRV] _sip._tcp.example.test'))).toBe(true);
  }, 45_000);

  it('an explicit port skips NAPTR and SRV: only the host address is looked up', async () => {
    const live = await sippUas();
    // An SRV record that would send the MESSAGE elsewhere, were it asked for.
    const server = await dns({
      a: [{ name: 'pbx.example.test', address: '127.0.0.1' }],
      srv: [{ name: '_sip._udp.pbx.example.test', target: 'pbx.example.test', port: 9, priority: 10, weight: 0 }],
    });
    await gatewayUsing(server);
    const alice = await webUser('alice');
    alice.send({ type: 'message', id: 'm1', to: `sip:bob@pbx.example.test:${live.port}`, body: 'straight there' });
    await alice.next('ack', (frame) => frame.id === 'm1');
    const taken = await live.done;
    expect(taken.exitCode, describeSipp(taken)).toBe(0);
    expect(messagesReceived(taken)[0]).toContain('straight there');
    const queries = server.queries().filter((query) => query.includes('pbx.example.test'));
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.every((query) => /^query\[(A|AAAA)\] pbx\.example\.test /.test(query))).toBe(true);
  }, 60_000);

  it('an outbound proxy with transport=udp: no NAPTR, its _sip._udp SRV records lead to it', async () => {
    const live = await sippUas();
    const server = await dns({
      a: [{ name: 'live.example.test', address: '127.0.0.1' }],
      naptr: [{ name: 'example.test', order: 10, preference: 10, flags: 's', service: 'SIP+D2T', replacement: '_sip._tcp.example.test' }],
      srv: [{ name: '_sip._udp.example.test', target: 'live.example.test', port: live.port, priority: 10, weight: 0 }],
    });
    await scope.start({
      sip: {
        enabled: true,
        port: await allocatePort(),
        dns: { servers: [server.server] },
        outbound: { proxy: 'sip:example.test;transport=udp', dialPlan: [{ match: '^tel:\\+1555\\d{4}$', guests: true }] },
      },
    });
    const alice = await webUser('alice');
    alice.send({ type: 'message', id: 'm1', to: 'tel:+15550100', body: 'over udp' });
    await alice.next('ack', (frame) => frame.id === 'm1');
    const taken = await live.done;
    expect(taken.exitCode, describeSipp(taken)).toBe(0);
    expect(messagesReceived(taken)[0]).toMatch(/^Via: SIP\/2\.0\/UDP /m);
    expect(messagesReceived(taken)[0]).toMatch(/^Route: <sip:example\.test;transport=udp;lr>\r?$/m);
    expect(server.queries().some((query) => query.startsWith('query[NAPTR]'))).toBe(false);
  }, 60_000);

  it('the dial plan comes before any lookup: a forbidden domain costs not one DNS query', async () => {
    const server = await dns({ a: [{ name: 'example.test', address: '127.0.0.1' }] });
    await gatewayUsing(server);
    const alice = await webUser('alice');
    alice.send({ type: 'message', id: 'm1', to: 'sip:bob@premium.example.com', body: 'toll fraud' });
    expect(await alice.next('error', (frame) => frame.id === 'm1')).toMatchObject({ code: 'forbidden' });
    expect(server.queries()).toEqual([]);
  }, 30_000);

  it('a domain with many SRV targets is tried only up to sip.dns.maxTargets, then the web user hears it failed', async () => {
    // Twenty targets on ports nobody listens on: each one refuses the connection at once.
    const closed = await Promise.all(Array.from({ length: 20 }, () => allocatePort()));
    const srv = closed.map((port, index) => ({ name: '_sip._tcp.many.example.test', target: `t${index}.many.example.test`, port, priority: index, weight: 0 }));
    const server = await dns({
      a: srv.map((record) => ({ name: record.target, address: '127.0.0.1' })),
      naptr: [{ name: 'many.example.test', order: 10, preference: 10, flags: 's', service: 'SIP+D2T', replacement: '_sip._tcp.many.example.test' }],
      srv,
    });
    await gatewayUsing(server, { maxTargets: 3 });
    const alice = await webUser('alice');
    alice.send({ type: 'message', id: 'm1', to: 'sip:bob@many.example.test', body: 'anyone?' });
    await alice.next('ack', (frame) => frame.id === 'm1');
    expect(await alice.next('message-error', (frame) => frame.id === 'm1', 20_000)).toMatchObject({ code: 'undeliverable' });
    const addressQueries = server.queries().filter((query) => /^query\[A\] t\d+\.many\.example\.test /.test(query));
    expect(addressQueries.map((query) => query.split(' ')[1])).toEqual(['t0.many.example.test', 't1.many.example.test', 't2.many.example.test']);
  }, 30_000);
});
