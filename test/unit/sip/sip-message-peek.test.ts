import { Core } from 'sip.js';
import { describe, expect, it } from 'vitest';
import { missingMandatoryFields, peekSipMessage, type PeekedRequest } from '../../../adapters/sip/transport/sip-message-peek.js';
import { addReceivedRport, setTopViaSentBy, stripTopViaPort } from '../../../adapters/sip/transport/sip-via-rewrite.js';
import { parseSipUri, targetOfUri } from '../../../adapters/sip/transport/sip-uri-target.js';

const crlf = (lines: string[]): string => lines.join('\r\n');

const OPTIONS = crlf([
  'OPTIONS sip:gateway@192.0.2.10:5070 SIP/2.0',
  'Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK-opt-1;rport',
  'Max-Forwards: 70',
  'To: <sip:gateway@192.0.2.10>',
  'From: "Probe" <sip:probe@198.51.100.7>;tag=from-1',
  'Call-ID: opt-1@198.51.100.7',
  'CSeq: 7 OPTIONS',
  'Route: <sip:edge.example.net;lr>, <sip:core.example.net;lr>',
  'Content-Length: 0',
  '',
  '',
]);

function request(message: string): PeekedRequest {
  const peeked = peekSipMessage(message);
  if (peeked?.kind !== 'request') throw new Error(`not a request: ${message.slice(0, 40)}`);
  return peeked;
}

