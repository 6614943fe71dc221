import type { RemoteInfo, Socket } from 'node:dgram';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { TypedEmitter } from '../events/typed-emitter.js';
import type { Logger } from '../logging/logger.js';
import type { PortAllocator } from './port-allocator.js';
import { parseRtcpCompound } from './rtcp-report.js';
import { RtcpReporter } from './rtcp-reporter.js';
import { isRtcpPacket, parseRtpHeader } from './rtp-packet.js';

export type RtpEndpointEvents = {
  rtp: [packet: Buffer];
  rtcp: [packet: Buffer];
  /** Symmetric RTP latched onto this source; replies now go there. */
  latched: [source: string];
  dropped: [source: string];
  close: [];
  /** A listener threw; see TypedEmitter.safeEmit. */
  listenererror: [event: string, error: unknown];
};

/** The far end as negotiated in SDP, plus where its signaling came from. */
export interface RtpRemote {
  address: string;
  port: number;
  /** RFC 3605 a=rtcp; port + 1 when absent (RFC 3550 section 11). */
  rtcpPort?: number;
  /** RFC 5761: RTCP shares the RTP port. */
  rtcpMux: boolean;
  /** Source IP of the signaling, the public side of a NAT the phone may sit behind. */
  signalingAddress?: string;
}

export interface RtpEndpointStats {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  rtcpPacketsIn: number;
  rtcpPacketsOut: number;
  dropped: number;
  lost: number;
  jitterMs: number;
  rttMs: number | undefined;
  latched: string | undefined;
  remote: string | undefined;
}

export interface RtpEndpointOptions {
  host: string;
  ports: PortAllocator;
  logger: Logger;
  /** RTP clock of the session's audio, for jitter and SR timestamps; 8000 for G.711. */
  clockRate?: number;
  /** Report interval; RFC 3550 section 6.2 recommends a 5 s minimum. Tests shorten it. */
  rtcpIntervalMs?: number;
}

type Address = { address: string; port: number };

const DROP_LOG_INTERVAL_MS = 1000;

/**
 * The plain RTP/AVP side of an anchored call: one RTP and one RTCP socket
 * facing a SIP phone. It relays whole packets (the caller rewrites headers)
 * and terminates RTCP, sending its own reports about the stream it receives.
 *
 * Security: media is accepted only from the negotiated address, or, until
 * the first packet, from any port on the negotiated or signaling IP. That
 * first packet latches the endpoint to its source (symmetric RTP, RFC 4961,
 * the usual answer to NAT in front of a phone); after that nothing else is
 * accepted, so a third party cannot inject audio into the call.
 */
export class RtpEndpoint extends TypedEmitter<RtpEndpointEvents> {
  readonly localPort: number;
  readonly host: string;
  readonly #rtpSocket: Socket;
  readonly #rtcpSocket: Socket;
  readonly #ports: PortAllocator;
  readonly #logger: Logger;
  readonly #rtcp: RtcpReporter;
  readonly #reportTimer: NodeJS.Timeout;
  readonly #counters = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, rtcpIn: 0, rtcpOut: 0, dropped: 0 };
  #remote: RtpRemote | undefined;
  #rtpLatch: Address | undefined;
  #rtcpLatch: Address | undefined;
  #dropLog = { lastAtMs: Number.NEGATIVE_INFINITY, suppressed: 0 };
  #closed = false;

  private constructor(options: RtpEndpointOptions, pair: { rtp: Socket; rtcp: Socket; port: number }) {
    super();
    this.host = options.host;
    this.localPort = pair.port;
    this.#rtpSocket = pair.rtp;
    this.#rtcpSocket = pair.rtcp;
    this.#ports = options.ports;
    this.#logger = options.logger.child({ module: 'rtp-endpoint', port: pair.port });
    this.#rtcp = new RtcpReporter({ clockRate: options.clockRate ?? 8000 });
    this.#rtpSocket.on('message', (packet, source) => this.#onMessage('rtp', packet, source));
    this.#rtcpSocket.on('message', (packet, source) => this.#onMessage('rtcp', packet, source));
    const onError = (error: Error): void => void this.#logger.warn({ err: error }, 'RTP socket error');
    this.#rtpSocket.on('error', onError);
    this.#rtcpSocket.on('error', onError);
    this.#reportTimer = setInterval(() => this.#sendReport(), options.rtcpIntervalMs ?? 5000);
    // Reports must never keep the process alive on their own.
    this.#reportTimer.unref();
  }

