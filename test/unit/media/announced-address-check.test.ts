import { PassThrough } from 'node:stream';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging/logger.js';
import { addressClientReached, AnnouncedAddressCheck } from '../../../src/media/announced-address-check.js';

describe('addressClientReached', () => {
  it.each([
    // [Host header, socket local address, address the client used through a translation]
    ['127.0.0.1:16080', '198.18.120.2', '127.0.0.1'], // a container's published port on the host's loopback
    ['203.0.113.10:8080', '10.0.0.5', '203.0.113.10'], // a cloud VM behind 1:1 NAT
    ['203.0.113.10', '::ffff:10.0.0.5', '203.0.113.10'], // no port, IPv4-mapped local address
    ['[2001:db8::1]:8080', '2001:db8::2', '2001:db8::1'],
    ['127.0.0.1:8080', '127.0.0.1', undefined], // host networking, same machine
    ['10.0.0.5:8080', '::ffff:10.0.0.5', undefined], // reached directly
    ['[2001:DB8::1]:8080', '2001:db8::1', undefined],
    ['gateway.example.com', '10.0.0.5', undefined], // a name: DNS or a reverse proxy, nothing to compare
    ['localhost:8080', '198.18.120.2', undefined],
    [undefined, '10.0.0.5', undefined],
    ['999.1.1.1:80', '10.0.0.5', undefined], // not an address
  ])('Host %s arriving at %s: %s', (host, local, expected) => {
    expect(addressClientReached(host, local)).toBe(expected);
  });
});

describe('AnnouncedAddressCheck', () => {
  function check(announced: string, configured: boolean) {
    const registry = new Registry();
    const counter = new Counter({ name: 'mismatch_total', help: 'test', registers: [registry] });
    const output = new PassThrough();
    const lines: Record<string, unknown>[] = [];
    output.on('data', (chunk: Buffer) => lines.push(...chunk.toString().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)));
    const subject = new AnnouncedAddressCheck(announced, configured, createLogger({ level: 'info', destination: output }), counter);
    return { subject, lines, count: async () => (await counter.get()).values[0]?.value ?? 0 };
  }

  it('warns once per address that differs from the announced one, and counts every such connection', async () => {
    const { subject, lines, count } = check('198.18.120.2', false);
    subject.observe('127.0.0.1');
    subject.observe('127.0.0.1');
    subject.observe('203.0.113.10');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await count()).toBe(3);
    expect(lines.map((line) => line.reachedAt)).toEqual(['127.0.0.1', '203.0.113.10']);
    expect(lines[0]).toMatchObject({ level: 'warn', announcedAddress: '198.18.120.2', announcedConfigured: false });
    expect(String(lines[0]!.msg)).toContain('media.announcedAddress is not set');
    expect(String(lines[0]!.msg)).toContain('SWITCHBOARD_MEDIA__ANNOUNCED_ADDRESS');
  });

  it('says nothing when clients reach the announced address', async () => {
    const { subject, lines, count } = check('127.0.0.1', true);
    subject.observe('127.0.0.1');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await count()).toBe(0);
    expect(lines).toEqual([]);
  });

  it('remembers a bounded number of addresses: a client cannot make it log without end', async () => {
    const { subject, lines, count } = check('203.0.113.10', true);
    for (let i = 1; i <= 40; i++) subject.observe(`192.0.2.${i}`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.length).toBe(16);
    expect(await count()).toBe(40);
  });
});