describe('peekSipMessage', () => {
  it('reads the routing facts of a plain request', () => {
    const peeked = request(OPTIONS);
    expect(peeked).toMatchObject({
      method: 'OPTIONS',
      requestUri: 'sip:gateway@192.0.2.10:5070',
      callId: 'opt-1@198.51.100.7',
      cseq: { sequence: 7, method: 'OPTIONS' },
      firstRoute: 'sip:edge.example.net;lr',
      contentLength: 0,
      fromTag: 'from-1',
      toTag: undefined,
      viaCount: 1,
    });
    expect(peeked.topVia).toEqual({
      protocol: 'UDP',
      host: '198.51.100.7',
      port: 5062,
      branch: 'z9hG4bK-opt-1',
      received: undefined,
      hasRport: true,
      rport: undefined,
    });
    expect(missingMandatoryFields(peeked)).toEqual([]);
  });

  it('reads a response status line and the To tag', () => {
    const peeked = peekSipMessage(
      crlf([
        'SIP/2.0 180 Ringing',
        'v: SIP/2.0/TCP 192.0.2.10:5070;branch=z9hG4bK-inv;received=203.0.113.4;rport=40112',
        't: <sip:alice@example.com>;tag=to-9',
        'f: <sip:bob@example.com>;tag=from-9',
        'i: call-9',
        'CSeq: 1 INVITE',
        'l: 0',
        '',
        '',
      ]),
    );
    expect(peeked).toMatchObject({ kind: 'response', status: 180, reason: 'Ringing', toTag: 'to-9', fromTag: 'from-9', callId: 'call-9', contentLength: 0 });
    expect(peeked?.topVia).toMatchObject({ protocol: 'TCP', received: '203.0.113.4', hasRport: true, rport: 40112 });
  });

  it('undoes folding, odd whitespace and header-name case, in the style of RFC 4475 wsinv', () => {
    const message = crlf([
      'INVITE sip:carol@chair.example.org;unknownparam SIP/2.0',
      'tO  :',
      ' sip:carol@chair.example.org ;   tag    = 77a1b2',
      'fROM   : "Quote \\"me\\" <not-a-uri>"   <sip:dave@example.org>',
      '  ;',
      '  tag = 3x9c',
      'MaX-fOrWaRdS: 0068',
      'cALL-iD: ws.folded@192.0.2.1',
      'Content-Length   : 5',
      'cseq: 0009',
      '  INVITE',
      'Via  : SIP  /   2.0',
      ' /UDP',
      '    192.0.2.2 : 5070 ;branch=z9hG4bKfold ;  rport',
      's :',
      'NewFangledHeader:   first part',
      ' and a continuation',
      'UnknownHeaderWithUnusualValue: ;;,,;;,;',
      'Route:',
      ' <sip:services.example.org;lr;unknownwith=value;unknown-no-value>',
      'v:  SIP  / 2.0  / TCP     spindle.example.org   ;',
      '  branch  =   z9hG4bK9ikj8  ,',
      ' SIP  /    2.0   / UDP  192.168.255.111   ; branch=',
      ' z9hG4bK30239',
      'm:"Quoted, with comma" <sip:dave@example.org> ; newparam =',
      '      newvalue ;',
      '  secondparam ; q = 0.33',
      '',
      'hello',
    ]);
    const peeked = request(message);
    expect(peeked.requestUri).toBe('sip:carol@chair.example.org;unknownparam');
    expect(peeked.toTag).toBe('77a1b2');
    expect(peeked.fromTag).toBe('3x9c');
    expect(peeked.callId).toBe('ws.folded@192.0.2.1');
    expect(peeked.cseq).toEqual({ sequence: 9, method: 'INVITE' });
    expect(peeked.contentLength).toBe(5);
    expect(peeked.topVia).toMatchObject({ protocol: 'UDP', host: '192.0.2.2', port: 5070, branch: 'z9hG4bKfold', hasRport: true });
    expect(peeked.viaCount).toBe(3);
    expect(peeked.firstRoute).toBe('sip:services.example.org;lr;unknownwith=value;unknown-no-value');
    expect(peeked.contactUri).toBe('sip:dave@example.org');
  });

  it('counts several Via values in one field and several Via fields', () => {
    const peeked = peekSipMessage(
      crlf([
        'SIP/2.0 200 OK',
        'Via: SIP/2.0/UDP [2001:db8::10]:5060;branch=z9hG4bK-a;received=2001:db8::99, SIP/2.0/TLS proxy.example.com;branch=z9hG4bK-b',
        'Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK-c',
        'Call-ID: multi',
        'CSeq: 2 REGISTER',
        '',
        '',
      ]),
    );
    expect(peeked?.viaCount).toBe(3);
    expect(peeked?.topVia).toMatchObject({ protocol: 'UDP', host: '2001:db8::10', port: 5060, branch: 'z9hG4bK-a', received: '2001:db8::99', hasRport: false });
  });

  it('keeps escaped and unusual Request-URIs as written', () => {
    const peeked = request(
      crlf([
        'INVITE sip:sips%3Auser%40example.com@example.net;maddr=192.0.2.5?Subject=hi%20there SIP/2.0',
        'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-esc',
        'To: sip:user@example.net',
        'From: sip:caller@example.net;tag=f',
        'Call-ID: esc',
        'CSeq: 1 INVITE',
        '',
        '',
      ]),
    );
    expect(peeked.requestUri).toBe('sip:sips%3Auser%40example.com@example.net;maddr=192.0.2.5?Subject=hi%20there');
    // addr-spec form: ;tag belongs to the header, not the URI (RFC 3261 section 20.10).
    expect(peeked.fromTag).toBe('f');
    expect(targetOfUri(peeked.requestUri)).toEqual({ protocol: 'UDP', host: '192.0.2.5', port: 5060, explicitPort: false });
  });

  it.each([
    ['empty', ''],
    ['binary noise', '\u0000\u0001\u0002garbage'],
    ['no version', 'INVITE sip:a@b\r\nVia: SIP/2.0/UDP h;branch=z\r\n\r\n'],
    ['wrong version', 'INVITE sip:a@b SIP/7.0\r\nVia: SIP/2.0/UDP h;branch=z\r\n\r\n'],
    ['header without colon', 'OPTIONS sip:a@b SIP/2.0\r\nVia SIP/2.0/UDP h\r\n\r\n'],
    ['continuation before any header', 'OPTIONS sip:a@b SIP/2.0\r\n folded\r\n\r\n'],
    ['bad status code', 'SIP/2.0 99 Too Low\r\n\r\n'],
    ['HTTP', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['request URI without scheme', 'OPTIONS gateway SIP/2.0\r\n\r\n'],
  ])('returns undefined for %s', (_name, message) => {
    expect(peekSipMessage(message)).toBeUndefined();
  });

  it('peeks a request with missing or malformed mandatory fields without crashing', () => {
    const peeked = request(crlf(['MESSAGE sip:a@example.com SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-m', 'CSeq: abc MESSAGE', 'Call-ID: has space', '', '']));
    expect(peeked.cseq).toBeUndefined();
    expect(peeked.callId).toBeUndefined();
    expect(missingMandatoryFields(peeked)).toEqual(['From', 'To', 'Call-ID', 'CSeq']);
    const mismatched = request(OPTIONS.replace('CSeq: 7 OPTIONS', 'CSeq: 7 INVITE'));
    expect(missingMandatoryFields(mismatched)).toEqual(['matching CSeq method']);
  });

  // Found by test/fuzz/sip.test.ts (seed -582932604): the hub read the first From, sip.js reads the last.
  it('refuses repeated From, To, Call-ID and CSeq fields, which sip.js would read differently', () => {
    const twoFroms = crlf([
      'MESSAGE sip:carol@chicago.example.com SIP/2.0',
      'v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-msg-1;rport',
      'Max-Forwards: 70',
      't: <sip:carol@chicago.example.com>',
      'f  : "Zoë" <sip:ple.com>',
      'f  : "Zoë" <sip:zoe@example.com>;tag=f-9',
      'i: msg-1@192.0.2.1',
      'CSeq: 2 MESSAGE',
      'Content-Length: 0',
      '',
      '',
    ]);
    const peeked = request(twoFroms);
    expect(peeked.fromTag).toBeUndefined();
    expect(missingMandatoryFields(peeked)).toEqual(['From']);
    const repeated = (line: string, copy: string) => request(OPTIONS.replace(line, `${line}\r\n${copy}`));
    expect(missingMandatoryFields(repeated('To: <sip:gateway@192.0.2.10>', 'To: <sip:other@192.0.2.10>;tag=x'))).toEqual(['To']);
    expect(missingMandatoryFields(repeated('Call-ID: opt-1@198.51.100.7', 'i: other@198.51.100.7'))).toEqual(['Call-ID']);
    expect(missingMandatoryFields(repeated('CSeq: 7 OPTIONS', 'CSeq: 8 OPTIONS'))).toEqual(['CSeq']);
  });

  // Found by test/fuzz/sip.test.ts (seeds -79824018, -405150365): the hub read the first tag or
  // branch, sip.js the last.
  it('refuses a From or To with two tags, and a Via with a parameter named twice', () => {
    expect(missingMandatoryFields(request(OPTIONS.replace(';tag=from-1', ';tag=1;tag=from-1')))).toEqual(['From']);
    expect(missingMandatoryFields(request(OPTIONS.replace('To: <sip:gateway@192.0.2.10>', 'To: <sip:gateway@192.0.2.10>;tag=a;TAG=b')))).toEqual(['To']);
    const twoBranches = request(OPTIONS.replace(';branch=z9hG4bK-opt-1;', ';branch=z9hG45062;branch=z9hG4bK-opt-1;'));
    expect(twoBranches.topVia).toBeUndefined();
    expect(missingMandatoryFields(twoBranches)).toEqual(['Via']);
  });

  // Found by test/fuzz/sip.test.ts (seed 348590717): a bare LF ended the headers here, while the
  // stream framer and sip.js split only at CRLF and read on.
  it('refuses a CRLF message with a bare LF among its header lines, where sip.js reads other fields', () => {
    expect(peekSipMessage(OPTIONS.replace('Max-Forwards: 70\r\n', 'Max-Forwards: 70\n\r\n'))).toBeUndefined();
    // The hub would have routed by Call-ID "hidden", sip.js by "opt-1@198.51.100.7".
    const hidden = OPTIONS.replace('Max-Forwards: 70\r\n', 'Subject: x\nCall-ID: hidden\n\r\n');
    expect(peekSipMessage(hidden)).toBeUndefined();
    expect(peekSipMessage(OPTIONS.replace(/\r\n/g, '\n').replace('Max-Forwards: 70\n', 'Max-Forwards: 70\r\n'))).toBeUndefined();
  });

  it('tolerates bare LF line endings and CRLFs before the start line', () => {
    const peeked = request(`\r\n\r\n${OPTIONS.replace(/\r\n/g, '\n')}`);
    expect(peeked.method).toBe('OPTIONS');
    expect(peeked.topVia?.branch).toBe('z9hG4bK-opt-1');
  });
});

describe('Via rewriters', () => {
  it('setTopViaSentBy replaces transport, host and port of the top value only', () => {
    const sipJs = crlf([
      'MESSAGE sip:bob@192.0.2.9 SIP/2.0',
      'Via: SIP/2.0/UDP abc123.invalid;branch=z9hG4bK111;rport',
      'Via: SIP/2.0/TCP other.example.com;branch=z9hG4bK000',
      'Content-Length: 2',
      '',
      'hi',
    ]);
    const rewritten = setTopViaSentBy(sipJs, { protocol: 'tcp', host: '192.0.2.1', port: 5070 });
    expect(rewritten).toBe(sipJs.replace('SIP/2.0/UDP abc123.invalid;branch', 'SIP/2.0/TCP 192.0.2.1:5070;branch'));
    expect(setTopViaSentBy(sipJs, { protocol: 'UDP', host: '2001:db8::1', port: undefined })).toContain('Via: SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK111;rport\r\n');
  });

  it('after the hub stamps a request, sip.js reads the same top Via branch as the hub keys its transaction by', () => {
    const request = crlf(['OPTIONS sip:gw@192.0.2.1 SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKtop, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKinner', 'From: <sip:a@b>;tag=1', 'To: <sip:gw@192.0.2.1>', 'Call-ID: c', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', '']);
    const stamped = addReceivedRport(request, '192.0.2.7', 5060)!;
    const silent = { debug: () => {}, log: () => {}, warn: () => {}, error: () => {} } as unknown as Core.Logger;
    expect(Core.Parser.parseMessage(stamped, silent)?.viaBranch).toBe('z9hG4bKtop');
    expect(peekSipMessage(stamped)?.topVia?.branch).toBe('z9hG4bKtop');
  });

  // The top value gets a field of its own: sip.js reads `Via: a, b` as b (found by test/fuzz/sip.test.ts).
  it('setTopViaSentBy rewrites a folded, compact, multi-value Via field, the top value in a field of its own', () => {
    const message = crlf(['SIP/2.0 200 OK', 'v: SIP / 2.0 / UDP', '  192.0.2.1:5070 ; branch = z9hG4bKx, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKy', 'CSeq: 1 OPTIONS', '', '']);
    expect(setTopViaSentBy(message, { protocol: 'UDP', host: 'abc.invalid' })).toBe(
      crlf(['SIP/2.0 200 OK', 'v: SIP/2.0/UDP abc.invalid;branch=z9hG4bKx', 'v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKy', 'CSeq: 1 OPTIONS', '', '']),
    );
  });

  // Found by test/fuzz/sip.test.ts (seed 894779210): `;<branch=...` kept the added `;received=` inside its value.
  it('refuses a Via whose parameters are not token [= token / host / quoted-string]', () => {
    const notify = crlf(['NOTIFY sip:alice@192.0.2.44 SIP/2.0', 'Via: SIP/2.0/WSS df7jal23ls0d.invalid;<branch=z9hG4bK-ws-1', 'Call-ID: c', '', '']);
    expect(peekSipMessage(notify)?.topVia).toBeUndefined();
    expect(addReceivedRport(notify, '192.0.2.99', 5099)).toBeUndefined();
    const fine = crlf(['NOTIFY sip:alice@192.0.2.44 SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1;received=[2001:db8::1];x="a;<b>"', 'Call-ID: c', '', '']);
    expect(peekSipMessage(fine)?.topVia).toMatchObject({ branch: 'z9hG4bK1', received: '[2001:db8::1]' });
  });

  it('stripTopViaPort removes only the port', () => {
    const response = crlf(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1;received=192.0.2.1', 'Call-ID: a', '', '']);
    expect(stripTopViaPort(response)).toContain('Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;received=192.0.2.1\r\n');
  });

  it.each([
    ['no received when sent-by is the source and no rport', 'SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1', 'SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1'],
    ['received when sent-by is another address', 'SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bK1', 'SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bK1;received=192.0.2.7'],
    ['received when sent-by is a name', 'SIP/2.0/WS abc.invalid;branch=z9hG4bK1', 'SIP/2.0/WS abc.invalid;branch=z9hG4bK1;received=192.0.2.7'],
    ['rport filled, received added even when equal (RFC 3581 4)', 'SIP/2.0/UDP 192.0.2.7:5060;rport;branch=z9hG4bK1', 'SIP/2.0/UDP 192.0.2.7:5060;rport=40000;branch=z9hG4bK1;received=192.0.2.7'],
    ['an rport value the client wrote is replaced by the source port', 'SIP/2.0/UDP 10.1.1.1;rport=1234;branch=z9hG4bK1', 'SIP/2.0/UDP 10.1.1.1;rport=40000;branch=z9hG4bK1;received=192.0.2.7'],
    ['a received the client wrote is replaced by the source, even when sent-by is the source', 'SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1;received=198.51.100.1', 'SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1;received=192.0.2.7'],
  ])('addReceivedRport: %s', (_name, via, expected) => {
    const message = crlf(['OPTIONS sip:a@b SIP/2.0', `Via: ${via}`, 'Via: SIP/2.0/UDP 10.9.9.9;branch=z9hG4bK0', 'Call-ID: x', '', '']);
    const stamped = addReceivedRport(message, '::ffff:192.0.2.7', 40000);
    expect(stamped).toBe(message.replace(`Via: ${via}`, `Via: ${expected}`));
  });

  it('returns undefined when there is no usable top Via', () => {
    expect(setTopViaSentBy('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n', { protocol: 'UDP', host: 'h' })).toBeUndefined();
    expect(stripTopViaPort('OPTIONS sip:a@b SIP/2.0\r\nVia: HTTP/1.1 h\r\n\r\n')).toBeUndefined();
  });
});

describe('request targets', () => {
  it.each([
    ['sip:bob@192.0.2.4', { protocol: 'UDP', host: '192.0.2.4', port: 5060, explicitPort: false }],
    ['sip:bob@192.0.2.4:5080;transport=TCP', { protocol: 'TCP', host: '192.0.2.4', port: 5080, explicitPort: true }],
    ['sips:bob@example.com', { protocol: 'TLS', host: 'example.com', port: 5061, explicitPort: false }],
    ['sip:edge.example.net;lr;transport=tls', { protocol: 'TLS', host: 'edge.example.net', port: 5061, explicitPort: false }],
    ['sip:x@[2001:db8::5]:5062', { protocol: 'UDP', host: '2001:db8::5', port: 5062, explicitPort: true }],
    ['sip:h8s2.invalid;transport=ws', { protocol: 'WS', host: 'h8s2.invalid', port: 80, explicitPort: false }],
    ['sip:alice;day=tuesday@example.com:5070', { protocol: 'UDP', host: 'example.com', port: 5070, explicitPort: true }],
  ])('%s', (uri, target) => {
    expect(targetOfUri(uri)).toEqual(target);
  });

  it('refuses what it cannot reach', () => {
    expect(targetOfUri('tel:+15551234')).toBeUndefined();
    expect(targetOfUri('sip:bob@example.com;transport=sctp')).toBeUndefined();
    expect(targetOfUri('sip:bob@exa mple.com')).toBeUndefined();
    expect(parseSipUri('sip:bob@example.com:99999')).toBeUndefined();
  });
});
