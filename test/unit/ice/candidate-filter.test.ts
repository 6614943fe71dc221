import { describe, expect, it } from 'vitest';
import { filterSdpCandidates, makeCandidateFilter } from '../../../src/ice/candidate-filter.js';

const host = (address: string, port = 50000): string =>
  `candidate:842163049 1 udp 2122260223 ${address} ${port} typ host generation 0 ufrag abcd network-id 1`;

describe('makeCandidateFilter', () => {
  it('accepts everything when no networks are configured', () => {
    const accept = makeCandidateFilter([]);
    expect(accept(host('10.1.2.3'))).toBe(true);
    expect(accept(host('4f1d2c2e-1234-4bcd-9abc-0123456789ab.local'))).toBe(true);
    expect(accept('not a candidate')).toBe(true);
  });

  it('matches IPv4 CIDR blocks and bare addresses', () => {
    const accept = makeCandidateFilter(['127.0.0.0/8', '192.0.2.10']);
    expect(accept(host('127.0.0.1'))).toBe(true);
    expect(accept(host('127.255.255.254'))).toBe(true);
    expect(accept(host('192.0.2.10'))).toBe(true);
    expect(accept(host('192.0.2.11'))).toBe(false);
    expect(accept(host('10.0.0.1'))).toBe(false);
    expect(accept(host('::1'))).toBe(false);
  });

  it('matches IPv6 CIDR blocks and bare addresses', () => {
    const accept = makeCandidateFilter(['2001:db8::/32', '::1']);
    expect(accept(host('2001:db8:ffff::1'))).toBe(true);
    expect(accept(host('::1'))).toBe(true);
    expect(accept(host('2001:db9::1'))).toBe(false);
    expect(accept(host('::2'))).toBe(false);
    expect(accept(host('127.0.0.1'))).toBe(false);
  });

  it('accepts both the a=candidate: and candidate: forms and every candidate type', () => {
    const accept = makeCandidateFilter(['198.51.100.0/24']);
    expect(accept(`a=${host('198.51.100.7')}`)).toBe(true);
    expect(accept('candidate:1 1 UDP 1686052607 198.51.100.7 61000 typ srflx raddr 10.0.0.5 rport 50000')).toBe(true);
    expect(accept('candidate:2 1 TCP 1518280447 198.51.100.8 9 typ host tcptype active')).toBe(true);
    expect(accept('a=candidate:3 1 udp 41885439 198.51.100.9 3478 typ relay raddr 0.0.0.0 rport 0\r\n')).toBe(true);
  });

  it('rejects mDNS names and unparsable lines when networks are configured', () => {
    const accept = makeCandidateFilter(['0.0.0.0/0', '::/0']);
    expect(accept(host('4f1d2c2e-1234-4bcd-9abc-0123456789ab.local'))).toBe(false);
    expect(accept(host('turn.example.com'))).toBe(false);
    expect(accept('')).toBe(false);
    expect(accept('a=candidate:')).toBe(false);
    expect(accept('a=ice-ufrag:abcd')).toBe(false);
    expect(accept('candidate:1 1 udp 2122260223 10.0.0.1 50000 host')).toBe(false);
    expect(accept('candidate:1 1 udp 2122260223 10.0.0.1 70000 typ host')).toBe(false);
    expect(accept('candidate:1 1 udp 2122260223 10.0.0.1')).toBe(false);
    expect(accept('candidate:bad!foundation 1 udp 2122260223 10.0.0.1 50000 typ host')).toBe(false);
    expect(accept(host('10.0.0.1'))).toBe(true);
  });

  it('throws on malformed networks', () => {
    expect(() => makeCandidateFilter(['10.0.0.0/33'])).toThrow(TypeError);
    expect(() => makeCandidateFilter(['example.com'])).toThrow(TypeError);
    expect(() => makeCandidateFilter(['10.0.0.0/8/1'])).toThrow(TypeError);
    expect(() => makeCandidateFilter(['10.0.0.0/x'])).toThrow(TypeError);
  });
});

describe('filterSdpCandidates', () => {
  const sdp = [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    'c=IN IP4 0.0.0.0',
    `a=${host('127.0.0.1', 50001)}`,
    `a=${host('10.0.0.7', 50002)}`,
    `a=${host('abc.local', 50003)}`,
    'a=end-of-candidates',
    '',
  ].join('\r\n');

  it('removes rejected candidate lines and keeps CRLF endings', () => {
    const out = filterSdpCandidates(sdp, makeCandidateFilter(['127.0.0.1']));
    expect(out).toBe(
      [
        'v=0',
        'o=- 1 2 IN IP4 127.0.0.1',
        's=-',
        't=0 0',
        'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
        'c=IN IP4 0.0.0.0',
        `a=${host('127.0.0.1', 50001)}`,
        'a=end-of-candidates',
        '',
      ].join('\r\n'),
    );
  });

  it('passes candidate lines without their line ending to the predicate', () => {
    const seen: string[] = [];
    filterSdpCandidates(sdp, (c) => {
      seen.push(c);
      return true;
    });
    expect(seen).toHaveLength(3);
    expect(seen.every((c) => c.startsWith('a=candidate:') && !/[\r\n]/.test(c))).toBe(true);
  });

  // Found by test/fuzz/sdp-audio.test.ts (seed -245608614): with bare CR line ends the whole SDP was one
  // line, so a candidate after the first line passed unfiltered to readers that split at CR.
  it('takes a bare CR for a line end, as SDP readers do', () => {
    const crOnly = sdp.replace(/\r\n/g, '\r');
    expect(filterSdpCandidates(crOnly, makeCandidateFilter(['127.0.0.1']))).not.toContain('10.0.0.7');
    expect(filterSdpCandidates(crOnly, () => true)).toBe(crOnly);
  });

  it('returns the input unchanged when everything is accepted, including a last line without terminator', () => {
    const unterminated = sdp.slice(0, -2);
    expect(filterSdpCandidates(sdp, () => true)).toBe(sdp);
    expect(filterSdpCandidates(unterminated, () => true)).toBe(unterminated);
    expect(filterSdpCandidates(`a=${host('10.0.0.7')}`, () => false)).toBe('');
  });
});
