import { describe, expect, it } from 'vitest';
import {
  buildReceiverReport,
  buildSenderReport,
  buildSourceDescription,
  compactNtp,
  msToCompactNtp,
  ntpFromUnixMs,
  parseRtcpCompound,
  roundTripMs,
  type NtpTimestamp,
  type RtcpReportBlock,
} from '../../../src/media/rtcp-report.js';
import { RtcpReporter } from '../../../src/media/rtcp-reporter.js';
import { buildRtpPacket, parseRtpHeader } from '../../../src/media/rtp-packet.js';
import { RtpReceptionStatistics } from '../../../src/media/rtp-reception-statistics.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const BLOCK: RtcpReportBlock = {
  ssrc: 0x11223344,
  fractionLost: 12,
  cumulativeLost: 5,
  extendedHighestSequence: 0x00010005,
  jitter: 80,
  lastSr: 0xaabbccdd,
  delaySinceLastSr: 0x00010000,
};

describe('NTP timestamps (RFC 3550 section 4)', () => {
  it('counts from 1900 with a 32-bit binary fraction', () => {
    expect(ntpFromUnixMs(0)).toEqual({ seconds: 2_208_988_800, fraction: 0 });
    expect(ntpFromUnixMs(1500)).toEqual({ seconds: 2_208_988_801, fraction: 0x8000_0000 });
    expect(ntpFromUnixMs(250)).toEqual({ seconds: 2_208_988_800, fraction: 0x4000_0000 });
  });

  it('takes the middle 32 bits as the compact form (section 6.4.1)', () => {
    expect(compactNtp({ seconds: 0x12345678, fraction: 0x9abcdef0 })).toBe(0x56789abc);
    expect(msToCompactNtp(1000)).toBe(65536);
    expect(msToCompactNtp(-5)).toBe(0);
  });

  it('computes the round trip as arrival - LSR - DLSR', () => {
    const sentAt = ntpFromUnixMs(1_700_000_000_000);
    const arrival = ntpFromUnixMs(1_700_000_001_250);
    // The peer held our SR for 1 s, so the network took the other 250 ms.
    expect(roundTripMs(arrival, compactNtp(sentAt), msToCompactNtp(1000))).toBeCloseTo(250, 1);
    expect(roundTripMs(arrival, 0, 0)).toBeUndefined();
    // A DLSR a little larger than the elapsed time (clock granularity) is not a negative RTT.
    expect(roundTripMs(arrival, compactNtp(sentAt), msToCompactNtp(1251))).toBe(0);
  });
});

describe('building reports', () => {
  it('writes a receiver report byte for byte (section 6.4.2)', () => {
    expect(buildReceiverReport({ ssrc: 0xcafebabe, reports: [BLOCK] })).toEqual(
      hex(`81c9 0007 cafebabe
           11223344 0c 000005 00010005 00000050 aabbccdd 00010000`),
    );
    expect(buildReceiverReport({ ssrc: 1, reports: [] })).toEqual(hex('80c9 0001 00000001'));
  });

  it('writes a sender report byte for byte (section 6.4.1)', () => {
    const sr = buildSenderReport({
      ssrc: 0xcafebabe,
      sender: { ntp: { seconds: 0x01020304, fraction: 0x05060708 }, rtpTimestamp: 160, packetCount: 3, octetCount: 480 },
      reports: [BLOCK],
    });
    expect(sr).toEqual(
      hex(`81c8 000c cafebabe 01020304 05060708 000000a0 00000003 000001e0
           11223344 0c 000005 00010005 00000050 aabbccdd 00010000`),
    );
  });

  it('writes negative cumulative loss as 24-bit two’s complement and clamps it', () => {
    const negative = buildReceiverReport({ ssrc: 1, reports: [{ ...BLOCK, cumulativeLost: -2 }] });
    expect(negative.subarray(13, 16)).toEqual(hex('fffffe'));
    const huge = buildReceiverReport({ ssrc: 1, reports: [{ ...BLOCK, cumulativeLost: 1e9, fractionLost: 300 }] });
    expect(huge.subarray(12, 16)).toEqual(hex('ff7fffff'));
  });

  it('writes an SDES CNAME chunk padded to 32 bits (section 6.5.1)', () => {
    // Chunk: SSRC, CNAME=1, length 3, "abc", a null octet ending the list, two octets of padding.
    expect(buildSourceDescription({ ssrc: 7, cname: 'abc' })).toEqual(hex('81ca 0003 00000007 0103616263 00 0000'));
    // Exactly aligned text still needs its null octet, hence a whole extra word.
    expect(buildSourceDescription({ ssrc: 7, cname: 'ab' })).toHaveLength(16);
  });

  it('refuses more than 31 report blocks', () => {
    expect(() => buildReceiverReport({ ssrc: 1, reports: Array.from({ length: 32 }, () => BLOCK) })).toThrow(RangeError);
  });
});

