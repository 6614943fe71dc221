import { afterEach, describe, expect, it } from 'vitest';
import { SipServerLocator } from '../../adapters/sip/transport/sip-server-locator.js';
import { startDnsmasq, type DnsRecords, type TestDns } from '../support/dnsmasq.js';

// SipServerLocator (RFC 3263 section 4) against a real DNS server: dnsmasq on loopback with the
// test's own records. What the gateway does with the targets is in sip-dns-location.test.ts.

const running: TestDns[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.stop();
});

async function dns(records: Omit<DnsRecords, 'zones'>): Promise<TestDns> {
  const server = await startDnsmasq({ zones: ['example.test'], ...records });
  running.push(server);
  return server;
}

const BOTH = { udp: true, udpFamily: 4 } as const;
const short = (targets: readonly { protocol: string; host: string; port: number }[] | undefined) => targets?.map((t) => `${t.protocol} ${t.host}:${t.port}`);

describe('SipServerLocator against dnsmasq', () => {
  it('sips: takes only the SIPS+D2T NAPTR service, whatever orders the others have', async () => {
    const server = await dns({
      a: [{ name: 'tls.example.test', address: '127.0.0.1' }, { name: 'udp.example.test', address: '127.0.0.1' }],
      naptr: [
        { name: 'example.test', order: 10, preference: 10, flags: 's', service: 'SIP+D2U', replacement: '_sip._udp.example.test' },
        { name: 'example.test', order: 20, preference: 10, flags: 's', service: 'SIPS+D2T', replacement: '_sips._tcp.example.test' },
      ],
      srv: [
        { name: '_sip._udp.example.test', target: 'udp.example.test', port: 5060, priority: 10, weight: 0 },
        { name: '_sips._tcp.example.test', target: 'tls.example.test', port: 5061, priority: 10, weight: 0 },
      ],
    });
    const locator = new SipServerLocator({ servers: [server.server] });
    expect(short(await locator.locate('sips:bob@example.test', BOTH))).toEqual(['TLS tls.example.test:5061']);
    const targets = await locator.locate('sips:bob@example.test', BOTH);
    // RFC 5922 section 4: the certificate must name the URI's domain, not the SRV target.
    expect(targets?.[0]?.serverName).toBe('example.test');
    // sip: follows the NAPTR order: UDP first, then TLS.
    expect(short(await locator.locate('sip:bob@example.test', BOTH))).toEqual(['UDP udp.example.test:5060', 'TLS tls.example.test:5061']);
    // Without a UDP listener the UDP service is not one the gateway speaks.
    expect(short(await locator.locate('sip:bob@example.test', { udp: false, udpFamily: 4 }))).toEqual(['TLS tls.example.test:5061']);
  }, 20_000);

  it('without NAPTR, the _sip._udp then _sip._tcp SRV records; without SRV, the A records at 5060 over UDP', async () => {
    const server = await dns({
      a: [{ name: 'a.example.test', address: '127.0.0.2' }, { name: 'b.example.test', address: '127.0.0.3' }, { name: 'plain.example.test', address: '127.0.0.4' }],
      srv: [
        { name: '_sip._udp.example.test', target: 'a.example.test', port: 5070, priority: 10, weight: 0 },
        { name: '_sip._tcp.example.test', target: 'b.example.test', port: 5080, priority: 10, weight: 0 },
      ],
    });
    const locator = new SipServerLocator({ servers: [server.server] });
    expect(short(await locator.locate('sip:bob@example.test', BOTH))).toEqual(['UDP a.example.test:5070', 'TCP b.example.test:5080']);
    const plain = await locator.locate('sip:bob@plain.example.test', BOTH);
    expect(plain?.map((t) => `${t.protocol} ${t.address}:${t.port}`)).toEqual(['UDP 127.0.0.4:5060']);
    // An IP literal asks nothing at all.
    const before = server.queries().length;
    expect(short(await locator.locate('sip:bob@127.0.0.9;transport=tcp', BOTH))).toEqual(['TCP 127.0.0.9:5060']);
    expect(server.queries().length).toBe(before);
  }, 20_000);

  it('SRV weights decide the order within a priority (the random source injected), lower priorities first', async () => {
    const server = await dns({
      a: ['w1', 'w2', 'w3'].map((name, index) => ({ name: `${name}.example.test`, address: `127.0.0.${index + 10}` })),
      srv: [
        { name: '_sip._udp.example.test', target: 'w1.example.test', port: 5060, priority: 10, weight: 10 },
        { name: '_sip._udp.example.test', target: 'w2.example.test', port: 5060, priority: 10, weight: 90 },
        { name: '_sip._udp.example.test', target: 'w3.example.test', port: 5060, priority: 5, weight: 0 },
      ],
    });
    // A draw of 0.5 of 0..100 is 50: past w1's 10, so w2 leads its priority.
    const locator = new SipServerLocator({ servers: [server.server], random: () => 0.5 });
    expect(short(await locator.locate('sip:bob@example.test;transport=udp', BOTH))).toEqual(['UDP w3.example.test:5060', 'UDP w2.example.test:5060', 'UDP w1.example.test:5060']);
  }, 20_000);

  it('answers are cached: a second lookup of the same next hop asks nothing; cacheSeconds 0 asks again', async () => {
    const server = await dns({ a: [{ name: 'pbx.example.test', address: '127.0.0.1' }] });
    const cached = new SipServerLocator({ servers: [server.server] });
    await cached.locate('sip:bob@pbx.example.test', BOTH);
    const asked = server.queries().length;
    expect(asked).toBeGreaterThan(0);
    expect(short(await cached.locate('sip:bob@pbx.example.test', BOTH))).toEqual(['UDP pbx.example.test:5060']);
    expect(server.queries().length).toBe(asked);
    const uncached = new SipServerLocator({ servers: [server.server], cacheSeconds: 0 });
    await uncached.locate('sip:bob@pbx.example.test', BOTH);
    await uncached.locate('sip:bob@pbx.example.test', BOTH);
    expect(server.queries().length).toBe(asked * 3);
  }, 20_000);

  it('a name nobody knows gives no target; a URI no transport reaches gives none either', async () => {
    const server = await dns({});
    const locator = new SipServerLocator({ servers: [server.server] });
    expect(await locator.locate('sip:bob@nowhere.example.test', BOTH)).toEqual([]);
    expect(await locator.locate('tel:+15550100', BOTH)).toBeUndefined();
    expect(await locator.locate('sips:bob@example.test;transport=udp', BOTH)).toBeUndefined();
  }, 20_000);

  it('localhost is never asked of the DNS servers (RFC 6761 section 6.3): it is this machine', async () => {
    const server = await dns({});
    const locator = new SipServerLocator({ servers: [server.server] });
    const targets = await locator.locate('sip:bob@localhost:5090', BOTH);
    expect(targets?.map((t) => `${t.protocol} ${t.address}:${t.port}`)).toEqual(['UDP 127.0.0.1:5090']);
    expect(server.queries()).toEqual([]);
  }, 20_000);
});
