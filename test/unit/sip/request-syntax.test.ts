import { describe, expect, it } from 'vitest';
import { requestLineProblem } from '../../../adapters/sip/transport/request-line.js';
import { requestSyntaxProblem } from '../../../adapters/sip/transport/request-syntax.js';
import { peekSipMessage } from '../../../adapters/sip/transport/sip-message-peek.js';

/** An OPTIONS whose header fields can be replaced or added one by one. */
function options(fields: Record<string, string | string[]> = {}, body = ''): string {
  const base: Record<string, string | string[]> = {
    Via: 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-syntax;rport',
    'Max-Forwards': '70',
    From: '"Alice" <sip:alice@example.com>;tag=a1',
    To: '<sip:bob@example.com>',
    'Call-ID': 'syntax-1@192.0.2.1',
    CSeq: '1 OPTIONS',
    Contact: '<sip:alice@192.0.2.1:5060;transport=udp>;expires=60',
    'Content-Length': String(Buffer.byteLength(body)),
    ...fields,
  };
  const lines = Object.entries(base).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${name}: ${v}`));
  return ['OPTIONS sip:bob@example.com SIP/2.0', ...lines, '', body].join('\r\n');
}

const problem = (message: string) => requestSyntaxProblem(message, 'sip:bob@example.com');

describe('requestLineProblem (RFC 3261 section 7.1)', () => {
  it.each([
    ['INVITE sip:user@example.com SIP/7.0', 505, /SIP\/7\.0 is not supported/],
    ['OPTIONS sip:a@b SIP/2.0  ', 400, /whitespace after the SIP-Version/],
    ['INVITE  sip:user@example.com  SIP/2.0', 400, /exactly one SP/],
    ['INVITE sip:user@example.com; lr SIP/2.0', 400, /whitespace inside the Request-URI/],
    ['INVITE <sip:user@example.com> SIP/2.0', 400, /enclosed in <>/],
    ['INVITE user@example.com SIP/2.0', 400, /not an absolute URI/],
  ])('%s -> %i', (line, status, warning) => {
    const found = requestLineProblem(line);
    expect(found?.status).toBe(status);
    expect(found?.warning).toMatch(warning);
  });

  it('leaves alone what is not a SIP request at all', () => {
    for (const line of ['GET / HTTP/1.1', 'SIP/2.0 200 OK', 'hello', '', 'INVITE sip:a@b']) expect(requestLineProblem(line)).toBeUndefined();
  });

  it('peekSipMessage takes only the exact form', () => {
    expect(peekSipMessage('OPTIONS  sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n\r\n')).toBeUndefined();
    expect(peekSipMessage('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n\r\n')?.kind).toBe('request');
  });
});

describe('requestSyntaxProblem', () => {
  it.each([
    ['the plain request', {}],
    ['a display name of tokens, and none before <', { From: 'Alice Smith <sip:alice@example.com>;tag=a1', To: 'bob<sip:bob@example.com>' }],
    ['an addr-spec with header parameters', { To: 'sip:bob@example.com ; tag = b1', From: 'sip:alice@example.com;tag=a1;x-flag' }],
    ['quoted display names with escapes and UTF-8', { From: '"J Rosenberg \\\\\\"" <sip:j@example.com>;tag=1', To: '"Jürgen \\"J\\"" <sip:j@example.com>' }],
    ['quoted and IPv6 parameter values', { Contact: '<sip:a@[2001:db8::1]>;+sip.instance="<urn:uuid:1>";q=0.5', Via: 'SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;received=2001:db8::2' }],
    ['Contact *', { Contact: '*' }],
    ['several Contact values and Via fields', { Contact: '<sip:a@h1>, "B" <sip:b@h2>;q=0.1', Via: ['SIP/2.0/TCP h1;branch=z9hG4bK1', 'SIP/2.0/UDP h2, SIP/2.0/UDP h3;branch=z9hG4bK3'] }],
    ['other URI schemes in From, To, Contact', { To: 'isbn:2983792873', From: '<http://www.example.com>;tag=3234233', Contact: '<name:John_Smith>' }],
    ['Max-Forwards over 255', { 'Max-Forwards': '300' }],
  ])('takes %s', (_what, fields) => {
    expect(problem(options(fields))).toBeUndefined();
  });

  it.each([
    ['a repeated single-valued field', { 'Call-ID': ['a@h', 'b@h'] }, /appear more than once: Call-ID/],
    ['conflicting Content-Length values', { 'Content-Length': ['13', '5'] }, /Content-Length/],
    ['a negative Content-Length', { 'Content-Length': '-999' }, /Content-Length "-999"/],
    ['a Content-Length beyond the body', { 'Content-Length': '10' }, /larger than the 0 octets/],
    ['empty Via values and parameters', { Via: 'SIP/2.0/UDP 192.0.2.15;;,;,,' }, /Malformed Via/],
    ['a Via of another version', { Via: 'SIP/3.0/UDP 192.0.2.15;branch=z9hG4bK1' }, /Malformed Via/],
    ['an unterminated quoted string', { To: '"Mr. J. User <sip:j.user@example.com>' }, /Malformed To: unterminated/],
    ['an unquoted display name with a comma', { From: 'Bell, Alexander <sip:a.g.bell@example.com>;tag=43' }, /Malformed From: display name/],
    ['spaces inside <>', { To: '"Watson, Thomas" < sip:t.watson@example.org >' }, /Malformed To: whitespace inside/],
    ['a Contact URI with "?" outside <>', { Contact: 'sip:user@example.com?Route=%3Csip:sip.example.com%3E' }, /Malformed Contact: a URI with "\?"/],
    ['empty Contact parameters', { Contact: '"Joe" <sip:joe@example.org>;;;;' }, /Malformed Contact: an empty parameter/],
    ['a parameter value that is no token', { From: '<sip:a@h>;tag=a b' }, /parameter value "a b"/],
    ['no URI at all', { To: '"Bob"' }, /Malformed To/],
    ['a non-numeric Max-Forwards', { 'Max-Forwards': 'seventy' }, /Max-Forwards "seventy"/],
  ])('refuses %s', (_what, fields, warning) => {
    expect(problem(options(fields))?.warning).toMatch(warning);
  });

  it('marks length problems as framing problems (the stream cannot go on) and others not', () => {
    expect(problem(options({ 'Content-Length': ['13', '5'] }))?.framing).toBe(true);
    expect(problem(options({ 'Content-Length': 'five' }))?.framing).toBe(true);
    expect(problem(options({ To: '"unterminated <sip:a@b>' }))?.framing).toBe(false);
  });

  it('refuses header fields in a SIP Request-URI, but not a "?" in its user part', () => {
    expect(requestSyntaxProblem(options(), 'sip:user@example.com?Route=%3Csip:example.com%3E')?.warning).toMatch(/header fields/);
    expect(requestSyntaxProblem(options(), "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1@example.com")).toBeUndefined();
  });
});
