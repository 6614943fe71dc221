/**
 * RTCP sender and receiver reports (RFC 3550 section 6.4), the SDES CNAME
 * every compound packet carries (section 6.5.1), and a parser for compound
 * packets (section 6.1). Pure: no sockets, no clocks except `ntpNow`.
 */

export const RtcpPacketType = {
  senderReport: 200,
  receiverReport: 201,
  sourceDescription: 202,
  goodbye: 203,
} as const;

/** 64-bit NTP timestamp (section 4): seconds since 1900 and a 32-bit binary fraction. */
export interface NtpTimestamp {
  seconds: number;
  fraction: number;
}

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_UNIX_OFFSET_SECONDS = 2_208_988_800;
const TWO_TO_32 = 0x1_0000_0000;

export function ntpFromUnixMs(unixMs: number): NtpTimestamp {
  const wholeSeconds = Math.floor(unixMs / 1000);
  const fraction = Math.floor(((unixMs - wholeSeconds * 1000) / 1000) * TWO_TO_32);
  // Modulo 2^32: the NTP era rolls over in 2036 and only differences matter here.
  return { seconds: (wholeSeconds + NTP_UNIX_OFFSET_SECONDS) >>> 0, fraction: Math.min(fraction, TWO_TO_32 - 1) >>> 0 };
}

/** Wallclock now, with the sub-millisecond resolution of the performance clock. */
export function ntpNow(): NtpTimestamp {
  return ntpFromUnixMs(performance.timeOrigin + performance.now());
}

/**
 * The middle 32 bits of an NTP timestamp, in units of 1/65536 s: the form
 * of the LSR and DLSR fields (section 6.4.1).
 */
export function compactNtp(t: NtpTimestamp): number {
  return (((t.seconds & 0xffff) << 16) | (t.fraction >>> 16)) >>> 0;
}

/** Milliseconds as a DLSR value (1/65536 s units), saturating at the 32-bit maximum. */
export function msToCompactNtp(ms: number): number {
  return Math.min(Math.max(Math.round((ms * 65536) / 1000), 0), TWO_TO_32 - 1);
}

/**
 * Round-trip time from a report block about our stream (section 6.4.1,
 * figure 2): arrival - LSR - DLSR. Undefined while the peer has not yet
 * received an SR from us (LSR is zero). Clock granularity can make the
 * result slightly negative on a fast path; that is reported as 0.
 */
export function roundTripMs(arrival: NtpTimestamp, lastSr: number, delaySinceLastSr: number): number | undefined {
  if (lastSr === 0) return undefined;
  const units = (compactNtp(arrival) - lastSr - delaySinceLastSr) | 0;
  return units <= 0 ? 0 : (units * 1000) / 65536;
}

/** One report block (section 6.4.1): what we know about one source we receive. */
export interface RtcpReportBlock {
  ssrc: number;
  /** Packets lost since the previous report, as a fraction of those expected, times 256. */
  fractionLost: number;
  /** Signed 24-bit; negative when duplicates outnumber losses. */
  cumulativeLost: number;
  extendedHighestSequence: number;
  /** Interarrival jitter in RTP timestamp units (appendix A.8). */
  jitter: number;
  /** Compact NTP of the last SR received from the source, 0 if none. */
  lastSr: number;
  /** Time since that SR, in 1/65536 s. */
  delaySinceLastSr: number;
}

export interface RtcpSenderInfo {
  ntp: NtpTimestamp;
  /** The same instant as `ntp`, on the RTP clock of the stream (section 6.4.1). */
  rtpTimestamp: number;
  packetCount: number;
  /** Payload octets, excluding headers and padding. */
  octetCount: number;
}

export type RtcpPacket =
  | { type: 'sr'; ssrc: number; sender: RtcpSenderInfo; reports: RtcpReportBlock[] }
  | { type: 'rr'; ssrc: number; reports: RtcpReportBlock[] }
  | { type: 'sdes'; chunks: { ssrc: number; cname?: string }[] }
  | { type: 'bye'; ssrcs: number[] }
  | { type: 'other'; packetType: number };

const HEADER_LENGTH = 4;
const SENDER_INFO_LENGTH = 20;
const REPORT_BLOCK_LENGTH = 24;
/** The 5-bit count field of the common header. */
const MAX_COUNT = 31;
const SDES_CNAME = 1;

