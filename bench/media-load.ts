/**
 * The media benchmark's traffic: one pacer that sends every stream's G.711
 * packets at 50 packets/s, timestamped RTP packets, and the meter that turns
 * what arrives into loss and one-way latency over a measurement window.
 *
 * Sender and receiver of every packet are in this one process, so the send
 * time written into the payload (performance.now(), a float64 of ms) and the
 * arrival time come from the same clock: no clock sync is needed.
 */
import { performance } from 'node:perf_hooks';
import { isRtcpPacket, parseRtpHeader } from '../src/media/rtp-packet.js';
import { percentiles, type Percentiles } from './run.js';

/** G.711 at 8 kHz in 20 ms packets: 160 samples, 160 bytes, 50 packets/s. */
export const PTIME_MS = 20;
export const SAMPLES_PER_PACKET = 160;
/**
 * Streams are spread over this many phases of the 20 ms period. Sending all of
 * them at the same instant would make the gateway drain a burst of N packets
 * and bill the queueing to latency; real calls start at random phases.
 */
const PHASES = 10;
/** After a stall longer than this the pacer skips ahead rather than bursting the backlog. */
const MAX_CATCH_UP_MS = 100;

/** The header fields of one outgoing RTP stream; sequence and timestamp advance per packet. */
export interface RtpStream {
  payloadType: number;
  ssrc: number;
  sequenceNumber: number;
  timestamp: number;
  marker: boolean;
}

export function newRtpStream(payloadType: number): RtpStream {
  const random = (bits: number): number => Math.floor(Math.random() * 2 ** bits);
  return { payloadType, ssrc: random(32) || 1, sequenceNumber: random(16), timestamp: random(32), marker: true };
}

/**
 * The next packet of `stream`: a 12-byte header and a 160-byte PCMU payload
 * (0xff is PCMU silence) whose first 8 bytes are the send time. A fresh buffer
 * each time: dgram may send after this returns, so a reused one could change
 * under it.
 */
export function timestampedRtp(stream: RtpStream, sentAt: number): Buffer {
  const packet = Buffer.allocUnsafe(12 + SAMPLES_PER_PACKET);
  packet[0] = 0x80;
  packet[1] = (stream.marker ? 0x80 : 0) | stream.payloadType;
  packet.writeUInt16BE(stream.sequenceNumber, 2);
  packet.writeUInt32BE(stream.timestamp >>> 0, 4);
  packet.writeUInt32BE(stream.ssrc >>> 0, 8);
  packet.writeDoubleBE(sentAt, 12);
  packet.fill(0xff, 20);
  stream.marker = false;
  stream.sequenceNumber = (stream.sequenceNumber + 1) & 0xffff;
  stream.timestamp = (stream.timestamp + SAMPLES_PER_PACKET) >>> 0;
  return packet;
}

/** The send time carried by a timestamped RTP packet; undefined for RTCP and anything else. */
export function sentAtOf(packet: Buffer): number | undefined {
  if (isRtcpPacket(packet)) return undefined;
  const header = parseRtpHeader(packet);
  if (header === undefined || packet.length < header.headerLength + 8) return undefined;
  return packet.readDoubleBE(header.headerLength);
}

/**
 * Calls every registered sender once per 20 ms, each in one of PHASES phases
 * (round robin), from a single timer whose schedule, not its firing, sets the
 * rate: a late tick sends what is due at once (drift correction).
 */
export class Pacer {
  readonly #phases: Set<() => void>[] = Array.from({ length: PHASES }, () => new Set());
  #nextPhase = 0;
  #phase = 0;
  #nextAt = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Called with how late each tick fired (ms): the driver's own delay, reported next to the gateway's. */
  onLateness: ((ms: number) => void) | undefined;
  stalls = 0;

  add(send: () => void): () => void {
    const phase = this.#phases[this.#nextPhase]!;
    this.#nextPhase = (this.#nextPhase + 1) % PHASES;
    phase.add(send);
    return () => phase.delete(send);
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#nextAt = performance.now();
    this.#tick();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const now = performance.now();
    this.onLateness?.(now - this.#nextAt);
    if (now - this.#nextAt > MAX_CATCH_UP_MS) {
      this.stalls += 1;
      this.#nextAt = now;
    }
    while (this.#nextAt <= now) {
      for (const send of this.#phases[this.#phase]!) send();
      this.#phase = (this.#phase + 1) % PHASES;
      this.#nextAt += PTIME_MS / PHASES;
    }
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, this.#nextAt - performance.now()));
  }
}

/** up: browser -> gateway -> phone (or A -> relay -> B); down: the other way. */
export type Direction = 'up' | 'down';

export interface DirectionFigures {
  sent: number;
  received: number;
  lossPct: number;
  latencyMs: Percentiles;
}

export interface WindowFigures {
  up: DirectionFigures;
  down: DirectionFigures;
  /** Lateness of the pacer's ticks in the window: how busy the driver was. */
  pacerLatenessMs: Percentiles;
}

/**
 * Loss and latency of the packets *sent* inside a window: a packet counts for
 * the window by the send time it carries, so packets in flight at the edges
 * are neither lost nor double-counted (the window is read after a grace time).
 */
export class LoadMeter {
  #from = Infinity;
  #to = -Infinity;
  #counts = { up: freshCounts(), down: freshCounts() };
  #lateness: number[] = [];
  /** Every packet received so far, in or out of a window (for call setup). */
  readonly totals = { up: 0, down: 0 };

  /** Starts a window of `durationMs` from now; earlier counts are dropped. */
  begin(durationMs: number): void {
    this.#from = performance.now();
    this.#to = this.#from + durationMs;
    this.#counts = { up: freshCounts(), down: freshCounts() };
    this.#lateness = [];
  }

  get windowEnd(): number {
    return this.#to;
  }

  sent(direction: Direction, at: number): void {
    if (at >= this.#from && at < this.#to) this.#counts[direction].sent += 1;
  }

  received(direction: Direction, packet: Buffer): void {
    const sentAt = sentAtOf(packet);
    if (sentAt === undefined) return;
    this.totals[direction] += 1;
    if (sentAt < this.#from || sentAt >= this.#to) return;
    const counts = this.#counts[direction];
    counts.received += 1;
    counts.latencyMs.push(performance.now() - sentAt);
  }

  lateness(ms: number): void {
    const now = performance.now();
    if (now >= this.#from && now < this.#to) this.#lateness.push(ms);
  }

  figures(): WindowFigures {
    const direction = (d: Direction): DirectionFigures => {
      const { sent, received, latencyMs } = this.#counts[d];
      return { sent, received, lossPct: sent === 0 ? NaN : (100 * Math.max(0, sent - received)) / sent, latencyMs: percentiles(latencyMs) };
    };
    return { up: direction('up'), down: direction('down'), pacerLatenessMs: percentiles(this.#lateness) };
  }
}

function freshCounts(): { sent: number; received: number; latencyMs: number[] } {
  return { sent: 0, received: 0, latencyMs: [] };
}
