import { describe, expect, it } from 'vitest';
import { announceAddress } from '../../../src/media/announced-address.js';

const SDP = [
  'v=0',
  'o=rtc 123 0 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=audio 50000 UDP/TLS/RTP/SAVPF 0',
  'c=IN IP4 172.17.0.2',
  'a=candidate:1 1 UDP 2122317823 172.17.0.2 50000 typ host',
  'a=candidate:2 1 UDP 2122317567 10.0.0.7 50000 typ host',
  'a=candidate:3 1 UDP 2122317311 fd00::2 50002 typ host',
  'a=candidate:4 1 UDP 1686052607 198.51.100.9 61000 typ srflx raddr 172.17.0.2 rport 50000',
  'a=end-of-candidates',
  '',
].join('\r\n');

describe('announceAddress()', () => {
  it('puts the announced IPv4 address in host candidates and c=, dropping duplicates', () => {
    const out = announceAddress(SDP, '203.0.113.5');
    expect(out).toContain('c=IN IP4 203.0.113.5');
    expect(out).toContain('a=candidate:1 1 UDP 2122317823 203.0.113.5 50000 typ host');
    // Two interfaces on the same port collapse into one candidate.
    expect(out).not.toContain('a=candidate:2 ');
    expect(out).not.toMatch(/172\.17\.0\.2 50000 typ host|10\.0\.0\.7/);
    // Other families and non-host candidates stay as they are.
    expect(out).toContain('a=candidate:3 1 UDP 2122317311 fd00::2 50002 typ host');
    expect(out).toContain('typ srflx raddr 172.17.0.2 rport 50000');
    expect(out.endsWith('\r\n')).toBe(true);
  });

  it('leaves the 0.0.0.0 placeholder of a trickle offer alone', () => {
    const out = announceAddress(SDP.replace('c=IN IP4 172.17.0.2', 'c=IN IP4 0.0.0.0'), '203.0.113.5');
    expect(out).toContain('c=IN IP4 0.0.0.0');
  });
});
