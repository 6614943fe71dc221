import { describe, expect, it } from 'vitest';
import {
  MAGIC_COOKIE,
  StunAttr,
  StunDecodeError,
  StunMethod,
  decodeStunMessage,
  decodeXorMappedAddress,
  encodeErrorCode,
  encodeMappedAddress,
  encodeStunMessage,
  encodeXorMappedAddress,
  isStunMessage,
  type StunMessage,
} from '../../../src/ice/stun-message.js';

/**
 * Test vectors from RFC 5769. Before use, each was checked outside this code
 * base against its own FINGERPRINT and its MESSAGE-INTEGRITY (HMAC-SHA1 under
 * the RFC's password), so a mistyped byte cannot hide here.
 */
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** RFC 5769 section 2.1: sample request. */
const RFC5769_REQUEST = hex(`
  00010058 2112a442 b7e7a701 bc34d686 fa87dfae
  80220010 5354554e 20746573 7420636c 69656e74
  00240004 6e0001ff
  80290008 932ff9b1 51263b36
  00060009 6576746a 3a683676 59202020
  00080014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249 c1b571a2
  80280004 e57a3bcf`);

/** RFC 5769 section 2.2: sample IPv4 response, mapped address 192.0.2.1:32853. */
const RFC5769_IPV4_RESPONSE = hex(`
  0101003c 2112a442 b7e7a701 bc34d686 fa87dfae
  8022000b 74657374 20766563 746f7220
  00200008 0001a147 e112a643
  00080014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7
  80280004 c07d4c96`);

