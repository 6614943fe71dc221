import { Core } from 'sip.js';
import { describe, expect, it } from 'vitest';
import { formatSource, parseSource, SOURCE_HEADER, sourceOfMessage, stampSource } from '../../../adapters/sip/transport/sip-source-stamp.js';
import { sourceKey } from '../../../adapters/sip/transport/source-key.js';

const REAL = { protocol: 'UDP', address: '192.0.2.7', port: 5070 } as const;
const logger = { error: () => {}, warn: () => {}, log: () => {}, debug: () => {} } as unknown as Parameters<typeof Core.Parser.parseMessage>[1];

function request(extra: string[], separator = '\r\n'): string {
  return [
    'INVITE sip:alice@198.51.100.1 SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK1',
    ...extra,
    'From: <sip:x@192.0.2.7>;tag=1',
    'To: <sip:alice@198.51.100.1>',
    'Call-ID: stamp-1',
    'CSeq: 1 INVITE',
    'Content-Length: 0',
    '',
    '',
  ].join(separator);
}

/** What sip.js itself reads from the stamped message. */
function sipJsView(message: string): { first: string | undefined; all: string[] } {
  const parsed = Core.Parser.parseMessage(message, logger);
  if (!parsed) throw new Error('sip.js could not parse the stamped message');
  return { first: parsed.getHeader(SOURCE_HEADER), all: parsed.getHeaders(SOURCE_HEADER) };
}

describe('the hub\'s source stamp', () => {
  it('formats and parses IPv4 and IPv6 sources, and nothing else', () => {
    expect(formatSource(REAL)).toBe('UDP 192.0.2.7:5070');
    expect(formatSource({ protocol: 'WSS', address: '2001:db8::1', port: 443 })).toBe('WSS [2001:db8::1]:443');
    expect(parseSource('TCP [2001:db8::1]:5060')).toEqual({ protocol: 'TCP', address: '2001:db8::1', port: 5060 });
    expect(parseSource('UDP 192.0.2.7:5070')).toEqual(REAL);
    for (const bad of [undefined, '', 'UDP 192.0.2.7', 'SCTP 192.0.2.7:5060', 'UDP host.example:5060', 'UDP 192.0.2.7:5060\r\n x', 'UDP 999.1.1.1:5060']) {
      expect(parseSource(bad)).toBeUndefined();
    }
  });

  it.each([
    ['a plain copy', ['X-Switchboard-Source: UDP 127.0.0.1:5060']],
    ['another spelling', ['x-SWITCHBOARD-source : UDP 127.0.0.1:5060']],
    ['a folded copy', ['X-Switchboard-Source:', '  UDP 127.0.0.1:5060']],
    ['the request-user header too', ['X-Switchboard-Request-User: admin']],
    ['several copies', ['X-Switchboard-Source: UDP 127.0.0.1:1', 'Subject: hi', 'X-Switchboard-Source: UDP 127.0.0.1:2']],
  ])('removes %s a peer wrote and puts the real source first', (_name, extra) => {
    const stamped = stampSource(request(extra), REAL)!;
    expect(stamped.split('\r\n')[1]).toBe('X-Switchboard-Source: UDP 192.0.2.7:5070');
    expect(stamped).not.toMatch(/127\.0\.0\.1|admin/);
    expect(sipJsView(stamped)).toEqual({ first: 'UDP 192.0.2.7:5070', all: ['UDP 192.0.2.7:5070'] });
    expect(sourceOfMessage(stamped)).toEqual(REAL);
  });

  it('finds fields the way sip.js does, where a line-by-line reader would see a body', () => {
    // "\n\r\n" is an empty line to a reader that accepts bare LF, but not to sip.js: the next
    // line is a header field for sip.js, so it must go.
    const sneaky = request(['Subject: hi\n', 'X-Switchboard-Source: UDP 127.0.0.1:5060']);
    const stamped = stampSource(sneaky, REAL)!;
    expect(sipJsView(stamped).all).toEqual(['UDP 192.0.2.7:5070']);
    expect(sourceOfMessage(stamped)).toEqual(REAL);
  });

  it('keeps every other byte, body included', () => {
    const body = 'v=0\r\nX-Switchboard-Source: not a header in a body\r\n';
    const message = request([]).replace('Content-Length: 0\r\n\r\n', `Content-Length: ${body.length}\r\n\r\n${body}`);
    const stamped = stampSource(message, REAL)!;
    expect(stamped.replace('X-Switchboard-Source: UDP 192.0.2.7:5070\r\n', '')).toBe(message);
    expect(sourceOfMessage(stamped)).toEqual(REAL);
  });

  it('gives up on a message without a CRLF after its start line', () => {
    expect(stampSource('OPTIONS sip:a@b SIP/2.0\nVia: x\n\n', REAL)).toBeUndefined();
  });
});

describe('sourceKey', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002::9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['64:ff9b::192.0.2.7', '64:ff9b:0:0::/64'],
  ])('%s counts as %s', (address, key) => {
    expect(sourceKey(address)).toBe(key);
  });
});
