import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { parse, type MediaDescription } from 'sdp-transform';
import { makeTone } from '../media/audio-analysis.js';
import { encodePcma, encodePcmu } from '../media/g711.js';
import { buildRtpPacket } from '../media/rtp-packet.js';
import { dtmfPackets, type DtmfPacket } from '../media/telephone-event.js';
import { RtpReceiveMeter, type PayloadKind, type RtpReceiveMeasurements } from './rtp-receive-meter.js';

export type ToneCodecName = 'PCMU' | 'PCMA';

export interface RtpTonePeerOptions {
  host?: string;
  /** Offered in this order; unusual payload type numbers exercise the gateway's renumbering. */
  codecs?: { name: ToneCodecName; payloadType: number }[];
  telephoneEventPayloadType?: number;
  toneHz?: number;
  /** Peak level, fraction of full scale. */
  amplitude?: number;
  /** 'timestamp': each payload starts with the send time (hrtime ns, BigUInt64BE), for latency benchmarks. */
  payload?: 'tone' | 'timestamp';
}

/** What the peer measured on the stream it receives. */
export type RtpTonePeerMeasurements = RtpReceiveMeasurements;

/** G.711 only, so one clock: 8 kHz, 20 ms packets of 160 samples (RFC 3551 section 4.5.14). */
const CLOCK_RATE = 8000;
const PTIME_MS = 20;
const SAMPLES_PER_PACKET = (CLOCK_RATE * PTIME_MS) / 1000;
/** After a stall longer than this, the sender skips ahead instead of bursting the missed packets. */
const MAX_CATCH_UP_MS = 100;

/**
 * A plain-RTP audio peer like a desk phone's media stack, for tests and
 * benchmarks: a real UDP socket, SDP offer/answer (RFC 3264) over RTP/AVP,
 * a G.711 sine tone at 50 packets/s, RFC 4733 DTMF, and measurements of what
 * it receives. It accepts packets from anyone: it is the thing under the
 * gateway's scrutiny, not a gatekeeper.
 */
export class RtpTonePeer {
  readonly host: string;
  readonly ssrc = randomBytes(4).readUInt32BE(0);
  readonly #socket: Socket;
  readonly #codecs: { name: ToneCodecName; payloadType: number }[];
  readonly #telephoneEventPayloadType: number;
  readonly #mode: 'tone' | 'timestamp';
  readonly #tone: (count: number) => Int16Array;
  readonly #meter: RtpReceiveMeter;
  #remote: { address: string; port: number } | undefined;
  #send: { codec: ToneCodecName; payloadType: number; telephoneEventPayloadType: number | undefined } | undefined;
  #sequenceNumber = randomBytes(2).readUInt16BE(0);
  #timestamp = randomBytes(4).readUInt32BE(0);
  #audioOn = false;
  #sending = true;
  #closed = false;
  #markNext = false;
  #timer: NodeJS.Timeout | undefined;
  #nextTickAt = 0;
  #stoppedAt: number | undefined;
  readonly #dtmfQueue: { packets: DtmfPacket[]; sent: number; timestamp?: number; done: () => void }[] = [];

