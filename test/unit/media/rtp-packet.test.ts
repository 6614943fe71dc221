import { describe, expect, it } from 'vitest';
import {
  buildRtpPacket,
  isRtcpPacket,
  parseRtpHeader,
  rtpPayload,
  writePayloadType,
  writeSequenceNumber,
  writeSsrc,
  writeTimestamp,
} from '../../../src/media/rtp-packet.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('parseRtpHeader', () => {
  it('reads every fixed header field (RFC 3550 section 5.1)', () => {
    // V=2, no P/X/CC; M=1, PT=96; seq 0x1234; timestamp 1000; SSRC 0xdeadbeef; 2 payload bytes.
    const packet = hex('80e0 1234 000003e8 deadbeef abcd');
    expect(parseRtpHeader(packet)).toEqual({
      marker: true,
      payloadType: 96,
      sequenceNumber: 0x1234,
      timestamp: 1000,
      ssrc: 0xdeadbeef,
      headerLength: 12,
    });
  });

  it('counts CSRCs and the header extension in headerLength (section 5.3.1)', () => {
    // CC=2, X=1; extension header (profile 0xbede, length 1 word) and that word.
    const packet = hex('92 00 0001 00000000 00000001  00000002 00000003  bede0001 11223344  ff');
    const header = parseRtpHeader(packet);
    expect(header?.headerLength).toBe(12 + 8 + 4 + 4);
    expect(rtpPayload(packet, header!)).toEqual(hex('ff'));
  });

  it('strips padding from the payload', () => {
    // P=1: payload aa bb, then 3 bytes of padding whose last octet is the count.
    const packet = hex('a000 0001 00000000 00000001 aabb 000003');
    const header = parseRtpHeader(packet);
    expect(header).toBeDefined();
    expect(rtpPayload(packet, header!)).toEqual(hex('aabb'));
  });

  it.each([
    ['an 11-byte packet', hex('8000 0001 00000000 000000')],
    ['version 1', hex('4000 0001 00000000 00000001')],
    ['version 0 (a STUN message)', hex('0001 0000 2112a442 00000000')],
    ['more CSRCs than bytes', hex('8f00 0001 00000000 00000001 00000002')],
    ['an extension header cut short', hex('9000 0001 00000000 00000001 bede')],
    ['an extension longer than the packet', hex('9000 0001 00000000 00000001 bede0002 00000000')],
    ['a padding count of zero', hex('a000 0001 00000000 00000001 aabb00')],
    ['more padding than payload', hex('a000 0001 00000000 00000001 aa09')],
  ])('rejects %s', (_, packet) => {
    expect(parseRtpHeader(packet)).toBeUndefined();
  });
});

describe('isRtcpPacket (RFC 5761 section 4)', () => {
  it('recognises RTCP packet types 192..223 with version 2', () => {
    expect(isRtcpPacket(hex('80c8 0006 00000001'))).toBe(true); // SR, 200
    expect(isRtcpPacket(hex('81c9 0007 00000001'))).toBe(true); // RR, 201
    expect(isRtcpPacket(hex('80c0 0000'))).toBe(true); // 192
    expect(isRtcpPacket(hex('80df 0000'))).toBe(true); // 223
  });

  it('does not mistake RTP for RTCP', () => {
    expect(isRtcpPacket(buildRtpPacket({ payloadType: 0, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload: Buffer.alloc(4) }))).toBe(false);
    // PT 96 with the marker: second octet 224, just above the RTCP range.
    expect(isRtcpPacket(hex('80e0 0001 00000000 00000001'))).toBe(false);
    // PT 127 with the marker: 255.
    expect(isRtcpPacket(hex('80ff 0001 00000000 00000001'))).toBe(false);
  });

  it('rejects the wrong version and fragments', () => {
    expect(isRtcpPacket(hex('40c8 0006 00000001'))).toBe(false);
    expect(isRtcpPacket(hex('80c8 00'))).toBe(false);
  });
});

describe('writers', () => {
  const packet = (): Buffer =>
    buildRtpPacket({ payloadType: 0, sequenceNumber: 7, timestamp: 160, ssrc: 42, marker: true, payload: hex('01020304') });

  it('rewrites the payload type and keeps the marker bit', () => {
    const p = packet();
    writePayloadType(p, 101);
    expect(parseRtpHeader(p)).toMatchObject({ payloadType: 101, marker: true, sequenceNumber: 7 });
    const unmarked = buildRtpPacket({ payloadType: 8, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload: Buffer.alloc(0) });
    writePayloadType(unmarked, 96);
    expect(parseRtpHeader(unmarked)).toMatchObject({ payloadType: 96, marker: false });
  });

  it('refuses payload types outside 0..127', () => {
    expect(() => writePayloadType(packet(), 128)).toThrow(RangeError);
    expect(() => writePayloadType(packet(), -1)).toThrow(RangeError);
    expect(() => writePayloadType(packet(), 1.5)).toThrow(RangeError);
  });

  it('wraps sequence numbers and timestamps as the counters do', () => {
    const p = packet();
    writeSequenceNumber(p, 65536 + 3);
    writeTimestamp(p, 2 ** 32 + 5);
    writeSsrc(p, 0xffffffff);
    expect(parseRtpHeader(p)).toMatchObject({ sequenceNumber: 3, timestamp: 5, ssrc: 0xffffffff });
    writeTimestamp(p, -1);
    expect(parseRtpHeader(p)?.timestamp).toBe(0xffffffff);
  });

  it('leaves the payload alone', () => {
    const p = packet();
    writePayloadType(p, 9);
    writeSequenceNumber(p, 9);
    writeTimestamp(p, 9);
    writeSsrc(p, 9);
    expect(p.subarray(12)).toEqual(hex('01020304'));
  });
});

describe('buildRtpPacket', () => {
  it('produces the exact bytes of a minimal header', () => {
    const p = buildRtpPacket({ payloadType: 8, sequenceNumber: 0xfffe, timestamp: 0x01020304, ssrc: 0x0a0b0c0d, payload: hex('d5d5') });
    expect(p).toEqual(hex('8008 fffe 01020304 0a0b0c0d d5d5'));
  });

  it('round-trips through the parser', () => {
    const payload = Buffer.from('hello');
    const p = buildRtpPacket({ payloadType: 96, sequenceNumber: 12345, timestamp: 4_000_000_000, ssrc: 77, marker: true, payload });
    const header = parseRtpHeader(p);
    expect(header).toEqual({ marker: true, payloadType: 96, sequenceNumber: 12345, timestamp: 4_000_000_000, ssrc: 77, headerLength: 12 });
    expect(rtpPayload(p, header!)).toEqual(payload);
  });
});