describe('parseRtcpCompound', () => {
  const sr = buildSenderReport({
    ssrc: 42,
    sender: { ntp: { seconds: 100, fraction: 200 }, rtpTimestamp: 300, packetCount: 4, octetCount: 500 },
    reports: [{ ...BLOCK, cumulativeLost: -3 }],
  });
  const sdes = buildSourceDescription({ ssrc: 42, cname: 'phone@example' });

  it('splits a compound packet and decodes SR and SDES', () => {
    expect(parseRtcpCompound(Buffer.concat([sr, sdes]))).toEqual([
      {
        type: 'sr',
        ssrc: 42,
        sender: { ntp: { seconds: 100, fraction: 200 }, rtpTimestamp: 300, packetCount: 4, octetCount: 500 },
        reports: [{ ...BLOCK, cumulativeLost: -3 }],
      },
      { type: 'sdes', chunks: [{ ssrc: 42, cname: 'phone@example' }] },
    ]);
  });

  it('decodes RR, BYE and passes over packet types it does not know', () => {
    const rr = buildReceiverReport({ ssrc: 9, reports: [BLOCK] });
    const bye = hex('82cb 0002 00000009 0000000a');
    const app = hex('80cc 0002 00000009 6e616d65');
    expect(parseRtcpCompound(Buffer.concat([rr, bye, app]))).toEqual([
      { type: 'rr', ssrc: 9, reports: [BLOCK] },
      { type: 'bye', ssrcs: [9, 10] },
      { type: 'other', packetType: 204 },
    ]);
  });

  it('accepts padding on the last packet', () => {
    // An RR with no blocks, padded by 4 octets (P set, length 2 words + header).
    expect(parseRtcpCompound(hex('a0c9 0002 00000001 00000004'))).toEqual([{ type: 'rr', ssrc: 1, reports: [] }]);
  });

  it.each([
    ['an empty datagram', Buffer.alloc(0)],
    ['version 1', hex('40c9 0001 00000001')],
    ['a length past the end', hex('80c9 0004 00000001')],
    ['a trailing fragment', hex('80c9 0001 00000001 80')],
    ['padding on a packet that is not last', hex('a0c9 0001 00000001 80c9 0001 00000002')],
    ['a padding count of zero', hex('a0c9 0002 00000001 00000000')],
    ['a report count larger than the body', hex('81c9 0001 00000001')],
    ['an SR without its sender info', hex('80c8 0001 00000001')],
    ['an SDES item running past the packet', hex('81ca 0002 00000001 0109ab00')],
  ])('rejects %s', (_, datagram) => {
    expect(parseRtcpCompound(datagram)).toBeUndefined();
  });
});

describe('RtpReceptionStatistics (RFC 3550 appendix A)', () => {
  const packet = (sequenceNumber: number, timestamp = sequenceNumber * 160, ssrc = 5) => ({ ssrc, sequenceNumber, timestamp });

  it('reports no loss and the highest sequence number for an in-order stream', () => {
    const stats = new RtpReceptionStatistics(8000);
    expect(stats.reportBlock(0, 0)).toBeUndefined();
    for (let seq = 1000; seq < 1100; seq++) stats.update(packet(seq), seq * 20);
    expect(stats.lost).toBe(0);
    expect(stats.reportBlock(0, 0)).toMatchObject({ ssrc: 5, fractionLost: 0, cumulativeLost: 0, extendedHighestSequence: 1099 });
  });

  it('counts gaps as loss, with the fraction per report interval (A.3)', () => {
    const stats = new RtpReceptionStatistics(8000);
    // 0..105 with 20, 41, 62, 83 and 104 missing.
    for (let seq = 0; seq <= 105; seq++) if (seq % 21 !== 20) stats.update(packet(seq), seq * 20);
    expect(stats.lost).toBe(5);
    // 5 of 106 expected: 5 * 256 / 106 = 12.08.
    expect(stats.reportBlock(0, 0)).toMatchObject({ fractionLost: 12, cumulativeLost: 5 });
    for (let seq = 106; seq < 206; seq++) stats.update(packet(seq), seq * 20);
    expect(stats.reportBlock(0, 0)).toMatchObject({ fractionLost: 0, cumulativeLost: 5 });
  });

  it('extends the sequence number across the 16-bit wrap', () => {
    const stats = new RtpReceptionStatistics(8000);
    for (let i = 0; i < 20; i++) stats.update(packet((65526 + i) % 65536), i * 20);
    expect(stats.lost).toBe(0);
    expect(stats.reportBlock(0, 0)?.extendedHighestSequence).toBe(65536 + 9);
  });

  it('makes duplicates show as negative loss and ignores late packets for the maximum', () => {
    const stats = new RtpReceptionStatistics(8000);
    for (const seq of [1, 2, 3, 3, 5, 4]) stats.update(packet(seq), seq * 20);
    expect(stats.lost).toBe(-1);
    expect(stats.reportBlock(0, 0)?.extendedHighestSequence).toBe(5);
  });

  it('treats one big jump as a stray and two in a row as a restart (A.1)', () => {
    const stats = new RtpReceptionStatistics(8000);
    for (let seq = 0; seq < 10; seq++) stats.update(packet(seq), seq * 20);
    stats.update(packet(30000), 200);
    expect(stats.reportBlock(0, 0)?.extendedHighestSequence).toBe(9);
    stats.update(packet(40000), 220);
    stats.update(packet(40001), 240);
    expect(stats.reportBlock(0, 0)).toMatchObject({ extendedHighestSequence: 40001, cumulativeLost: 0 });
  });

  it('starts over when the SSRC changes', () => {
    const stats = new RtpReceptionStatistics(8000);
    for (let seq = 0; seq < 10; seq += 2) stats.update(packet(seq), seq * 20);
    expect(stats.lost).toBe(4);
    stats.update(packet(500, 0, 6), 1000);
    expect(stats.ssrc).toBe(6);
    expect(stats.lost).toBe(0);
  });

  it('measures interarrival jitter (A.8)', () => {
    const steady = new RtpReceptionStatistics(8000);
    for (let i = 0; i < 200; i++) steady.update(packet(i), i * 20);
    expect(steady.jitterMs).toBeCloseTo(0, 6);

    // Every packet 10 ms early or late: |D| is always 10 ms, which the 1/16 filter converges to.
    const bumpy = new RtpReceptionStatistics(8000);
    for (let i = 0; i < 400; i++) bumpy.update(packet(i), i * 20 + (i % 2 === 0 ? 0 : 10));
    expect(bumpy.jitterMs).toBeCloseTo(10, 1);
    expect(bumpy.reportBlock(0, 0)?.jitter).toBeGreaterThanOrEqual(79);
  });

  it('is not fooled by the RTP timestamp wrapping', () => {
    const stats = new RtpReceptionStatistics(8000);
    for (let i = 0; i < 100; i++) stats.update(packet(i, (0xffff_ff00 + i * 160) >>> 0), i * 20);
    expect(stats.jitterMs).toBeCloseTo(0, 6);
  });
});