  static async create(options: RtpEndpointOptions): Promise<RtpEndpoint> {
    return new RtpEndpoint(options, await options.ports.bindPair(options.host));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sets (or, on a re-offer, replaces) the far end; latching starts over. */
  setRemote(remote: RtpRemote): void {
    const family = isIPv6(this.host) ? 6 : 4;
    if (isIP(remote.address) !== family) throw new TypeError(`remote ${remote.address} is not an IPv${family} address`);
    for (const port of [remote.port, remote.rtcpPort ?? remote.port + 1]) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`invalid remote port ${port}`);
    }
    this.#remote = {
      ...remote,
      address: canonicalIp(remote.address),
      ...(remote.signalingAddress === undefined ? {} : { signalingAddress: canonicalIp(remote.signalingAddress) }),
    };
    this.#rtpLatch = undefined;
    this.#rtcpLatch = undefined;
  }

  get stats(): RtpEndpointStats {
    const { rtcpIn, rtcpOut, ...counters } = this.#counters;
    return {
      ...counters,
      rtcpPacketsIn: rtcpIn,
      rtcpPacketsOut: rtcpOut,
      lost: this.#rtcp.reception.lost,
      jitterMs: this.#rtcp.reception.jitterMs,
      rttMs: this.#rtcp.rttMs,
      latched: this.#rtpLatch && formatAddress(this.#rtpLatch),
      remote: this.#remote && formatAddress(this.#remote),
    };
  }

  /**
   * RTP and RTCP packets accepted from the party so far (dropped ones are not
   * counted): what the inactivity watch reads as a sign of life.
   */
  get packetsReceived(): number {
    return this.#counters.packetsIn + this.#counters.rtcpIn;
  }

  /** Sends one RTP packet to the latched source, or to the negotiated address before latching. */
  sendRtp(packet: Buffer): void {
    const target = this.#rtpTarget();
    if (target === undefined) return;
    const header = parseRtpHeader(packet);
    if (header === undefined || isRtcpPacket(packet)) {
      this.#logger.debug('not sending a packet that is not RTP');
      return;
    }
    this.#rtcp.rtpSent(packet, header, performance.now());
    this.#counters.packetsOut++;
    this.#counters.bytesOut += packet.length;
    this.#send(this.#rtpSocket, packet, target);
  }

  sendRtcp(packet: Buffer): void {
    const remote = this.#remote;
    if (remote === undefined || this.#closed) return;
    const target = remote.rtcpMux ? this.#rtpTarget() : this.#rtcpTarget(remote);
    if (target === undefined) return;
    this.#counters.rtcpOut++;
    this.#send(remote.rtcpMux ? this.#rtpSocket : this.#rtcpSocket, packet, target);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#reportTimer);
    this.#rtpSocket.close();
    this.#rtcpSocket.close();
    // dgram closes the file descriptor synchronously, so the pair is free to hand out again now.
    this.#ports.release(this.localPort);
    this.safeEmit('close');
  }

  #onMessage(socket: 'rtp' | 'rtcp', packet: Buffer, source: RemoteInfo): void {
    const remote = this.#remote;
    if (this.#closed) return;
    const verdict = remote && checkSource(source, remote, socket === 'rtp' ? this.#rtpLatch : this.#rtcpLatch);
    if (remote === undefined || verdict === 'drop') return this.#drop(source, 'unexpected source');
    // RFC 5761 section 4: on a shared port the second octet tells RTCP from RTP.
    if (socket === 'rtcp' || (remote.rtcpMux && isRtcpPacket(packet))) {
      const parsed = parseRtcpCompound(packet);
      if (parsed === undefined) return this.#drop(source, 'not RTCP');
      if (verdict === 'latch') this.#latch(socket, source);
      this.#counters.rtcpIn++;
      this.#rtcp.rtcpReceived(parsed, performance.now());
      return this.safeEmit('rtcp', packet);
    }
    const header = isRtcpPacket(packet) ? undefined : parseRtpHeader(packet);
    if (header === undefined) return this.#drop(source, 'not RTP');
    if (verdict === 'latch') this.#latch(socket, source);
    this.#counters.packetsIn++;
    this.#counters.bytesIn += packet.length;
    this.#rtcp.rtpReceived(header, performance.now());
    this.safeEmit('rtp', packet);
  }

  /** RTCP latches separately: a NAT maps the phone's RTCP port to a public port of its own. */
  #latch(socket: 'rtp' | 'rtcp', source: Address): void {
    const latch = { address: canonicalIp(source.address), port: source.port };
    this.#logger.debug({ source: formatAddress(latch), socket }, 'latched');
    if (socket === 'rtcp') {
      this.#rtcpLatch = latch;
    } else {
      this.#rtpLatch = latch;
      this.safeEmit('latched', formatAddress(latch));
    }
  }

  #sendReport(): void {
    if (this.#closed || this.#remote === undefined) return;
    const report = this.#rtcp.buildReport(performance.now());
    if (report) this.sendRtcp(report);
  }

  /**
   * The latched source, else the negotiated address, unless that is the
   * unspecified address: c=0.0.0.0 is the old way to put a call on hold
   * (RFC 3264 section 8.4) and the kernel would deliver such packets locally.
   */
  #rtpTarget(): Address | undefined {
    if (this.#closed || this.#remote === undefined) return undefined;
    if (this.#rtpLatch !== undefined) return this.#rtpLatch;
    return isUnspecified(this.#remote.address) ? undefined : this.#remote;
  }

  /**
   * Latched RTCP source if any; else, once RTP has latched behind a NAT, the
   * negotiated RTCP port on the latched IP (right for NATs that keep ports);
   * else the negotiated RTCP address.
   */
  #rtcpTarget(remote: RtpRemote): Address | undefined {
    const address = this.#rtpLatch?.address ?? remote.address;
    if (this.#rtcpLatch === undefined && isUnspecified(address)) return undefined;
    return this.#rtcpLatch ?? { address, port: remote.rtcpPort ?? remote.port + 1 };
  }

  #send(socket: Socket, packet: Buffer, target: Address): void {
    const onError = (error: unknown): void => {
      if (error) this.#logger.warn({ err: error, target: formatAddress(target) }, 'RTP send failed');
    };
    // Errors come back through the callback, except for a few argument checks that throw.
    try {
      socket.send(packet, target.port, target.address, onError);
    } catch (error) {
      onError(error);
    }
  }

  #drop(source: RemoteInfo, reason: string): void {
    this.#counters.dropped++;
    const formatted = formatAddress(source);
    const now = performance.now();
    // A flood of spoofed packets must not become a flood of log lines.
    if (now - this.#dropLog.lastAtMs >= DROP_LOG_INTERVAL_MS) {
      this.#logger.debug({ source: formatted, reason, suppressed: this.#dropLog.suppressed }, 'RTP packet dropped');
      this.#dropLog = { lastAtMs: now, suppressed: 0 };
    } else {
      this.#dropLog.suppressed++;
    }
    this.safeEmit('dropped', formatted);
  }
}

/**
 * Before latching, any port on the negotiated IP (the negotiated port
 * included) or on the signaling IP may start the stream: 'latch'. After,
 * only the latched source is accepted.
 */
function checkSource(source: Address, remote: RtpRemote, latch: Address | undefined): 'accept' | 'latch' | 'drop' {
  const ip = canonicalIp(source.address);
  if (latch !== undefined) return ip === latch.address && source.port === latch.port ? 'accept' : 'drop';
  return ip === remote.address || ip === remote.signalingAddress ? 'latch' : 'drop';
}

/** One spelling per address, so comparisons with what the socket reports are exact (RFC 5952 for IPv6). */
function canonicalIp(address: string): string {
  const mappedPrefix = '::ffff:';
  if (address.toLowerCase().startsWith(mappedPrefix) && isIPv4(address.slice(mappedPrefix.length))) {
    return address.slice(mappedPrefix.length);
  }
  return isIPv6(address) ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}

function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

function formatAddress(a: Address): string {
  return isIPv6(a.address) ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
