import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { buildReceiverReport, buildSenderReport, buildSourceDescription, parseRtcpCompound } from '../../src/media/rtcp-report.js';
import { buildRtpPacket, isRtcpPacket, parseRtpHeader, rtpPayload } from '../../src/media/rtp-packet.js';
import { decodeTelephoneEvent, encodeTelephoneEvent } from '../../src/media/telephone-event.js';
import { fuzzProperty } from './fuzz-runs.js';

// RTP and RTCP (RFC 3550) and telephone events (RFC 4733) as the anchor's sockets receive them:
// anyone who learns a media port can send anything there.

const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const reportBlock = fc.record({
  ssrc: u32,
  fractionLost: fc.integer({ min: 0, max: 255 }),
  cumulativeLost: fc.integer({ min: -0x80_0000, max: 0x7f_ffff }),
  extendedHighestSequence: u32,
  jitter: u32,
  lastSr: u32,
  delaySinceLastSr: u32,
});
const senderReport = fc
  .record({ ssrc: u32, sender: fc.record({ ntp: fc.record({ seconds: u32, fraction: u32 }), rtpTimestamp: u32, packetCount: u32, octetCount: u32 }), reports: fc.array(reportBlock, { maxLength: 31 }) })
  .map(buildSenderReport);
const receiverReport = fc.record({ ssrc: u32, reports: fc.array(reportBlock, { maxLength: 31 }) }).map(buildReceiverReport);
const sdes = fc.record({ ssrc: u32, cname: fc.string({ maxLength: 80 }) }).map(buildSourceDescription);
const compound = fc.array(fc.oneof(senderReport, receiverReport, sdes), { minLength: 1, maxLength: 4 }).map((packets) => Buffer.concat(packets));
const rtp = fc
  .record({ payloadType: fc.integer({ min: 0, max: 127 }), sequenceNumber: fc.integer({ min: 0, max: 0xffff }), timestamp: u32, ssrc: u32, marker: fc.boolean(), payload: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) })
  .map(buildRtpPacket);

/** A real packet with a few bytes overwritten, cut or added; or random bytes. */
const damaged = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc
    .tuple(fc.oneof(compound, rtp), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.option(fc.nat(), { nil: undefined }), fc.uint8Array({ maxLength: 8 }))
    .map(([packet, writes, cut, tail]) => {
      const bytes = Buffer.concat([packet, tail]);
      for (const [at, value] of writes) bytes[at % bytes.length] = value;
      return cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
    }),
);

describe('RTP, RTCP and telephone-event parsing', () => {
  fuzzProperty('never throws; an accepted RTP header fits its packet, an accepted RTCP compound fits its datagram', 3000, () =>
    fc.property(damaged, (packet) => {
      isRtcpPacket(packet);
      const header = parseRtpHeader(packet);
      if (header) {
        expect(header.headerLength).toBeLessThanOrEqual(packet.length);
        expect(rtpPayload(packet, header).length).toBeGreaterThanOrEqual(0);
        decodeTelephoneEvent(rtpPayload(packet, header));
      }
      const rtcp = parseRtcpCompound(packet);
      if (rtcp) for (const item of rtcp) if (item.type === 'sr' || item.type === 'rr') expect(item.reports.length).toBeLessThanOrEqual(31);
    }),
  );

  fuzzProperty('reads back the reports, descriptions and events it builds', 1000, () =>
    fc.property(compound, fc.record({ event: fc.integer({ min: 0, max: 255 }), end: fc.boolean(), volume: fc.integer({ min: 0, max: 63 }), duration: fc.integer({ min: 0, max: 0xffff }) }), (packet, event) => {
      expect(parseRtcpCompound(packet)).toBeDefined();
      expect(decodeTelephoneEvent(encodeTelephoneEvent(event))).toStrictEqual({ ...event });
    }),
  );
});