describe('RtcpReporter', () => {
  const rtp = (ssrc: number, sequenceNumber: number, payloadBytes = 160) => {
    const packet = buildRtpPacket({ payloadType: 0, sequenceNumber, timestamp: sequenceNumber * 160, ssrc, payload: Buffer.alloc(payloadBytes) });
    return { packet, header: parseRtpHeader(packet)! };
  };
  const ntpAt = (ms: number): NtpTimestamp => ntpFromUnixMs(1_700_000_000_000 + ms);

  it('stays quiet while no media flows', () => {
    expect(new RtcpReporter({ clockRate: 8000 }).buildReport(0)).toBeUndefined();
  });

  it('sends an RR with a block about the received stream, then SDES', () => {
    const reporter = new RtcpReporter({ clockRate: 8000 });
    for (let seq = 0; seq < 10; seq++) reporter.rtpReceived(rtp(77, seq).header, seq * 20);
    const parsed = parseRtcpCompound(reporter.buildReport(200, ntpAt(200))!);
    expect(parsed?.[0]).toMatchObject({ type: 'rr', reports: [{ ssrc: 77, extendedHighestSequence: 9, lastSr: 0 }] });
    expect(parsed?.[1]).toMatchObject({ type: 'sdes', chunks: [{ cname: expect.stringMatching(/^switchboard-/) }] });
    // Nothing new since: no report.
    expect(reporter.buildReport(400)).toBeUndefined();
  });

  it('sends an SR with counts and an extrapolated RTP timestamp once it sends', () => {
    const reporter = new RtcpReporter({ clockRate: 8000 });
    for (let seq = 1; seq <= 3; seq++) {
      const { packet, header } = rtp(99, seq);
      reporter.rtpSent(packet, header, seq * 20);
    }
    const [sr] = parseRtcpCompound(reporter.buildReport(160, ntpAt(160))!)!;
    // Last packet (timestamp 480) went at 60 ms; 100 ms later the RTP clock is 800 further on.
    expect(sr).toMatchObject({ type: 'sr', ssrc: 99, reports: [], sender: { packetCount: 3, octetCount: 480, rtpTimestamp: 1280 } });
  });

  it('derives the round-trip time from the peer’s report on our SR', () => {
    const us = new RtcpReporter({ clockRate: 8000 });
    const peer = new RtcpReporter({ clockRate: 8000 });
    const { packet, header } = rtp(1234, 1);
    us.rtpSent(packet, header, 0);
    peer.rtpReceived(header, 5);
    const ourSr = us.buildReport(10, ntpAt(10))!;
    // The SR takes 15 ms to arrive, the peer answers 100 ms later, the answer takes 15 ms back.
    peer.rtcpReceived(parseRtcpCompound(ourSr)!, 25, ntpAt(25));
    const peerRr = peer.buildReport(125, ntpAt(125))!;
    expect(us.rttMs).toBeUndefined();
    us.rtcpReceived(parseRtcpCompound(peerRr)!, 140, ntpAt(140));
    expect(us.rttMs).toBeCloseTo(30, 0);
  });
});
