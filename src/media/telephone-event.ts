/**
 * DTMF as RTP named telephone events (RFC 4733). Payload (section 2.3):
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  |     event     |E|R| volume    |          duration             |
 */

export interface TelephoneEvent {
  /** Event code; 0-15 are the DTMF digits (section 3.2). */
  event: number;
  /** E bit: this packet ends the event. */
  end: boolean;
  /** Power level as a positive number of -dBm0, 0..63 (section 2.3.4). */
  volume: number;
  /** Length of the event so far, in RTP timestamp units (section 2.3.5). */
  duration: number;
}

const PAYLOAD_LENGTH = 4;

export function encodeTelephoneEvent(e: TelephoneEvent): Buffer {
  if (!Number.isInteger(e.event) || e.event < 0 || e.event > 255) throw new RangeError(`event must be 0..255, got ${e.event}`);
  if (!Number.isInteger(e.volume) || e.volume < 0 || e.volume > 63) throw new RangeError(`volume must be 0..63, got ${e.volume}`);
  if (!Number.isInteger(e.duration) || e.duration < 0 || e.duration > 0xffff) {
    throw new RangeError(`duration must be 0..65535, got ${e.duration}`);
  }
  const payload = Buffer.alloc(PAYLOAD_LENGTH);
  payload[0] = e.event;
  // The R bit is reserved: sent as zero, ignored on receipt (section 2.3.3).
  payload[1] = (e.end ? 0x80 : 0) | e.volume;
  payload.writeUInt16BE(e.duration, 2);
  return payload;
}

/** Undefined for a payload shorter than one event; extra bytes (redundancy, RFC 2198) are not looked at. */
export function decodeTelephoneEvent(payload: Buffer): TelephoneEvent | undefined {
  if (payload.length < PAYLOAD_LENGTH) return undefined;
  const flags = payload[1] ?? 0;
  return {
    event: payload[0] ?? 0,
    end: (flags & 0x80) !== 0,
    volume: flags & 0x3f,
    duration: payload.readUInt16BE(2),
  };
}

/** Section 3.2, table 1: the sixteen DTMF events in code order. */
const DTMF_DIGITS = '0123456789*#ABCD';

export function digitToEvent(digit: string): number {
  const code = digit.length === 1 ? DTMF_DIGITS.indexOf(digit) : -1;
  if (code < 0) throw new TypeError(`not a DTMF digit: ${JSON.stringify(digit)}`);
  return code;
}

export function eventToDigit(event: number): string | undefined {
  return Number.isInteger(event) ? DTMF_DIGITS[event] : undefined;
}

export interface DtmfPacketOptions {
  clockRate: number;
  /** Tone length; 100 ms is comfortably above the 40 ms minimum of ITU-T Q.24. */
  durationMs?: number;
  /** Interval between updates, normally the audio packetization time. */
  ptimeMs?: number;
}

export interface DtmfPacket {
  payload: Buffer;
  marker: boolean;
  durationSamples: number;
}

/** -10 dBm0: a typical DTMF level, well inside the -36..0 range receivers accept. */
const DEFAULT_VOLUME = 10;
/** Section 2.5.1.4: the final packet is sent three times in all, in case one is lost. */
const END_PACKET_COPIES = 3;

/**
 * The payloads of one event, to be sent one per `ptimeMs`, all with the same
 * RTP timestamp (the event's start, section 2.2.1) and consecutive sequence
 * numbers. The first carries the marker bit (section 2.2.2); each update
 * reports the duration so far (section 2.5.1.2); the last carries the E bit
 * and the full duration and is repeated (section 2.5.1.4).
 */
export function dtmfPackets(digit: string, options: DtmfPacketOptions): DtmfPacket[] {
  const event = digitToEvent(digit);
  const durationMs = options.durationMs ?? 100;
  const ptimeMs = options.ptimeMs ?? 20;
  if (!(options.clockRate > 0) || !(durationMs > 0) || !(ptimeMs > 0)) {
    throw new RangeError('clockRate, durationMs and ptimeMs must be positive');
  }
  const total = Math.round((options.clockRate * durationMs) / 1000);
  const step = Math.max(1, Math.round((options.clockRate * ptimeMs) / 1000));
  if (total > 0xffff) {
    // Longer events need the segmenting of section 2.5.1.3, which nothing here sends.
    throw new RangeError(`a ${durationMs} ms event does not fit the 16-bit duration field at ${options.clockRate} Hz`);
  }

  const packets: DtmfPacket[] = [];
  for (let duration = step; duration < total; duration += step) {
    packets.push({
      payload: encodeTelephoneEvent({ event, end: false, volume: DEFAULT_VOLUME, duration }),
      marker: packets.length === 0,
      durationSamples: duration,
    });
  }
  const endPayload = encodeTelephoneEvent({ event, end: true, volume: DEFAULT_VOLUME, duration: total });
  for (let copy = 0; copy < END_PACKET_COPIES; copy++) {
    packets.push({ payload: endPayload, marker: packets.length === 0, durationSamples: total });
  }
  return packets;
}

/** Enough remembered events to recognise late retransmissions of the last few. */
const REMEMBERED_EVENTS = 8;

/**
 * Turns a stream of telephone-event payloads into digits, each reported once.
 * An event is identified by its RTP timestamp (section 2.2.1), so updates
 * and the repeated end packets of one event are recognised as such. A digit
 * is reported when its end packet arrives or, if every end packet was lost,
 * when the next event starts (a new timestamp means the previous event is
 * over, section 2.5.2.2).
 */
export class TelephoneEventReceiver {
  #pending: { timestamp: number; event: number } | undefined;
  readonly #finished: number[] = [];

  /** Returns the digit(s) this packet completes: normally one, two if it also reveals that the previous event lost its end. */
  push(timestamp: number, payload: Buffer): string | undefined {
    const decoded = decodeTelephoneEvent(payload);
    if (decoded === undefined || this.#finished.includes(timestamp)) return undefined;

    let completed = '';
    if (this.#pending !== undefined && this.#pending.timestamp !== timestamp) completed += this.flush() ?? '';
    this.#pending = { timestamp, event: decoded.event };
    if (decoded.end) completed += this.flush() ?? '';
    return completed === '' ? undefined : completed;
  }

  /** Reports an event still waiting for its end, e.g. when the stream stops. */
  flush(): string | undefined {
    const pending = this.#pending;
    if (pending === undefined) return undefined;
    this.#pending = undefined;
    this.#finished.push(pending.timestamp);
    if (this.#finished.length > REMEMBERED_EVENTS) this.#finished.shift();
    // Codes past 15 are other tones and signals (RFC 4734, the IANA registry of section 7), not digits.
    return eventToDigit(pending.event);
  }
}
