import type { RtcpReportBlock } from './rtcp-report.js';

/** Appendix A.1: a forward jump above this is not a loss run but a restart or a stray. */
const MAX_DROPOUT = 3000;
/** Appendix A.1: a backward step below this is a late or duplicated packet. */
const MAX_MISORDER = 100;
const SEQ_MOD = 0x1_0000;

/**
 * What a receiver tracks about the one source it hears, to fill report
 * blocks (RFC 3550 section 6.4.1) and the endpoint's stats: the sequence
 * bookkeeping of appendix A.1, loss as in A.3 and interarrival jitter as in
 * A.8. The probation of A.1 (a few in-order packets before a new source is
 * believed) is left out: packets only get here from an address the endpoint
 * already accepted, which is a stronger check.
 */
export class RtpReceptionStatistics {
  readonly #clockRate: number;
  #ssrc: number | undefined;
  #baseSeq = 0;
  #maxSeq = 0;
  #cycles = 0;
  #badSeq = SEQ_MOD + 1;
  #received = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  /** A.8 jitter in timestamp units, kept as a float so the 1/16 gain does not round away. */
  #jitter = 0;
  #lastTransit: { arrivalUnits: number; timestamp: number } | undefined;

  constructor(clockRate: number) {
    this.#clockRate = clockRate;
  }

  /** The SSRC of the source, once a packet has been seen. */
  get ssrc(): number | undefined {
    return this.#ssrc;
  }

  /** A.3: packets expected (from the extended sequence range) minus packets received; negative with duplicates. */
  get lost(): number {
    return this.#ssrc === undefined ? 0 : this.#expected() - this.#received;
  }

  get jitterMs(): number {
    return (this.#jitter / this.#clockRate) * 1000;
  }

  /** Records one RTP packet that arrived at `arrivalMs` (any monotonic millisecond clock). */
  update(packet: { ssrc: number; sequenceNumber: number; timestamp: number }, arrivalMs: number): void {
    if (packet.ssrc !== this.#ssrc) this.#restart(packet.ssrc, packet.sequenceNumber);
    else if (!this.#updateSequence(packet.sequenceNumber)) return;
    this.#received++;
    this.#updateJitter(packet.timestamp, arrivalMs);
  }

  /**
   * A report block about the source, or undefined before any packet. The
   * fraction lost covers the interval since the previous call (A.3), so call
   * this once per report sent.
   */
  reportBlock(lastSr: number, delaySinceLastSr: number): RtcpReportBlock | undefined {
    if (this.#ssrc === undefined) return undefined;
    const expected = this.#expected();
    const expectedInterval = expected - this.#expectedPrior;
    const receivedInterval = this.#received - this.#receivedPrior;
    this.#expectedPrior = expected;
    this.#receivedPrior = this.#received;
    const lostInterval = expectedInterval - receivedInterval;
    return {
      ssrc: this.#ssrc,
      fractionLost: expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval),
      cumulativeLost: this.lost,
      extendedHighestSequence: (this.#cycles + this.#maxSeq) >>> 0,
      jitter: Math.floor(this.#jitter),
      lastSr,
      delaySinceLastSr,
    };
  }

  #expected(): number {
    return this.#cycles + this.#maxSeq - this.#baseSeq + 1;
  }

  /** A new SSRC is a new source (a restarted sender picks a new random SSRC, section 8.1): start over. */
  #restart(ssrc: number, sequenceNumber: number): void {
    this.#ssrc = ssrc;
    this.#resync(sequenceNumber);
    this.#jitter = 0;
    this.#lastTransit = undefined;
  }

  /** A.1 init_seq: the counts start over at this sequence number. */
  #resync(sequenceNumber: number): void {
    this.#baseSeq = sequenceNumber;
    this.#maxSeq = sequenceNumber;
    this.#cycles = 0;
    this.#badSeq = SEQ_MOD + 1;
    this.#received = 0;
    this.#expectedPrior = 0;
    this.#receivedPrior = 0;
  }

  /** A.1 update_seq; false when the packet is set aside as a possible stray. */
  #updateSequence(sequenceNumber: number): boolean {
    const delta = (sequenceNumber - this.#maxSeq + SEQ_MOD) % SEQ_MOD;
    if (delta < MAX_DROPOUT) {
      // In order, possibly with a gap; a smaller number than the maximum means the 16 bits wrapped.
      if (sequenceNumber < this.#maxSeq) this.#cycles += SEQ_MOD;
      this.#maxSeq = sequenceNumber;
    } else if (delta <= SEQ_MOD - MAX_MISORDER) {
      // A big jump. Twice in a row, from consecutive numbers, means the sender restarted its sequence.
      if (sequenceNumber !== this.#badSeq) {
        this.#badSeq = (sequenceNumber + 1) % SEQ_MOD;
        return false;
      }
      this.#resync(sequenceNumber);
    }
    // Otherwise a duplicate or a late packet: counted as received, the maximum unchanged.
    return true;
  }

  /**
   * A.8: the difference D between two packets' spacing on arrival and their
   * spacing in RTP time, smoothed with gain 1/16. Computed from deltas rather
   * than absolute transit times so the 32-bit timestamp can wrap.
   */
  #updateJitter(timestamp: number, arrivalMs: number): void {
    const arrivalUnits = (arrivalMs * this.#clockRate) / 1000;
    const last = this.#lastTransit;
    this.#lastTransit = { arrivalUnits, timestamp };
    if (last === undefined) return;
    const timestampDelta = (timestamp - last.timestamp) | 0;
    const d = Math.abs(arrivalUnits - last.arrivalUnits - timestampDelta);
    this.#jitter += (d - this.#jitter) / 16;
  }
}
