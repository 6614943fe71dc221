import { TypedEmitter } from '../events/typed-emitter.js';
import type { NegotiatedAudio } from './codecs.js';
import { buildRtpPacket, parseRtpHeader, type RtpHeader } from './rtp-packet.js';
import { RtpReceptionStatistics } from './rtp-reception-statistics.js';
import { RtpStreamRewriter } from './rtp-stream-rewriter.js';
import { dtmfPackets, TelephoneEventReceiver } from './telephone-event.js';

/** What the forwarder needs of an endpoint: RTP out, and RTP in as events. */
export interface RtpPort {
  on(event: 'rtp', listener: (packet: Buffer) => void): unknown;
  off(event: 'rtp', listener: (packet: Buffer) => void): unknown;
  sendRtp(packet: Buffer): void;
}

/** One side of a forwarded call: its endpoint and the codec numbering it negotiated. */
export interface ForwarderSide {
  port: RtpPort;
  codecs: NegotiatedAudio;
  /** SSRC this side receives from the gateway (declared in its SDP, where there is one). */
  ssrc: number;
}

export interface DirectionCounters {
  packets: number;
  bytes: number;
  /** Payload types the receiving side did not negotiate (comfort noise, stray codecs). */
  dropped: number;
  /** Packets not forwarded because the receiving side is on hold. */
  held: number;
  dtmfGenerated: number;
}

export type RtpForwarderEvents = {
  /** A complete RFC 4733 digit arrived from side `from`. */
  dtmf: [from: 'a' | 'b', digit: string];
  listenererror: [event: string, error: unknown];
};

type SideName = 'a' | 'b';

/**
 * Joins two media endpoints: every RTP packet from one side goes to the other
 * with its payload type renumbered, its SSRC, sequence and timestamp made
 * continuous (RtpStreamRewriter), unless the receiving side does not want
 * media (hold). RFC 4733 events pass through (renumbered like audio), are
 * recognised as digits, and can be generated on request. RTCP is not
 * forwarded: each endpoint terminates its own.
 */
