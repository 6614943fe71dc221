/**
 * Real-shaped SIP messages (RFC 3261 section 7) for the SIP fuzz properties: what phones,
 * trunks and proxies send, with the forms the grammar allows and parsers get wrong (compact
 * names, folding, quoted commas, IPv6, several Via values, UTF-8 bodies). Content-Length is
 * always right, so the unmutated samples frame exactly.
 */

function message(startLine: string, headers: readonly string[], body = '', lengthName = 'Content-Length'): string {
  return [startLine, ...headers, `${lengthName}: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
}

const PHONE_SDP = [
  'v=0',
  'o=baresip 2131342312 2131342312 IN IP4 192.0.2.44',
  's=-',
  'c=IN IP4 192.0.2.44',
  't=0 0',
  'm=audio 10234 RTP/AVP 9 0 8 101',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=sendrecv',
  '',
].join('\r\n');

export const SIP_SAMPLES: readonly string[] = [
  message('INVITE sip:+15551234@gw.example.com SIP/2.0', [
    'Via: SIP/2.0/TCP 192.0.2.44:5060;branch=z9hG4bK776asdhds;rport',
    'Max-Forwards: 70',
    'To: <sip:+15551234@gw.example.com>',
    'From: "Alice Smith" <sip:alice@example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.example.com',
    'CSeq: 314159 INVITE',
    'Contact: <sip:alice@192.0.2.44:5060;transport=tcp>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"',
    'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY',
    'Supported: timer, replaces, 100rel',
    'Session-Expires: 1800;refresher=uac',
    'Content-Type: application/sdp',
  ], PHONE_SDP),
  message('SIP/2.0 200 OK', [
    'Via: SIP/2.0/TCP proxy.example.net;branch=z9hG4bK4b43c2ff8.1;received=198.51.100.3',
    'Via: SIP/2.0/TCP 192.0.2.44:5060;branch=z9hG4bK776asdhds;rport=5060;received=192.0.2.44',
    'Record-Route: <sip:proxy.example.net;lr>, <sip:edge.example.net;lr;transport=tcp>',
    'To: <sip:+15551234@gw.example.com>;tag=a6c85cf',
    'From: "Alice Smith" <sip:alice@example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.example.com',
    'CSeq: 314159 INVITE',
    'Contact: <sip:gw@203.0.113.9:5060;transport=tcp>',
    'Content-Type: application/sdp',
  ], PHONE_SDP),
  message('REGISTER sip:registrar.example.com SIP/2.0', [
    'Via: SIP/2.0/TLS [2001:db8::9]:5061;branch=z9hG4bKnashds7;alias',
    'Max-Forwards: 70',
    'To: Bob <sips:bob@example.com>',
    'From: Bob <sips:bob@example.com>;tag=456248',
    'Call-ID: 843817637684230@998sdasdh09',
    'CSeq: 1826 REGISTER',
    'Contact: <sips:bob@[2001:db8::9]:5061>;expires=7200, <mailto:bob@example.com>;q=0.1',
    'Authorization: Digest username="bob", realm="example.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", uri="sips:registrar.example.com", response="dfe56131d1958046689d83306477ecc", algorithm=MD5, qop=auth, nc=00000001, cnonce="0a4f113b"',
  ]),
  // RFC 4475 section 3.1.1.1 style: folding, odd spacing, compact names, mixed-case names.
  message('OPTIONS sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0', [
    'TO :',
    ' sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n',
    'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>',
    '  ;',
    '  tag = 98asjd8',
    'MaX-fOrWaRdS: 0068',
    'Call-ID: wsinv.ndaksdj@192.0.2.1',
    'cseq: 0009',
    '  OPTIONS',
    'Via  : SIP  /   2.0',
    ' /UDP',
    '    192.0.2.2;branch=390skdjuw',
    's :',
    'NewFangledHeader:   newfangled value',
    ' continued newfangled value',
    'UnknownHeaderWithUnusualValue: ;;,,;;,;',
    'v:  SIP  / 2.0  / TCP     spindle.example.com   ;',
    '  branch  =   z9hG4bK9ikj8  ,',
    ' SIP  /    2.0   / UDP  192.168.255.111   ; branch=',
    ' z9hG4bK30239',
    'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =',
    '      newvalue ;',
    '  secondparam ; q = 0.33',
  ], '', 'l'),
  message('MESSAGE sip:carol@chicago.example.com SIP/2.0', [
    'v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-msg-1;rport',
    'Max-Forwards: 70',
    't: <sip:carol@chicago.example.com>',
    'f: "Zoë, the \\"one\\"" <sip:zoe@example.com>;tag=f-9',
    'i: msg-1@192.0.2.1',
    'CSeq: 2 MESSAGE',
    'c: text/plain;charset=utf-8',
  ], 'héllo wörld, ça va ? ✓'),
  message('BYE sip:gw@203.0.113.9:5060;transport=tcp SIP/2.0', [
    'Via: SIP/2.0/TCP 192.0.2.44:5060;branch=z9hG4bK-bye-2, SIP/2.0/TCP [::1]:5062;branch=z9hG4bK-inner',
    'Max-Forwards: 69',
    'Route: <sip:proxy.example.net;lr>',
    'To: <sip:+15551234@gw.example.com>;tag=a6c85cf',
    'From: "Alice Smith" <sip:alice@example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.example.com',
    'CSeq: 314160 BYE',
  ]),
  message('SIP/2.0 180 Ringing', [
    'Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK-opt-1;rport=5062;received=198.51.100.7',
    'To: <sip:gateway@192.0.2.10>;tag=to-9',
    'From: "Probe" <sip:probe@198.51.100.7>;tag=from-1',
    'Call-ID: opt-1@198.51.100.7',
    'CSeq: 7 INVITE',
    'Contact: *',
  ]),
  message('NOTIFY sip:alice@192.0.2.44:5060;transport=tcp SIP/2.0', [
    'Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK-ws-1',
    'Max-Forwards: 70',
    'To: <sip:alice@example.com>;tag=1928301774',
    'From: <sip:bob@example.com>;tag=n-1',
    'Call-ID: refer-1@example.com',
    'CSeq: 3 NOTIFY',
    'o: refer;id=93809824',
    'Subscription-State: active;expires=60',
    'Content-Type: message/sipfrag;version=2.0',
  ], 'SIP/2.0 100 Trying\r\n'),
];

/** Tokens SIP parsers split on or look for; mutations insert them. */
export const SIP_DICTIONARY: readonly string[] = [
  '\r\n', '\n', '\r', '\r\n\r\n', '\r\n ', '\r\n\t', ' ', '\t', ':', ';', ',', '"', '\\', '\\"', '<', '>', '[', ']', '@', '=', '/', '*',
  'Content-Length: ', 'l: ', 'content-length:', 'Via: SIP/2.0/UDP ', 'v: SIP/2.0/TCP ', ';branch=z9hG4bK', ';rport', ';received=',
  'CSeq: 1 INVITE', 'Call-ID: ', 'To: <sip:a@b>;tag=', 'From: ', 'Route: <sip:x;lr>', 'Contact: ', 'sip:', 'sips:', 'tel:',
  'SIP/2.0', 'SIP/2.0 200 OK', 'INVITE ', '[::1]', '[2001:db8::1]:5060', ':5060', ':99999', '0', '4294967296', '999999999', '1000000000',
];