/** The common header (section 6.4.1): version 2, count, packet type, length in 32-bit words minus one. */
function writeHeader(packet: Buffer, count: number, packetType: number): void {
  packet[0] = (2 << 6) | count;
  packet[1] = packetType;
  packet.writeUInt16BE(packet.length / 4 - 1, 2);
}

function writeReportBlock(packet: Buffer, offset: number, block: RtcpReportBlock): void {
  packet.writeUInt32BE(block.ssrc >>> 0, offset);
  packet[offset + 4] = Math.min(Math.max(Math.round(block.fractionLost), 0), 255);
  const lost = Math.min(Math.max(block.cumulativeLost, -0x80_0000), 0x7f_ffff);
  packet.writeUIntBE(lost & 0xff_ffff, offset + 5, 3);
  packet.writeUInt32BE(block.extendedHighestSequence >>> 0, offset + 8);
  packet.writeUInt32BE(Math.min(Math.round(block.jitter), TWO_TO_32 - 1) >>> 0, offset + 12);
  packet.writeUInt32BE(block.lastSr >>> 0, offset + 16);
  packet.writeUInt32BE(block.delaySinceLastSr >>> 0, offset + 20);
}

function checkReportCount(reports: RtcpReportBlock[]): void {
  if (reports.length > MAX_COUNT) throw new RangeError(`at most ${MAX_COUNT} report blocks fit one report`);
}

/** SR (section 6.4.1): sent by a participant that sent RTP since its last report. */
export function buildSenderReport(o: { ssrc: number; sender: RtcpSenderInfo; reports: RtcpReportBlock[] }): Buffer {
  checkReportCount(o.reports);
  const packet = Buffer.alloc(HEADER_LENGTH + 4 + SENDER_INFO_LENGTH + REPORT_BLOCK_LENGTH * o.reports.length);
  writeHeader(packet, o.reports.length, RtcpPacketType.senderReport);
  packet.writeUInt32BE(o.ssrc >>> 0, 4);
  packet.writeUInt32BE(o.sender.ntp.seconds >>> 0, 8);
  packet.writeUInt32BE(o.sender.ntp.fraction >>> 0, 12);
  packet.writeUInt32BE(o.sender.rtpTimestamp >>> 0, 16);
  // Both counters wrap modulo 2^32 (section 6.4.1).
  packet.writeUInt32BE(o.sender.packetCount >>> 0, 20);
  packet.writeUInt32BE(o.sender.octetCount >>> 0, 24);
  o.reports.forEach((block, i) => writeReportBlock(packet, 28 + i * REPORT_BLOCK_LENGTH, block));
  return packet;
}

/** RR (section 6.4.2): sent by a participant that only receives. */
export function buildReceiverReport(o: { ssrc: number; reports: RtcpReportBlock[] }): Buffer {
  checkReportCount(o.reports);
  const packet = Buffer.alloc(HEADER_LENGTH + 4 + REPORT_BLOCK_LENGTH * o.reports.length);
  writeHeader(packet, o.reports.length, RtcpPacketType.receiverReport);
  packet.writeUInt32BE(o.ssrc >>> 0, 4);
  o.reports.forEach((block, i) => writeReportBlock(packet, 8 + i * REPORT_BLOCK_LENGTH, block));
  return packet;
}

/**
 * SDES with one chunk holding a CNAME (sections 6.5 and 6.5.1). Section 6.1
 * requires one in every compound packet, after the SR or RR.
 */
export function buildSourceDescription(o: { ssrc: number; cname: string }): Buffer {
  const text = Buffer.from(o.cname, 'utf8');
  if (text.length > 255) throw new RangeError('CNAME longer than 255 bytes');
  // SSRC, item type and length, text, then at least one null octet ending the item list, padded to 32 bits.
  const chunkLength = Math.ceil((4 + 2 + text.length + 1) / 4) * 4;
  const packet = Buffer.alloc(HEADER_LENGTH + chunkLength);
  writeHeader(packet, 1, RtcpPacketType.sourceDescription);
  packet.writeUInt32BE(o.ssrc >>> 0, 4);
  packet[8] = SDES_CNAME;
  packet[9] = text.length;
  text.copy(packet, 10);
  return packet;
}

