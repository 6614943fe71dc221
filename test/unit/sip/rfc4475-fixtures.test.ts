import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeRfc4475, fromLoopbackClient, RFC4475_DIR, rfc4475Message } from '../../support/sip/rfc4475.js';

// The RFC 4475 messages in test/sip/rfc4475/ and the notation they are kept in.

/** The 49 messages of RFC 4475 section 3, by the names the RFC gives them. */
const RFC_NAMES = [
  ...['wsinv', 'intmeth', 'esc01', 'escnull', 'esc02', 'lwsdisp', 'longreq', 'dblreq', 'semiuri', 'transports', 'mpart01', 'unreason', 'noreason'],
  ...['badinv01', 'clerr', 'ncl', 'scalar02', 'scalarlg', 'quotbal', 'ltgtruri', 'lwsruri', 'lwsstart', 'trws', 'escruri', 'baddate', 'regbadct'],
  ...['badaspec', 'baddn', 'badvers', 'mismatch01', 'mismatch02', 'bigcode', 'badbranch', 'insuf', 'unkscm', 'novelsc', 'unksm2', 'bext01', 'invut'],
  ...['regaut01', 'multi01', 'mcl01', 'bcast', 'zeromf', 'cparam01', 'cparam02', 'regescrt', 'sdp01', 'inv2543'],
];

/** Messages whose discussion is about a Content-Length that does not fit the body (or its absence). */
const LENGTH_TORTURES = ['clerr', 'ncl', 'mcl01', 'dblreq', 'inv2543'];

describe('RFC 4475 notation (section 2)', () => {
  it('turns line breaks into CRLF, joins <allOneLine> blocks and expands <hex>', () => {
    const decoded = decodeRfc4475('A: <hex>00 7F\nE2</hex>x\n<allOneLine>\nlong\nline\n</allOneLine>\n');
    expect(decoded).toEqual(Buffer.concat([Buffer.from('A: '), Buffer.from([0x00, 0x7f, 0xe2]), Buffer.from('x\r\nlongline\r\n')]));
  });
});

describe('the RFC 4475 fixtures', () => {
  it('hold every message of the RFC, and nothing else', () => {
    expect(readdirSync(RFC4475_DIR).filter((file) => file.endsWith('.txt')).map((file) => file.slice(0, -4)).sort()).toEqual([...RFC_NAMES].sort());
  });

  it.each(RFC_NAMES.filter((name) => !LENGTH_TORTURES.includes(name)))('%s: Content-Length counts exactly the body', (name) => {
    const message = rfc4475Message(name);
    const headerEnd = message.indexOf('\r\n\r\n');
    const length = /^(?:content-length|l)\s*:\s*(\d+)/im.exec(message.subarray(0, headerEnd).toString('latin1'))?.[1];
    expect(Number(length)).toBe(message.length - headerEnd - 4);
  });

  it('keep control characters, UTF-8, trailing spaces and binary bytes exact', () => {
    expect(rfc4475Message('intmeth').includes(Buffer.from('BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f', 'latin1'))).toBe(true);
    expect(rfc4475Message('trws').toString('latin1')).toMatch(/^OPTIONS sip:remote-target@example\.com SIP\/2\.0 {2}\r\n/);
    expect(rfc4475Message('noreason').toString('latin1')).toMatch(/^SIP\/2\.0 100 \r\n/);
    expect(rfc4475Message('unreason').toString('utf8')).toContain('но сто девяносто девять - простое');
  });

  it('are adapted to a loopback client in the top Via only, folding and all', () => {
    const wsinv = fromLoopbackClient(rfc4475Message('wsinv'), { transport: 'TCP', port: 5555 }).toString('latin1');
    expect(wsinv).toContain('Via  : SIP  /   2.0\r\n /TCP\r\n    127.0.0.1:5555;branch=390skdjuw\r\n');
    expect(wsinv).toContain(' SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239');
    const badinv01 = fromLoopbackClient(rfc4475Message('badinv01'), { transport: 'UDP', port: 5555 }).toString('latin1');
    expect(badinv01).toContain('\r\nVia: SIP/2.0/UDP 127.0.0.1:5555;;,;,,\r\n');
  });
});
