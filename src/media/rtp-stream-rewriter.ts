import { parseRtpHeader, writePayloadType, writeSequenceNumber, writeSsrc, writeTimestamp } from './rtp-packet.js';

/**
 * Rewrites one direction of RTP into a single continuous stream: one SSRC,
 * sequence numbers and timestamps that carry on across a change of the
 * source's SSRC (a phone re-INVITEd after hold often restarts its stream),
 * and payload types renumbered to what the receiving leg negotiated.
 *
 * Receivers (browsers above all) treat a new SSRC as a new stream and a jump
 * in sequence numbers as loss; keeping them continuous avoids both.
 */
export class RtpStreamRewriter {
  readonly #ssrc: number;
  readonly #clockRate: number;
  readonly #payloadTypes: Map<number, number>;
  #sourceSsrc: number | undefined;
  #seqOffset = 0;
  #tsOffset = 0;
  #lastSeq: number | undefined;
  #lastTs = 0;
  #lastSentAt = 0;

  constructor(options: { ssrc: number; clockRate: number; payloadTypes: Map<number, number> }) {
    this.#ssrc = options.ssrc;
    this.#clockRate = options.clockRate;
    this.#payloadTypes = options.payloadTypes;
  }

  get ssrc(): number {
    return this.#ssrc;
  }

  /**
   * Rewrites `packet` in place; returns false (packet to be dropped) when its
   * payload type was not negotiated for this direction.
   */
  rewrite(packet: Buffer, now = performance.now()): boolean {
    const header = parseRtpHeader(packet);
    if (!header) return false;
    const payloadType = this.#payloadTypes.get(header.payloadType);
    if (payloadType === undefined) return false;
    if (header.ssrc !== this.#sourceSsrc) this.#onNewSource(header.ssrc, header.sequenceNumber, header.timestamp, now);
    const seq = (header.sequenceNumber + this.#seqOffset) & 0xffff;
    const ts = (header.timestamp + this.#tsOffset) >>> 0;
    writePayloadType(packet, payloadType);
    writeSequenceNumber(packet, seq);
    writeTimestamp(packet, ts);
    writeSsrc(packet, this.#ssrc);
    if (this.#lastSeq === undefined || isNewer(seq, this.#lastSeq)) {
      this.#lastSeq = seq;
      this.#lastTs = ts;
      this.#lastSentAt = now;
    }
    return true;
  }

  /**
   * Reserves the next sequence number and the current media time for a packet
   * the gateway makes itself (generated DTMF); forwarded packets after it are
   * shifted so the sequence stays gap-free.
   */
  nextGenerated(now = performance.now()): { sequenceNumber: number; timestamp: number } {
    const seq = ((this.#lastSeq ?? 0) + 1) & 0xffff;
    this.#seqOffset = (this.#seqOffset + 1) & 0xffff;
    this.#lastSeq = seq;
    return { sequenceNumber: seq, timestamp: this.mediaTime(now) };
  }

  /** The RTP timestamp that corresponds to `now`, extrapolated from the last packet sent. */
  mediaTime(now = performance.now()): number {
    if (this.#lastSentAt === 0) return this.#lastTs;
    return (this.#lastTs + Math.round(((now - this.#lastSentAt) * this.#clockRate) / 1000)) >>> 0;
  }

  #onNewSource(ssrc: number, seq: number, ts: number, now: number): void {
    if (this.#sourceSsrc !== undefined) {
      // Continue right after the last packet sent, with the timestamp advanced by the time elapsed.
      const nextSeq = ((this.#lastSeq ?? 0) + 1) & 0xffff;
      this.#seqOffset = (nextSeq - seq) & 0xffff;
      this.#tsOffset = (this.mediaTime(now) - ts) >>> 0;
    }
    this.#sourceSsrc = ssrc;
  }
}

/** RFC 3550 sequence comparison with wrap-around. */
function isNewer(a: number, b: number): boolean {
  return a !== b && ((a - b) & 0xffff) < 0x8000;
}