function readReportBlocks(packet: Buffer, offset: number, count: number): RtcpReportBlock[] {
  const blocks: RtcpReportBlock[] = [];
  for (let i = 0; i < count; i++) {
    const at = offset + i * REPORT_BLOCK_LENGTH;
    blocks.push({
      ssrc: packet.readUInt32BE(at),
      fractionLost: packet[at + 4] ?? 0,
      cumulativeLost: packet.readIntBE(at + 5, 3),
      extendedHighestSequence: packet.readUInt32BE(at + 8),
      jitter: packet.readUInt32BE(at + 12),
      lastSr: packet.readUInt32BE(at + 16),
      delaySinceLastSr: packet.readUInt32BE(at + 20),
    });
  }
  return blocks;
}

/** Chunks of an SDES packet, keeping only the CNAME item; undefined if an item runs past the packet. */
function readSourceDescription(body: Buffer, count: number): { ssrc: number; cname?: string }[] | undefined {
  const chunks: { ssrc: number; cname?: string }[] = [];
  let offset = HEADER_LENGTH;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > body.length) return undefined;
    const chunk: { ssrc: number; cname?: string } = { ssrc: body.readUInt32BE(offset) };
    offset += 4;
    for (;;) {
      const itemType = body[offset];
      if (itemType === undefined) return undefined;
      if (itemType === 0) break;
      const length = body[offset + 1];
      if (length === undefined || offset + 2 + length > body.length) return undefined;
      if (itemType === SDES_CNAME) chunk.cname = body.toString('utf8', offset + 2, offset + 2 + length);
      offset += 2 + length;
    }
    // The null item, then padding to the next 32-bit boundary.
    offset = (Math.floor(offset / 4) + 1) * 4;
    chunks.push(chunk);
  }
  return chunks;
}

function parseOne(body: Buffer, count: number, packetType: number): RtcpPacket | undefined {
  switch (packetType) {
    case RtcpPacketType.senderReport: {
      if (body.length < 28 + count * REPORT_BLOCK_LENGTH) return undefined;
      const sender: RtcpSenderInfo = {
        ntp: { seconds: body.readUInt32BE(8), fraction: body.readUInt32BE(12) },
        rtpTimestamp: body.readUInt32BE(16),
        packetCount: body.readUInt32BE(20),
        octetCount: body.readUInt32BE(24),
      };
      return { type: 'sr', ssrc: body.readUInt32BE(4), sender, reports: readReportBlocks(body, 28, count) };
    }
    case RtcpPacketType.receiverReport:
      if (body.length < 8 + count * REPORT_BLOCK_LENGTH) return undefined;
      return { type: 'rr', ssrc: body.readUInt32BE(4), reports: readReportBlocks(body, 8, count) };
    case RtcpPacketType.sourceDescription: {
      const chunks = readSourceDescription(body, count);
      return chunks === undefined ? undefined : { type: 'sdes', chunks };
    }
    case RtcpPacketType.goodbye: {
      if (body.length < HEADER_LENGTH + count * 4) return undefined;
      const ssrcs = Array.from({ length: count }, (_, i) => body.readUInt32BE(HEADER_LENGTH + i * 4));
      return { type: 'bye', ssrcs };
    }
    default:
      return { type: 'other', packetType };
  }
}

/**
 * Splits a compound packet and decodes the packets it understands. Undefined
 * when the structure is invalid (appendix A.2): a version other than 2,
 * lengths that do not add up to the datagram, padding anywhere but in the
 * last packet, or a body too short for its count. The A.2 rule that the
 * first packet be an SR or RR is not enforced, since reduced-size RTCP
 * (RFC 5506) relaxes it and nothing here depends on it.
 */
export function parseRtcpCompound(datagram: Buffer): RtcpPacket[] | undefined {
  const packets: RtcpPacket[] = [];
  let offset = 0;
  while (offset < datagram.length) {
    if (datagram.length - offset < HEADER_LENGTH) return undefined;
    const first = datagram[offset] ?? 0;
    if (first >> 6 !== 2) return undefined;
    const length = (datagram.readUInt16BE(offset + 2) + 1) * 4;
    const end = offset + length;
    if (end > datagram.length) return undefined;
    let bodyEnd = end;
    if ((first & 0x20) !== 0) {
      if (end !== datagram.length) return undefined;
      const padding = datagram[end - 1] ?? 0;
      if (padding === 0 || padding > length - HEADER_LENGTH) return undefined;
      bodyEnd = end - padding;
    }
    const parsed = parseOne(datagram.subarray(offset, bodyEnd), first & 0x1f, datagram[offset + 1] ?? 0);
    if (parsed === undefined) return undefined;
    packets.push(parsed);
    offset = end;
  }
  return packets.length === 0 ? undefined : packets;
}