  private constructor(socket: Socket, host: string, options: RtpTonePeerOptions) {
    this.#socket = socket;
    this.host = host;
    this.#codecs = options.codecs ?? [{ name: 'PCMU', payloadType: 0 }];
    if (this.#codecs.length === 0) throw new RangeError('at least one codec');
    this.#telephoneEventPayloadType = options.telephoneEventPayloadType ?? 101;
    this.#mode = options.payload ?? 'tone';
    this.#tone = makeTone({ frequency: options.toneHz ?? 440, sampleRate: CLOCK_RATE, amplitude: options.amplitude ?? 0.3 });
    this.#meter = new RtpReceiveMeter({ timestampMode: this.#mode === 'timestamp' });
    // Until an answer of ours says otherwise, arriving payload types mean what our offer says.
    for (const codec of this.#codecs) this.#meter.payloadKinds.set(codec.payloadType, codec.name);
    this.#meter.payloadKinds.set(this.#telephoneEventPayloadType, 'telephone-event');
    socket.on('message', (packet) => this.#meter.take(packet));
  }

  static async create(options: RtpTonePeerOptions = {}): Promise<RtpTonePeer> {
    const host = options.host ?? '127.0.0.1';
    const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new RtpTonePeer(socket, host, options);
  }

  get localPort(): number {
    return this.#socket.address().port;
  }

  /** An RTP/AVP offer of our codecs and telephone-event (the events parameter of RFC 4733 section 2.4.1: DTMF 0-15). */
  offerSdp(): string {
    const codecs = this.#codecs.map((c) => ({ payloadType: c.payloadType, encoding: `${c.name}/${CLOCK_RATE}` }));
    codecs.push({ payloadType: this.#telephoneEventPayloadType, encoding: `telephone-event/${CLOCK_RATE}` });
    return this.#sdp(codecs, 'sendrecv');
  }

  /** Answers with the first of our codecs the offer has, in the offer's numbering (RFC 3264 section 6.1). */
  answerSdp(offerSdp: string): string {
    const { media, address, direction } = audioSection(offerSdp);
    const offered = (name: string): number | undefined =>
      media.rtp.find((r) => r.codec.toUpperCase() === name.toUpperCase() && (r.rate ?? CLOCK_RATE) === CLOCK_RATE)?.payload;
    const codec = this.#codecs.map((c) => ({ name: c.name, payloadType: offered(c.name) })).find((c) => c.payloadType !== undefined);
    if (codec?.payloadType === undefined) throw new Error(`no common codec in the offer (${this.#codecs.map((c) => c.name).join(', ')})`);
    const eventType = offered('telephone-event');
    this.#meter.payloadKinds = new Map<number, PayloadKind>([[codec.payloadType, codec.name]]);
    if (eventType !== undefined) this.#meter.payloadKinds.set(eventType, 'telephone-event');
    this.#remote = { address, port: media.port };
    this.#send = { codec: codec.name, payloadType: codec.payloadType, telephoneEventPayloadType: eventType };
    // RFC 3264 section 6.1: the answer mirrors the offer's direction.
    const answered = { sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive', sendrecv: 'sendrecv' }[direction];
    this.#sending = answered === 'sendrecv' || answered === 'sendonly';
    const codecs = [{ payloadType: codec.payloadType, encoding: `${codec.name}/${CLOCK_RATE}` }];
    if (eventType !== undefined) codecs.push({ payloadType: eventType, encoding: `telephone-event/${CLOCK_RATE}` });
    return this.#sdp(codecs, answered);
  }

  /** Takes the answer to our offer: where to send, and with which of the answer's numbers. */
  setRemoteFromAnswer(answerSdp: string): void {
    const { media, address, direction } = audioSection(answerSdp);
    const names = new Set<string>(this.#codecs.map((c) => c.name));
    const chosen = media.rtp.find((r) => names.has(r.codec.toUpperCase()));
    if (chosen === undefined) throw new Error('the answer has none of our codecs');
    const eventType = media.rtp.find((r) => r.codec.toLowerCase() === 'telephone-event')?.payload;
    this.#remote = { address, port: media.port };
    this.#send = { codec: chosen.codec.toUpperCase() as ToneCodecName, payloadType: chosen.payload, telephoneEventPayloadType: eventType };
    this.#sending = direction !== 'sendonly' && direction !== 'inactive';
  }

  /** Sets the far end directly, without SDP; payload types default to our first codec and telephone-event type. */
  setRemote(remote: { address: string; port: number; payloadType?: number; telephoneEventPayloadType?: number }): void {
    const first = this.#codecs[0]!;
    this.#remote = { address: remote.address, port: remote.port };
    this.#send = {
      codec: first.name,
      payloadType: remote.payloadType ?? first.payloadType,
      telephoneEventPayloadType: remote.telephoneEventPayloadType ?? this.#telephoneEventPayloadType,
    };
  }

  /** Mute/unmute: while off, the RTP clock keeps running but nothing is sent. */
  setSending(on: boolean): void {
    this.#sending = on;
  }

  start(): void {
    if (this.#send === undefined) throw new Error('no remote yet: answer an offer, take an answer, or setRemote');
    if (this.#closed) throw new Error('the tone peer is closed');
    if (this.#audioOn) return;
    this.#audioOn = true;
    // RFC 3551 section 4.1: the marker flags the first packet of a talkspurt.
    this.#markNext = true;
    this.#ensureTicking();
  }

  stop(): void {
    this.#audioOn = false;
  }

  /** Sends one digit as RFC 4733 events, in place of audio for its duration; resolves when the last packet is out. */
  sendDtmf(digit: string): Promise<void> {
    if (this.#send?.telephoneEventPayloadType === undefined) throw new Error('telephone-event was not negotiated');
    const packets = dtmfPackets(digit, { clockRate: CLOCK_RATE, ptimeMs: PTIME_MS });
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#dtmfQueue.push({ packets, sent: 0, done: resolve });
      this.#ensureTicking();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#audioOn = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const pending of this.#dtmfQueue.splice(0)) pending.done();
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }

  get received(): RtpTonePeerMeasurements {
    return this.#meter.measurements;
  }

  #ensureTicking(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const now = performance.now();
    // Keep the RTP clock in step with real time across a pause (RFC 3550 section 5.1: timestamps follow the sampling clock).
    if (this.#stoppedAt !== undefined) {
      this.#timestamp = (this.#timestamp + Math.round(((now - this.#stoppedAt) * CLOCK_RATE) / 1000)) >>> 0;
      this.#stoppedAt = undefined;
    }
    this.#nextTickAt = now;
    this.#tick();
  }

  /** Sends every packet that is due, then sleeps until the next one: the schedule, not the timer, sets the rate. */
  #tick(): void {
    const now = performance.now();
    if (now - this.#nextTickAt > MAX_CATCH_UP_MS) this.#nextTickAt = now;
    while (this.#nextTickAt <= now) {
      this.#sendDue();
      this.#nextTickAt += PTIME_MS;
    }
    if (this.#audioOn || this.#dtmfQueue.length > 0) {
      this.#timer = setTimeout(() => this.#tick(), Math.max(0, this.#nextTickAt - performance.now()));
    } else {
      this.#timer = undefined;
      this.#stoppedAt = this.#nextTickAt;
    }
  }

  #sendDue(): void {
    const send = this.#send;
    const dtmf = this.#dtmfQueue[0];
    if (send !== undefined && dtmf !== undefined) {
      // Every packet of one event carries the event's start timestamp (RFC 4733 section 2.2.1).
      dtmf.timestamp ??= this.#timestamp;
      const event = dtmf.packets[dtmf.sent++]!;
      this.#transmit(send.telephoneEventPayloadType ?? 0, dtmf.timestamp, event.marker, event.payload);
      if (dtmf.sent === dtmf.packets.length) {
        this.#dtmfQueue.shift();
        dtmf.done();
      }
    } else if (send !== undefined && this.#audioOn) {
      const samples = this.#tone(SAMPLES_PER_PACKET);
      const payload = send.codec === 'PCMU' ? encodePcmu(samples) : encodePcma(samples);
      if (this.#mode === 'timestamp') payload.writeBigUInt64BE(process.hrtime.bigint(), 0);
      this.#transmit(send.payloadType, this.#timestamp, this.#markNext, payload);
      this.#markNext = false;
    }
    this.#timestamp = (this.#timestamp + SAMPLES_PER_PACKET) >>> 0;
  }

  #transmit(payloadType: number, timestamp: number, marker: boolean, payload: Buffer): void {
    const remote = this.#remote;
    if (!this.#sending || remote === undefined) return;
    const sequenceNumber = this.#sequenceNumber;
    this.#sequenceNumber = (sequenceNumber + 1) & 0xffff;
    const packet = buildRtpPacket({ payloadType, sequenceNumber, timestamp, ssrc: this.ssrc, marker, payload });
    this.#socket.send(packet, remote.port, remote.address);
  }

  #sdp(codecs: { payloadType: number; encoding: string }[], direction: string): string {
    const ipVersion = isIPv6(this.host) ? 'IP6' : 'IP4';
    const lines = [
      'v=0',
      `o=- ${this.ssrc} 1 IN ${ipVersion} ${this.host}`,
      's=rtp-tone-peer',
      `c=IN ${ipVersion} ${this.host}`,
      't=0 0',
      `m=audio ${this.localPort} RTP/AVP ${codecs.map((c) => c.payloadType).join(' ')}`,
      ...codecs.map((c) => `a=rtpmap:${c.payloadType} ${c.encoding}`),
      ...codecs.filter((c) => c.encoding.startsWith('telephone-event')).map((c) => `a=fmtp:${c.payloadType} 0-15`),
      `a=ptime:${PTIME_MS}`,
      `a=${direction}`,
    ];
    return `${lines.join('\r\n')}\r\n`;
  }
}

type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/**
 * The first audio m= section that was not rejected (port 0, RFC 3264
 * section 6), with its connection address and direction; media-level
 * c= and a= lines override session-level ones (RFC 4566 section 5).
 */
function audioSection(sdp: string): { media: MediaDescription; address: string; direction: Direction } {
  const session = parse(sdp);
  const media = session.media.find((m) => m.type === 'audio' && m.port !== 0);
  const address = media?.connection?.ip ?? session.connection?.ip;
  if (media === undefined || address === undefined) throw new Error('no usable audio section in the SDP');
  return { media, address, direction: media.direction ?? session.direction ?? 'sendrecv' };
}