export class RtpForwarder extends TypedEmitter<RtpForwarderEvents> {
  readonly #sides: Record<SideName, ForwarderSide>;
  readonly #rewriters: Record<SideName, RtpStreamRewriter>;
  readonly #receivers: Record<SideName, TelephoneEventReceiver> = {
    a: new TelephoneEventReceiver(),
    b: new TelephoneEventReceiver(),
  };
  readonly #listeners: Record<SideName, (packet: Buffer) => void>;
  readonly #receiving: Record<SideName, boolean> = { a: true, b: true };
  readonly #dtmfQueue: Record<SideName, Promise<void>> = { a: Promise.resolve(), b: Promise.resolve() };
  readonly counters: Record<'aToB' | 'bToA', DirectionCounters> = { aToB: emptyCounters(), bToA: emptyCounters() };
  /** Loss and jitter of what each side sends (RFC 3550 A.3, A.8), for every kind of leg alike: the quality metrics. */
  readonly #reception: Record<SideName, RtpReceptionStatistics>;
  #closed = false;

  constructor(a: ForwarderSide, b: ForwarderSide) {
    super();
    this.#sides = { a, b };
    // The rewriter for packets going to side X uses X's SSRC and maps the sender's numbers to X's.
    this.#rewriters = { a: rewriterTowards(b, a), b: rewriterTowards(a, b) };
    this.#reception = { a: new RtpReceptionStatistics(a.codecs.audio.clockRate), b: new RtpReceptionStatistics(b.codecs.audio.clockRate) };
    this.#listeners = { a: (packet) => this.#forward('a', packet), b: (packet) => this.#forward('b', packet) };
    a.port.on('rtp', this.#listeners.a);
    b.port.on('rtp', this.#listeners.b);
  }

  /**
   * Side `side` goes on through another endpoint (the anchor answered an ICE restart with a new
   * one that sends the same SSRC): the streams and their numbering go on as they were.
   */
  replacePort(side: SideName, port: RtpPort): void {
    if (this.#closed) return;
    this.#sides[side].port.off('rtp', this.#listeners[side]);
    this.#sides[side] = { ...this.#sides[side], port };
    port.on('rtp', this.#listeners[side]);
  }

  /** Whether side `side` gets media (false while it holds the call or put it inactive). */
  setReceiving(side: SideName, receiving: boolean): void {
    this.#receiving[side] = receiving;
  }

  /** Sends `digits` as RFC 4733 events to `side`; false when that side has no telephone-event. */
  sendDtmf(side: SideName, digits: string): boolean {
    const dtmf = this.#sides[side].codecs.dtmf;
    if (!dtmf || this.#closed) return false;
    for (const digit of digits) {
      this.#dtmfQueue[side] = this.#dtmfQueue[side].then(() => this.#playDigit(side, digit, dtmf.payloadType, dtmf.clockRate));
    }
    return true;
  }

  /** Packets side `from` sent that never arrived, and the interarrival jitter of its stream (RFC 3550 A.3, A.8). */
  reception(from: SideName): { lost: number; jitterMs: number } {
    const statistics = this.#reception[from];
    return { lost: Math.max(0, statistics.lost), jitterMs: statistics.jitterMs };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sides.a.port.off('rtp', this.#listeners.a);
    this.#sides.b.port.off('rtp', this.#listeners.b);
    this.removeAllListeners();
  }

  #forward(from: SideName, packet: Buffer): void {
    const to: SideName = from === 'a' ? 'b' : 'a';
    const counters = from === 'a' ? this.counters.aToB : this.counters.bToA;
    const header = parseRtpHeader(packet);
    if (header) {
      this.#reception[from].update(header, performance.now());
      this.#detectDtmf(from, packet, header);
    }
    if (!this.#receiving[to]) {
      counters.held += 1;
      return;
    }
    if (!this.#rewriters[to].rewrite(packet)) {
      counters.dropped += 1;
      return;
    }
    counters.packets += 1;
    counters.bytes += packet.length;
    this.#sides[to].port.sendRtp(packet);
  }

  #detectDtmf(from: SideName, packet: Buffer, header: RtpHeader): void {
    const dtmf = this.#sides[from].codecs.dtmf;
    if (!dtmf || header.payloadType !== dtmf.payloadType) return;
    const digit = this.#receivers[from].push(header.timestamp, packet.subarray(header.headerLength));
    if (digit) this.safeEmit('dtmf', from, digit);
  }

  async #playDigit(side: SideName, digit: string, payloadType: number, clockRate: number): Promise<void> {
    const rewriter = this.#rewriters[side];
    const counters = side === 'b' ? this.counters.aToB : this.counters.bToA;
    const packets = dtmfPackets(digit, { clockRate });
    // RFC 4733 section 2.5.1.2: every packet of one event carries the event's start timestamp.
    let timestamp: number | undefined;
    for (const [index, event] of packets.entries()) {
      if (this.#closed) return;
      const next = rewriter.nextGenerated();
      timestamp ??= next.timestamp;
      this.#sides[side].port.sendRtp(
        buildRtpPacket({
          payloadType,
          sequenceNumber: next.sequenceNumber,
          timestamp,
          ssrc: rewriter.ssrc,
          marker: event.marker,
          payload: event.payload,
        }),
      );
      counters.dtmfGenerated += 1;
      // Packets every 20 ms like the audio they stand in for; the retransmitted end packets go together.
      const last = index === packets.length - 1;
      if (!last && packets[index + 1]!.durationSamples !== event.durationSamples) await delay(20);
    }
    await delay(50); // RFC 4733 section 2.5.1.6: a short gap before the next event.
  }
}

function rewriterTowards(sender: ForwarderSide, receiver: ForwarderSide): RtpStreamRewriter {
  const payloadTypes = new Map<number, number>([[sender.codecs.audio.payloadType, receiver.codecs.audio.payloadType]]);
  if (sender.codecs.dtmf && receiver.codecs.dtmf) {
    payloadTypes.set(sender.codecs.dtmf.payloadType, receiver.codecs.dtmf.payloadType);
  }
  return new RtpStreamRewriter({ ssrc: receiver.ssrc, clockRate: receiver.codecs.audio.clockRate, payloadTypes });
}

function emptyCounters(): DirectionCounters {
  return { packets: 0, bytes: 0, dropped: 0, held: 0, dtmfGenerated: 0 };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
