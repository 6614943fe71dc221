/**
 * The RTP fixed header (RFC 3550 section 5.1):
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *  |                           timestamp                           |
 *  |           synchronization source (SSRC) identifier            |
 *  |            contributing source (CSRC) identifiers             |  CC times
 *  |  profile-defined header ext.  |  length in 32-bit words       |  if X (section 5.3.1)
 */

export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** Bytes before the payload: the fixed 12, the CSRC list and the header extension. */
  headerLength: number;
}

const FIXED_HEADER_LENGTH = 12;
const RTP_VERSION = 2;

/**
 * Parses the header, or returns undefined when the packet cannot be RTP:
 * wrong version, or a CSRC count, extension length or padding count that
 * does not fit in the packet (the checks of RFC 3550 appendix A.1).
 */
export function parseRtpHeader(packet: Buffer): RtpHeader | undefined {
  if (packet.length < FIXED_HEADER_LENGTH) return undefined;
  const first = packet[0] ?? 0;
  if (first >> 6 !== RTP_VERSION) return undefined;
  const hasPadding = (first & 0x20) !== 0;
  const hasExtension = (first & 0x10) !== 0;
  const csrcCount = first & 0x0f;

  let headerLength = FIXED_HEADER_LENGTH + csrcCount * 4;
  if (hasExtension) {
    // Section 5.3.1: a 4-byte extension header whose length counts the 32-bit words after it.
    if (packet.length < headerLength + 4) return undefined;
    headerLength += 4 + packet.readUInt16BE(headerLength + 2) * 4;
  }
  if (packet.length < headerLength) return undefined;
  if (hasPadding && paddingLength(packet) > packet.length - headerLength) return undefined;

  const second = packet[1] ?? 0;
  return {
    marker: (second & 0x80) !== 0,
    payloadType: second & 0x7f,
    sequenceNumber: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    headerLength,
  };
}

/**
 * Section 5.1: with P set, the last octet counts the padding octets including
 * itself, so it can never be zero.
 */
function paddingLength(packet: Buffer): number {
  const count = packet[packet.length - 1] ?? 0;
  return count === 0 ? Number.POSITIVE_INFINITY : count;
}

/** The payload of a packet whose header `parseRtpHeader` accepted, without any padding. */
export function rtpPayload(packet: Buffer, header: RtpHeader): Buffer {
  const hasPadding = ((packet[0] ?? 0) & 0x20) !== 0;
  const end = hasPadding ? packet.length - paddingLength(packet) : packet.length;
  return packet.subarray(header.headerLength, end);
}

/**
 * RFC 5761 section 4: when RTP and RTCP share a port, a second octet in
 * 192..223 is an RTCP packet type (SR 200, RR 201, ...); RTP payload types
 * 64..95 are kept clear of that range, so the marker bit cannot alias it.
 */
export function isRtcpPacket(packet: Buffer): boolean {
  // 4 bytes is the shortest RTCP packet (a BYE with no sources, RFC 3550 section 6.6).
  if (packet.length < 4) return false;
  const first = packet[0] ?? 0;
  const second = packet[1] ?? 0;
  return first >> 6 === RTP_VERSION && second >= 192 && second <= 223;
}

/** Rewrites the payload type in place; the marker bit that shares the octet is kept. */
export function writePayloadType(packet: Buffer, payloadType: number): void {
  if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 127) {
    throw new RangeError(`RTP payload type must be 0..127, got ${payloadType}`);
  }
  packet[1] = ((packet[1] ?? 0) & 0x80) | payloadType;
}

/** Writes the sequence number in place, modulo 2^16 since it wraps (section 5.1). */
export function writeSequenceNumber(packet: Buffer, sequenceNumber: number): void {
  packet.writeUInt16BE(sequenceNumber & 0xffff, 2);
}

/** Writes the timestamp in place, modulo 2^32 since it wraps (section 5.1). */
export function writeTimestamp(packet: Buffer, timestamp: number): void {
  packet.writeUInt32BE(timestamp >>> 0, 4);
}

export function writeSsrc(packet: Buffer, ssrc: number): void {
  packet.writeUInt32BE(ssrc >>> 0, 8);
}

export interface RtpPacketFields {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
  payload: Buffer;
}

/** A packet with the 12-byte fixed header only: no CSRCs, extension or padding. */
export function buildRtpPacket(fields: RtpPacketFields): Buffer {
  const packet = Buffer.alloc(FIXED_HEADER_LENGTH + fields.payload.length);
  packet[0] = RTP_VERSION << 6;
  writePayloadType(packet, fields.payloadType);
  if (fields.marker === true) packet[1] = (packet[1] ?? 0) | 0x80;
  writeSequenceNumber(packet, fields.sequenceNumber);
  writeTimestamp(packet, fields.timestamp);
  writeSsrc(packet, fields.ssrc);
  fields.payload.copy(packet, FIXED_HEADER_LENGTH);
  return packet;
}
