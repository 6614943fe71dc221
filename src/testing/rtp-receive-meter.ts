import { goertzelPower } from '../media/audio-analysis.js';
import { decodePcma, decodePcmu } from '../media/g711.js';
import { isRtcpPacket, parseRtpHeader, rtpPayload } from '../media/rtp-packet.js';
import { TelephoneEventReceiver } from '../media/telephone-event.js';

export type PayloadKind = 'PCMU' | 'PCMA' | 'telephone-event';

export interface RtpReceiveMeasurements {
  packets: number;
  bytes: number;
  payloadTypes: Set<number>;
  /** Distinct SSRCs, in the order first seen. */
  ssrcs: number[];
  /** Sequence numbers skipped, summed over SSRCs. */
  sequenceGaps: number;
  /** Of all decoded audio so far. */
  rms: number;
  /** Normalised Goertzel power (1 = full-scale sine) over the last 2 s of decoded audio. */
  tonePower(frequency: number): number;
  /** RFC 4733 digits, each once. */
  digits: string;
  /** Timestamp mode only: receive time minus the send time carried in the payload. */
  latencyNs: number[];
  /** performance.now() of the first RTP packet. */
  firstPacketAt: number | undefined;
  rtcpPackets: number;
}

/** G.711 is 8 kHz (RFC 3551 section 4.5.14). */
const SAMPLE_RATE = 8000;
const ANALYSIS_WINDOW_SAMPLES = 2 * SAMPLE_RATE;
/** The send time a payload starts with in timestamp mode: hrtime nanoseconds, 64 bits. */
const SEND_TIME_BYTES = 8;
/** A "latency" beyond this means the 8 bytes were audio, not a send time. */
const MAX_PLAUSIBLE_LATENCY_NS = 10_000_000_000n;

/**
 * The receiving half of the tone peer: counts and decodes what arrives and
 * keeps the figures tests assert on. Payload types are interpreted with
 * `payloadKinds`, the receiver's side of the SDP negotiation.
 */
export class RtpReceiveMeter {
  payloadKinds = new Map<number, PayloadKind>();
  readonly #timestampMode: boolean;
  readonly #dtmf = new TelephoneEventReceiver();
  readonly #counts = { packets: 0, bytes: 0, sequenceGaps: 0, rtcpPackets: 0, sumOfSquares: 0, sampleCount: 0 };
  readonly #payloadTypes = new Set<number>();
  /** Highest sequence number per SSRC; a Map keeps the SSRCs in first-seen order. */
  readonly #lastSequence = new Map<number, number>();
  readonly #window: Int16Array[] = [];
  readonly #latencyNs: number[] = [];
  #digits = '';
  #firstPacketAt: number | undefined;

  constructor(options: { timestampMode: boolean }) {
    this.#timestampMode = options.timestampMode;
  }

  take(packet: Buffer): void {
    if (isRtcpPacket(packet)) {
      this.#counts.rtcpPackets++;
      return;
    }
    const header = parseRtpHeader(packet);
    if (header === undefined) return;
    this.#counts.packets++;
    this.#counts.bytes += packet.length;
    this.#firstPacketAt ??= performance.now();
    this.#payloadTypes.add(header.payloadType);
    this.#countGap(header.ssrc, header.sequenceNumber);
    const payload = rtpPayload(packet, header);
    const kind = this.payloadKinds.get(header.payloadType);
    if (kind === 'telephone-event') {
      this.#digits += this.#dtmf.push(header.timestamp, payload) ?? '';
    } else if (kind !== undefined) {
      this.#takeAudio(kind === 'PCMU' ? decodePcmu(payload) : decodePcma(payload), payload);
    }
  }

  get measurements(): RtpReceiveMeasurements {
    const c = this.#counts;
    const window = [...this.#window];
    return {
      packets: c.packets,
      bytes: c.bytes,
      payloadTypes: new Set(this.#payloadTypes),
      ssrcs: [...this.#lastSequence.keys()],
      sequenceGaps: c.sequenceGaps,
      rms: c.sampleCount === 0 ? 0 : Math.sqrt(c.sumOfSquares / c.sampleCount),
      tonePower: (frequency) => goertzelPower(concat(window), SAMPLE_RATE, frequency),
      digits: this.#digits,
      latencyNs: [...this.#latencyNs],
      firstPacketAt: this.#firstPacketAt,
      rtcpPackets: c.rtcpPackets,
    };
  }

  #countGap(ssrc: number, sequenceNumber: number): void {
    const last = this.#lastSequence.get(ssrc);
    const step = last === undefined ? 1 : (sequenceNumber - last) & 0xffff;
    // A step back (reordering, duplicates) is not a gap and does not move the high-water mark.
    if (step === 0 || step >= 0x8000) return;
    this.#counts.sequenceGaps += step - 1;
    this.#lastSequence.set(ssrc, sequenceNumber);
  }

  #takeAudio(decoded: Int16Array, payload: Buffer): void {
    let samples = decoded;
    if (this.#timestampMode && payload.length >= SEND_TIME_BYTES) {
      const latency = process.hrtime.bigint() - payload.readBigUInt64BE(0);
      if (latency >= 0n && latency < MAX_PLAUSIBLE_LATENCY_NS) this.#latencyNs.push(Number(latency));
      // Those bytes are not sound.
      samples = decoded.subarray(SEND_TIME_BYTES);
    }
    for (const sample of samples) this.#counts.sumOfSquares += sample * sample;
    this.#counts.sampleCount += samples.length;
    this.#window.push(samples);
    let held = this.#window.reduce((sum, chunk) => sum + chunk.length, 0);
    while (held > ANALYSIS_WINDOW_SAMPLES && this.#window.length > 1) held -= this.#window.shift()?.length ?? 0;
  }
}

function concat(chunks: Int16Array[]): Int16Array {
  const out = new Int16Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
