import { randomBytes } from 'node:crypto';
import {
  buildReceiverReport,
  buildSenderReport,
  buildSourceDescription,
  compactNtp,
  msToCompactNtp,
  ntpNow,
  roundTripMs,
  type NtpTimestamp,
  type RtcpPacket,
} from './rtcp-report.js';
import { rtpPayload, type RtpHeader } from './rtp-packet.js';
import { RtpReceptionStatistics } from './rtp-reception-statistics.js';

interface SenderState {
  ssrc: number;
  packetCount: number;
  octetCount: number;
  lastTimestamp: number;
  lastSentAtMs: number;
}

/**
 * The RTCP side of one RTP session with a single peer, without sockets: it
 * is told what was sent and received and, when asked, composes the next
 * compound report (RFC 3550 section 6.4). It also derives the round-trip
 * time from the peer's reports about our stream (section 6.4.1).
 *
 * Millisecond arguments come from one monotonic clock (performance.now());
 * NTP timestamps default to the wallclock now.
 */
export class RtcpReporter {
  readonly reception: RtpReceptionStatistics;
  readonly #clockRate: number;
  /** SSRC for reports until we send RTP of our own; a random 32-bit value as section 8.1 asks. */
  readonly #reportSsrc = randomBytes(4).readUInt32BE(0);
  /** Section 6.5.1: stable for the session, ties our SSRCs together; random so it reveals nothing about the host. */
  readonly #cname = `switchboard-${randomBytes(6).toString('hex')}`;
  #sender: SenderState | undefined;
  #sentSinceReport = false;
  #receivedSinceReport = false;
  #lastSrReceived: { compact: number; atMs: number } | undefined;
  #rttMs: number | undefined;

  constructor(options: { clockRate: number }) {
    this.#clockRate = options.clockRate;
    this.reception = new RtpReceptionStatistics(options.clockRate);
  }

  /** Latest round-trip time, once the peer has reported on an SR of ours. */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  rtpReceived(header: RtpHeader, arrivalMs: number): void {
    this.reception.update(header, arrivalMs);
    this.#receivedSinceReport = true;
  }

  /** Section 6.4.1: the SR counts packets and payload octets per SSRC, starting over when the SSRC changes. */
  rtpSent(packet: Buffer, header: RtpHeader, sentAtMs: number): void {
    if (this.#sender?.ssrc !== header.ssrc) {
      this.#sender = { ssrc: header.ssrc, packetCount: 0, octetCount: 0, lastTimestamp: 0, lastSentAtMs: 0 };
    }
    this.#sender.packetCount++;
    this.#sender.octetCount += rtpPayload(packet, header).length;
    this.#sender.lastTimestamp = header.timestamp;
    this.#sender.lastSentAtMs = sentAtMs;
    this.#sentSinceReport = true;
  }

  /** Notes the peer's last SR (for our LSR/DLSR) and takes an RTT sample from any report block about us. */
  rtcpReceived(packets: RtcpPacket[], arrivalMs: number, arrivalNtp: NtpTimestamp = ntpNow()): void {
    const ours = new Set([this.#reportSsrc, this.#sender?.ssrc]);
    for (const packet of packets) {
      if (packet.type === 'sr') this.#lastSrReceived = { compact: compactNtp(packet.sender.ntp), atMs: arrivalMs };
      if (packet.type !== 'sr' && packet.type !== 'rr') continue;
      for (const block of packet.reports) {
        const rtt = ours.has(block.ssrc) ? roundTripMs(arrivalNtp, block.lastSr, block.delaySinceLastSr) : undefined;
        if (rtt !== undefined) this.#rttMs = rtt;
      }
    }
  }

  /**
   * The next compound report (section 6.1: SR or RR, then SDES CNAME), or
   * undefined when no media flowed either way since the last one. An SR if
   * we sent RTP since then (section 6.4); a report block only if we received.
   */
  buildReport(nowMs: number, nowNtp: NtpTimestamp = ntpNow()): Buffer | undefined {
    if (!this.#sentSinceReport && !this.#receivedSinceReport) return undefined;
    const lastSr = this.#lastSrReceived;
    const block = this.#receivedSinceReport
      ? this.reception.reportBlock(lastSr?.compact ?? 0, lastSr ? msToCompactNtp(nowMs - lastSr.atMs) : 0)
      : undefined;
    const reports = block === undefined ? [] : [block];
    const sender = this.#sentSinceReport ? this.#sender : undefined;
    // Once we have sent RTP, that SSRC is who we are, in RRs too.
    const ssrc = this.#sender?.ssrc ?? this.#reportSsrc;
    const report =
      sender === undefined
        ? buildReceiverReport({ ssrc, reports })
        : buildSenderReport({
            ssrc,
            reports,
            sender: {
              ntp: nowNtp,
              // The RTP time of this same instant, extrapolated from the last packet sent.
              rtpTimestamp: Math.round(sender.lastTimestamp + ((nowMs - sender.lastSentAtMs) * this.#clockRate) / 1000),
              packetCount: sender.packetCount,
              octetCount: sender.octetCount,
            },
          });
    this.#sentSinceReport = false;
    this.#receivedSinceReport = false;
    return Buffer.concat([report, buildSourceDescription({ ssrc, cname: this.#cname })]);
  }
}
