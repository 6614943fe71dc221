/**
 * The benchmark's plain-RTP party (the "phone"), and the endpoints of the UDP
 * relay reference: one UDP socket on loopback that sends timestamped G.711
 * when the pacer says so and feeds what it receives to the meter.
 *
 * Why not src/testing/RtpTonePeer: it keeps one timer per peer and synthesises,
 * encodes and decodes a tone for every packet, which is right for tests that
 * listen to the audio but costs the driver a large share of a core at 400
 * calls, on a 2-core machine where the driver competes with the gateway. The
 * SDP it answers is the same shape (RFC 3264, RTP/AVP, PCMU + telephone-event).
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { parse } from 'sdp-transform';
import { isRtcpPacket } from '../src/media/rtp-packet.js';
import { newRtpStream, timestampedRtp, type Direction, type LoadMeter, type Pacer, type RtpStream } from './media-load.js';

const HOST = '127.0.0.1';

export class UdpRtpPeer {
  readonly #socket: Socket;
  readonly #meter: LoadMeter;
  /** Which way the packets this peer sends travel. */
  readonly #sends: Direction;
  readonly #stream: RtpStream = newRtpStream(0);
  #remote: { address: string; port: number } | undefined;
  #unpace: (() => void) | undefined;
  #closed = false;
  /** performance.now() when the first packet arrived (call setup: the phone hears the browser). */
  firstReceivedAt: number | undefined;

  private constructor(socket: Socket, meter: LoadMeter, sends: Direction) {
    this.#socket = socket;
    this.#meter = meter;
    this.#sends = sends;
    const receives: Direction = sends === 'up' ? 'down' : 'up';
    socket.on('message', (packet) => {
      if (!isRtcpPacket(packet)) this.firstReceivedAt ??= performance.now();
      meter.received(receives, packet);
    });
    // A send to a port nobody listens on comes back as ECONNREFUSED on Linux; not worth a crash.
    socket.on('error', () => {});
  }

  static async create(meter: LoadMeter, sends: Direction): Promise<UdpRtpPeer> {
    const socket = createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, HOST, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new UdpRtpPeer(socket, meter, sends);
  }

  get port(): number {
    return this.#socket.address().port;
  }

  /**
   * Answers the gateway's RTP/AVP offer with PCMU (and telephone-event when
   * offered), in the offer's numbering, and aims at the offered address.
   */
  answer(offerSdp: string): string {
    const session = parse(offerSdp);
    const media = session.media.find((m) => m.type === 'audio' && m.port !== 0);
    const address = media?.connection?.ip ?? session.connection?.ip;
    if (media === undefined || address === undefined) throw new Error('no usable audio section in the offer');
    const pcmu = media.rtp.find((r) => r.codec.toUpperCase() === 'PCMU')?.payload;
    if (pcmu === undefined) throw new Error('PCMU was not offered');
    const events = media.rtp.find((r) => r.codec.toLowerCase() === 'telephone-event' && r.rate === 8000)?.payload;
    this.setRemote(media.port, pcmu, address);
    return this.#description(pcmu, events);
  }

  /** An RTP/AVP offer of PCMU/0 and telephone-event/101, for a phone that calls (answer with takeAnswer). */
  offer(): string {
    return this.#description(0, 101);
  }

  /** Aims at the address and PCMU payload type of the gateway's answer to offer(). */
  takeAnswer(answerSdp: string): void {
    const session = parse(answerSdp);
    const media = session.media.find((m) => m.type === 'audio' && m.port !== 0);
    const address = media?.connection?.ip ?? session.connection?.ip;
    const pcmu = media?.rtp.find((r) => r.codec.toUpperCase() === 'PCMU')?.payload;
    if (media === undefined || address === undefined || pcmu === undefined) throw new Error('no usable PCMU audio section in the answer');
    this.setRemote(media.port, pcmu, address);
  }

  #description(pcmu: number, events: number | undefined): string {
    return [
      'v=0',
      `o=- ${this.#stream.ssrc} 1 IN IP4 ${HOST}`,
      's=bench-phone',
      `c=IN IP4 ${HOST}`,
      't=0 0',
      `m=audio ${this.port} RTP/AVP ${pcmu}${events === undefined ? '' : ` ${events}`}`,
      `a=rtpmap:${pcmu} PCMU/8000`,
      ...(events === undefined ? [] : [`a=rtpmap:${events} telephone-event/8000`, `a=fmtp:${events} 0-15`]),
      'a=ptime:20',
      'a=sendrecv',
      '',
    ].join('\r\n');
  }

  setRemote(port: number, payloadType = 0, address = HOST): void {
    this.#remote = { address, port };
    this.#stream.payloadType = payloadType;
  }

  /** Starts sending at 50 packets/s on the pacer's schedule. */
  start(pacer: Pacer): void {
    if (this.#closed || this.#unpace) return;
    this.#unpace = pacer.add(() => this.#sendOne());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unpace?.();
    this.#socket.close();
  }

  #sendOne(): void {
    const remote = this.#remote;
    if (remote === undefined) return;
    const now = performance.now();
    this.#meter.sent(this.#sends, now);
    this.#socket.send(timestampedRtp(this.#stream, now), remote.port, remote.address);
  }
}