/** RFC 5769 section 2.3: sample IPv6 response, mapped address [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
const RFC5769_IPV6_RESPONSE = hex(`
  01010048 2112a442 b7e7a701 bc34d686 fa87dfae
  8022000b 74657374 20766563 746f7220
  00200014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9
  00080014 a382954e 4be67bf1 1784c97c 8292c275 bfe3ed41
  80280004 c8fb0b4c`);

const RFC5769_TRANSACTION_ID = hex('b7e7a701 bc34d686 fa87dfae');

function expectDecodeError(buf: Buffer, code: StunDecodeError['code']): void {
  let caught: unknown;
  try {
    decodeStunMessage(buf);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(StunDecodeError);
  expect((caught as StunDecodeError).code).toBe(code);
}

function attribute(msg: StunMessage, type: number): Buffer {
  const found = msg.attributes.find((a) => a.type === type);
  if (!found) throw new Error(`attribute 0x${type.toString(16)} missing`);
  return found.value;
}

describe('RFC 5769 known answers', () => {
  it('decodes the sample request', () => {
    expect(isStunMessage(RFC5769_REQUEST)).toBe(true);
    const msg = decodeStunMessage(RFC5769_REQUEST);
    expect(msg.method).toBe(StunMethod.binding);
    expect(msg.cls).toBe('request');
    expect(msg.transactionId.equals(RFC5769_TRANSACTION_ID)).toBe(true);
    expect(msg.attributes.map((a) => a.type)).toEqual([
      StunAttr.software,
      0x0024, // PRIORITY
      0x8029, // ICE-CONTROLLED
      StunAttr.username,
      StunAttr.messageIntegrity,
      StunAttr.fingerprint,
    ]);
    // The value excludes padding: 9 bytes, not the 12 on the wire.
    expect(attribute(msg, StunAttr.username).toString('utf8')).toBe('evtj:h6vY');
    expect(attribute(msg, StunAttr.software).toString('utf8')).toBe('STUN test client');
  });

  it('decodes the sample IPv4 response', () => {
    const msg = decodeStunMessage(RFC5769_IPV4_RESPONSE);
    expect(msg.cls).toBe('success');
    expect(msg.method).toBe(StunMethod.binding);
    expect(attribute(msg, StunAttr.software).toString('utf8')).toBe('test vector');
    expect(decodeXorMappedAddress(attribute(msg, StunAttr.xorMappedAddress), msg.transactionId)).toEqual({
      address: '192.0.2.1',
      port: 32853,
      family: 4,
    });
  });

  it('decodes the sample IPv6 response', () => {
    const msg = decodeStunMessage(RFC5769_IPV6_RESPONSE);
    expect(decodeXorMappedAddress(attribute(msg, StunAttr.xorMappedAddress), msg.transactionId)).toEqual({
      address: '2001:db8:1234:5678:11:2233:4455:6677',
      port: 32853,
      family: 6,
    });
  });

  it('re-encodes the sample response identically apart from padding bytes and the fingerprint', () => {
    const msg = decodeStunMessage(RFC5769_IPV4_RESPONSE);
    // Re-padding SOFTWARE uses zeros where the RFC used spaces, so compare
    // a message built from the decoded attributes against the RFC bytes with
    // the padding byte swapped and the CRC recomputed.
    const encoded = encodeStunMessage(msg, { fingerprint: true });
    expect(encoded.length).toBe(RFC5769_IPV4_RESPONSE.length);
    const expectedBody = Buffer.from(RFC5769_IPV4_RESPONSE.subarray(0, encoded.length - 8));
    expectedBody[20 + 4 + 11] = 0x00;
    expect(encoded.subarray(0, encoded.length - 8).equals(expectedBody)).toBe(true);
    expect(decodeStunMessage(encoded)).toEqual(
      expect.objectContaining({ method: msg.method, cls: msg.cls, transactionId: msg.transactionId }),
    );
  });

  it('encodes XOR-MAPPED-ADDRESS values exactly as the samples carry them', () => {
    expect(encodeXorMappedAddress('192.0.2.1', 32853, RFC5769_TRANSACTION_ID).equals(hex('0001a147 e112a643'))).toBe(
      true,
    );
    expect(
      encodeXorMappedAddress('2001:db8:1234:5678:11:2233:4455:6677', 32853, RFC5769_TRANSACTION_ID).equals(
        hex('0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9'),
      ),
    ).toBe(true);
  });
});

describe('encode/decode round trip', () => {
  const transactionId = hex('0102030405060708090a0b0c');

  it.each(['request', 'indication', 'success', 'error'] as const)('preserves class %s and odd-length values', (cls) => {
    const msg: StunMessage = {
      method: 0xabc,
      cls,
      transactionId,
      attributes: [
        { type: StunAttr.software, value: Buffer.from('abcde') },
        { type: 0x7fff, value: Buffer.alloc(0) },
        { type: StunAttr.username, value: Buffer.from('xyz') },
      ],
    };
    const encoded = encodeStunMessage(msg);
    expect(isStunMessage(encoded)).toBe(true);
    expect(encoded.length).toBe(20 + (4 + 8) + 4 + (4 + 4));
    // Padding is zero-filled.
    expect(encoded.subarray(24 + 5, 24 + 8).equals(Buffer.alloc(3))).toBe(true);
    expect(decodeStunMessage(encoded)).toEqual(msg);
  });

  it('puts the message type bits where RFC 5389 section 6 says', () => {
    const types = (['request', 'indication', 'success', 'error'] as const).map((cls) =>
      encodeStunMessage({ method: StunMethod.binding, cls, transactionId, attributes: [] }).readUInt16BE(0),
    );
    expect(types).toEqual([0x0001, 0x0011, 0x0101, 0x0111]);
    expect(encodeStunMessage({ method: StunMethod.binding, cls: 'request', transactionId, attributes: [] }).readUInt32BE(4)).toBe(
      MAGIC_COOKIE,
    );
  });

  it('appends FINGERPRINT last and replaces a stale one', () => {
    const stale = { type: StunAttr.fingerprint, value: hex('deadbeef') };
    const encoded = encodeStunMessage(
      { method: 1, cls: 'success', transactionId, attributes: [stale, { type: StunAttr.software, value: Buffer.from('x') }] },
      { fingerprint: true },
    );
    const decoded = decodeStunMessage(encoded);
    expect(decoded.attributes.map((a) => a.type)).toEqual([StunAttr.software, StunAttr.fingerprint]);
    expect(encoded.readUInt16BE(encoded.length - 8)).toBe(StunAttr.fingerprint);
  });

  it('ignores attributes after MESSAGE-INTEGRITY except FINGERPRINT (RFC 5389 section 15.4)', () => {
    const encoded = encodeStunMessage(
      {
        method: 1,
        cls: 'request',
        transactionId,
        attributes: [
          { type: StunAttr.messageIntegrity, value: Buffer.alloc(20) },
          { type: 0x0777, value: Buffer.from('late') },
        ],
      },
      { fingerprint: true },
    );
    expect(decodeStunMessage(encoded).attributes.map((a) => a.type)).toEqual([
      StunAttr.messageIntegrity,
      StunAttr.fingerprint,
    ]);
  });

  it('rejects a transaction id that is not 12 bytes', () => {
    expect(() =>
      encodeStunMessage({ method: 1, cls: 'request', transactionId: Buffer.alloc(16), attributes: [] }),
    ).toThrow(RangeError);
  });
});

describe('address attributes', () => {
  const transactionId = hex('fedcba9876543210aabbccdd');

  it.each([
    ['127.0.0.1', 54321, 4],
    ['0.0.0.0', 0, 4],
    ['255.255.255.255', 65535, 4],
    ['::1', 3478, 6],
    ['::', 1, 6],
    ['fe80::1:0:0:2', 40000, 6],
    ['2001:db8::8:800:200c:417a', 9, 6],
    ['::ffff:192.0.2.128', 443, 6],
  ] as const)('round-trips XOR-MAPPED-ADDRESS %s port %i', (address, port, family) => {
    const value = encodeXorMappedAddress(address, port, transactionId);
    expect(value.length).toBe(family === 4 ? 8 : 20);
    const decoded = decodeXorMappedAddress(value, transactionId);
    expect(decoded.family).toBe(family);
    expect(decoded.port).toBe(port);
    // Compare as bytes so textual forms (embedded IPv4, compression) do not matter.
    expect(encodeMappedAddress(decoded.address, port).equals(encodeMappedAddress(address, port))).toBe(true);
  });

  it('prints IPv6 in RFC 5952 canonical form', () => {
    const value = encodeXorMappedAddress('2001:0db8:0000:0000:0001:0000:0000:0001', 1, transactionId);
    expect(decodeXorMappedAddress(value, transactionId).address).toBe('2001:db8::1:0:0:1');
  });

  it('encodes MAPPED-ADDRESS without XOR', () => {
    expect(encodeMappedAddress('192.0.2.1', 32853).equals(hex('00018055 c0000201'))).toBe(true);
  });

  it('rejects malformed XOR-MAPPED-ADDRESS values', () => {
    expect(() => decodeXorMappedAddress(hex('0003a147 e112a643'), transactionId)).toThrow(StunDecodeError);
    expect(() => decodeXorMappedAddress(hex('0001a147 e112a6'), transactionId)).toThrow(StunDecodeError);
    expect(() => encodeXorMappedAddress('example.com', 1, transactionId)).toThrow(TypeError);
  });

  it('encodes ERROR-CODE as class and number', () => {
    expect(encodeErrorCode(420, 'Unknown Attribute').equals(
      Buffer.concat([hex('00000414'), Buffer.from('Unknown Attribute')]),
    )).toBe(true);
    expect(() => encodeErrorCode(200, 'OK')).toThrow(RangeError);
  });
});

describe('malformed input', () => {
  it('rejects a truncated header', () => {
    expectDecodeError(RFC5769_IPV4_RESPONSE.subarray(0, 19), 'too-short');
    expectDecodeError(Buffer.alloc(0), 'too-short');
  });

  it('rejects a bad magic cookie or set top bits', () => {
    const badCookie = Buffer.from(RFC5769_IPV4_RESPONSE);
    badCookie.writeUInt32BE(0x2112a443, 4);
    expectDecodeError(badCookie, 'not-stun');
    expect(isStunMessage(badCookie)).toBe(false);

    const topBits = Buffer.from(RFC5769_IPV4_RESPONSE);
    topBits[0] = 0x81;
    expectDecodeError(topBits, 'not-stun');
  });

  it('rejects a length that does not match or is not a multiple of four', () => {
    expectDecodeError(RFC5769_IPV4_RESPONSE.subarray(0, RFC5769_IPV4_RESPONSE.length - 4), 'bad-length');
    const odd = Buffer.from(RFC5769_IPV4_RESPONSE);
    odd.writeUInt16BE(0x3d, 2);
    expectDecodeError(odd, 'bad-length');
    expect(isStunMessage(odd)).toBe(false);
  });

  it('rejects an attribute that runs past the end', () => {
    const msg = encodeStunMessage({
      method: 1,
      cls: 'request',
      transactionId: RFC5769_TRANSACTION_ID,
      attributes: [{ type: StunAttr.software, value: Buffer.from('abcd') }],
    });
    msg.writeUInt16BE(5, 22);
    expectDecodeError(msg, 'bad-attribute');
  });

  it('rejects a FINGERPRINT that does not match', () => {
    const bad = Buffer.from(RFC5769_IPV4_RESPONSE);
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0x01;
    expectDecodeError(bad, 'bad-fingerprint');
    // A flipped bit elsewhere is caught by the same CRC.
    const flipped = Buffer.from(RFC5769_IPV4_RESPONSE);
    flipped[30] = (flipped[30] ?? 0) ^ 0x80;
    expectDecodeError(flipped, 'bad-fingerprint');
  });

  it('rejects a FINGERPRINT that is not the last attribute', () => {
    const fingerprinted = encodeStunMessage(
      { method: 1, cls: 'request', transactionId: RFC5769_TRANSACTION_ID, attributes: [] },
      { fingerprint: true },
    );
    const trailing = Buffer.concat([fingerprinted, hex('80220000')]);
    trailing.writeUInt16BE(trailing.length - 20, 2);
    expectDecodeError(trailing, 'bad-attribute');
  });
});
