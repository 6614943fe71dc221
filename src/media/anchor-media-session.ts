import { randomInt } from 'node:crypto';
import type { Leg } from '../calls/leg.js';
import type { MediaSession, OfferOutcome } from '../calls/media-session.js';
import { CallFailedError } from '../errors/gateway-error.js';
import { filterSdpCandidates } from '../ice/candidate-filter.js';
import { iceUfragOf, restartsIce } from '../ice/ice-ufrag.js';
import { sdpWithoutCandidates } from '../ice/sdp-without-candidates.js';
import type { Logger } from '../logging/logger.js';
import type { IceCandidate } from '../protocol/messages.js';
import { AnchorLiveness, type LivenessParty } from './anchor-liveness.js';
import { HeldCandidates } from './held-candidates.js';
import { gatewayOffer, matchCodecs, supportedAudioCodecs, type Codec, type NegotiatedAudio } from './codecs.js';
import type { MediaEngine } from './media-engine.js';
import { RtpForwarder } from './rtp-forwarder.js';
import type { RtpEndpoint } from './rtp-endpoint.js';
import { answerDirection, buildRtpAvpSdp, parseAudioDescription, type AudioDescription, type MediaDirection } from './sdp-audio.js';
import type { WebRtcEndpoint } from './webrtc-endpoint.js';

type SideName = 'a' | 'b';

/** One leg of an anchored call as the anchor measured it (see `quality()`). */
export interface AnchoredLegQuality {
  packetsIn: number;
  packetsOut: number;
  /** Set once media is forwarded. */
  lost?: number;
  jitterMs?: number;
}

/** One leg's media session with the gateway. */
interface AnchorSide {
  name: SideName;
  leg: Leg;
  webrtc?: WebRtcEndpoint;
  rtp?: RtpEndpoint;
  /** The offer this leg made, kept until the other leg's answer decides the codec. */
  pendingOffer?: { sdp: string; description: AudioDescription };
  /** What the gateway offered this leg (gateway numbering). */
  offered?: Codec[];
  /** The anchor's candidates, held back from its first description for this trickling WebRTC party (see #toWebRtcParty). */
  heldCandidates?: HeldCandidates;
  /** The codec this leg uses, in its own numbering. */
  negotiated?: NegotiatedAudio;
  /** The direction of this party's last description (offer, answer or re-offer). */
  direction?: MediaDirection;
  /** The ICE ufrag of this WebRTC party's last description: another one in a re-offer restarts ICE. */
  remoteUfrag?: string;
  /** ICE restarts this party made (each one gets the anchor a new endpoint). */
  iceRestarts: number;
  /** o= of the gateway's RTP/AVP descriptions for this leg (RFC 3264 section 8). */
  sdpSessionId: number;
  sdpVersion: number;
}

/**
 * Anchored media: the gateway terminates each leg's media itself (ICE +
 * DTLS-SRTP for WebRTC parties, plain RTP for the others) and an RtpForwarder
 * joins them. The codec is chosen when the called party answers: the
 * caller's offer is answered only then, with exactly that codec, so no
 * transcoding is ever needed.
 */
export class AnchorMediaSession implements MediaSession {
  readonly mode = 'anchor' as const;
  readonly #sides: Record<SideName, AnchorSide>;
  #forwarder: RtpForwarder | undefined;
  #liveness: AnchorLiveness | undefined;
  readonly #livenessParties = new Map<SideName, LivenessParty>();
  #closed = false;

  constructor(
    caller: Leg,
    callee: Leg,
    private readonly engine: MediaEngine,
    private readonly acceptCandidate: (candidate: string) => boolean,
    private readonly logger: Logger,
  ) {
    this.#sides = { a: newSide('a', caller), b: newSide('b', callee) };
  }

  get forwarder(): RtpForwarder | undefined {
    return this.#forwarder;
  }

  async offer(from: Leg, sdp: string): Promise<OfferOutcome> {
    const side = this.#side(from);
    const other = this.#other(side);
    const clean = filterSdpCandidates(sdp, this.acceptCandidate);
    const description = parseAudioDescription(clean);
    side.direction = description.direction;
    if (side.negotiated) return { answer: await this.#answerReoffer(side, clean, description) };
    side.remoteUfrag = iceUfragOf(clean);

    side.pendingOffer = { sdp: clean, description };
    await this.#prepareEndpoint(side, description);
    const offered = gatewayOffer(description.codecs);
    if (supportedAudioCodecs(offered).length === 0) {
      throw new CallFailedError('incompatible-media', 'no codec the gateway can carry (opus, G722, PCMU, PCMA)', describe(description));
    }
    other.offered = offered;
    if (isWebRtcLeg(other.leg)) return { forward: await this.#offerWebRtc(other, offered, description.direction) };
    const endpoint = await this.#rtp(other);
    return { forward: this.#rtpSdp(other, endpoint, offered, description.direction) };
  }

  async answer(from: Leg, sdp: string): Promise<string> {
    const side = this.#side(from);
    const other = this.#other(side);
    if (!side.offered || !other.pendingOffer) throw new CallFailedError('failed', 'an answer without an offer');
    const clean = filterSdpCandidates(sdp, this.acceptCandidate);
    const description = parseAudioDescription(clean);
    const match = matchCodecs(description.codecs, other.pendingOffer.description.codecs);
    if (!match) throw new CallFailedError('incompatible-media', 'no common codec between the two parties', describe(description));
    side.negotiated = match.answered;
    side.direction = description.direction;
    side.remoteUfrag = iceUfragOf(clean);
    other.negotiated = match.offered;
    if (side.webrtc) side.webrtc.acceptAnswer(clean);
    if (side.rtp) side.rtp.setRemote(rtpRemote(description, side.leg));
    if (side.webrtc) side.heldCandidates?.releaseWhenReady(side.webrtc);

    const codecs = negotiatedList(other.negotiated);
    const offer = other.pendingOffer;
    other.pendingOffer = undefined;
    let answer: string;
    if (other.webrtc) {
      answer = this.#toWebRtcParty(other, this.engine.announce(await other.webrtc.answerOffer(offer.sdp, codecs)));
      other.heldCandidates?.releaseWhenReady(other.webrtc);
    } else {
      answer = this.#rtpSdp(other, other.rtp!, codecs, answerDirection(offer.description.direction));
    }
    this.#startForwarding(offer.description.direction, description.direction);
    return answer;
  }

  candidate(from: Leg, candidate: IceCandidate | null): IceCandidate | null | undefined {
    const side = this.#side(from);
    if (candidate && candidate.candidate !== '' && !this.acceptCandidate(candidate.candidate)) return undefined;
    side.webrtc?.addRemoteCandidate(candidate);
    return undefined; // the other leg talks to the gateway, not to this party
  }

  /**
   * DTMF a party signaled (SIP INFO, a `dtmf` frame) goes into the other
   * party's media as RFC 4733 when it negotiated telephone-event. A browser
   * cannot observe in-band events, so it is also told with a `dtmf` frame.
   */
  dtmf(from: Leg, digits: string): boolean {
    const to = this.#other(this.#side(from));
    const inMedia = this.#forwarder?.sendDtmf(to.name, digits) ?? false;
    if (inMedia && isWebRtcLeg(to.leg)) to.leg.sendDtmf(digits);
    return inMedia;
  }

  /**
   * From answer on, a party whose media is gone (see AnchorLiveness) ends the
   * call through `lost`, once.
   */
  watch(lost: (detail: string) => void): void {
    if (this.#closed || this.#liveness) return;
    const party = (side: AnchorSide): LivenessParty => ({
      uri: side.leg.address.uri,
      get rtp() {
        return side.rtp;
      },
      get webrtc() {
        return side.webrtc;
      },
      get direction() {
        return side.direction;
      },
    });
    this.#livenessParties.set('a', party(this.#sides.a));
    this.#livenessParties.set('b', party(this.#sides.b));
    this.#liveness = new AnchorLiveness([...this.#livenessParties.values()], this.engine.inactivity, (detail) => {
      if (!this.#closed) lost(detail);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#liveness?.close();
    this.#forwarder?.close();
    for (const side of Object.values(this.#sides)) {
      side.heldCandidates?.close();
      side.webrtc?.close();
      side.rtp?.close();
    }
  }

  /**
   * What the anchor measured of each leg's media, for the quality metrics:
   * packets it received from and sent to the party, and, once forwarding
   * started, the party's lost packets and interarrival jitter.
   */
  quality(): AnchoredLegQuality[] {
    return [this.#sides.a, this.#sides.b].map((side) => {
      const counters = side.webrtc?.counters ?? side.rtp?.stats;
      return {
        packetsIn: counters?.packetsIn ?? 0,
        packetsOut: counters?.packetsOut ?? 0,
        ...(this.#forwarder ? this.#forwarder.reception(side.name) : {}),
      };
    });
  }

  /** Counters and state for both legs (admin API, tests, benchmarks). */
  stats(): Record<string, unknown> {
    const sideStats = (side: AnchorSide) => ({
      leg: side.leg.address.uri,
      codec: side.negotiated?.audio.name,
      payloadType: side.negotiated?.audio.payloadType,
      webrtc: side.webrtc ? { state: side.webrtc.state, ...side.webrtc.counters, rttMs: side.webrtc.rttMs } : undefined,
      rtp: side.rtp?.stats,
    });
    return { a: sideStats(this.#sides.a), b: sideStats(this.#sides.b), forwarder: this.#forwarder?.counters };
  }

  /** The anchor's offer to a WebRTC party: actpass (RFC 8842 section 5.2), its candidates held (#toWebRtcParty). */
  async #offerWebRtc(side: AnchorSide, codecs: Codec[], direction: MediaDirection): Promise<string> {
    return this.#toWebRtcParty(side, this.engine.announce(await this.#webrtc(side).createOffer(codecs, direction)));
  }

  /**
   * The anchor's first description (offer or answer) for a WebRTC party. A party that trickles
   * gets it without the anchor's candidates, and the candidates once both descriptions are
   * applied and the anchor's ICE is up (HeldCandidates): until then it can only be reached by
   * the anchor's own checks, so its ICE cannot come up, and its ClientHello leave, before the
   * anchor's DTLS transport is there to take it (src/media/README.md, "Media starts at once").
   * A party that does not trickle gets the complete description.
   */
  #toWebRtcParty(side: AnchorSide, sdp: string): string {
    if (!side.leg.capabilities.trickle) return sdp;
    const held = sdpWithoutCandidates(sdp);
    side.heldCandidates?.close();
    side.heldCandidates = new HeldCandidates(held.candidates, (candidate) => side.leg.sendCandidate(candidate));
    return held.sdp;
  }

  async #answerReoffer(side: AnchorSide, sdp: string, description: AudioDescription): Promise<string> {
    // A re-offer changes direction (hold) or address; the codec stays as negotiated.
    this.#forwarder?.setReceiving(side.name, wantsMedia(description.direction));
    this.#liveness?.restart();
    const codecs = negotiatedList(side.negotiated!);
    if (side.webrtc && restartsIce(side.remoteUfrag, sdp)) return this.#answerIceRestart(side, sdp, codecs);
    if (side.webrtc) return this.engine.announce(await side.webrtc.answerOffer(sdp, codecs));
    side.rtp!.setRemote(rtpRemote(description, side.leg));
    return this.#rtpSdp(side, side.rtp!, codecs, answerDirection(description.direction));
  }

  /**
   * An ICE restart (RFC 8445 section 9): the party's network changed, or its ICE failed.
   * libdatachannel cannot restart ICE on a PeerConnection (libdatachannel issue 545), so the anchor
   * answers with a new endpoint: new ICE credentials and a new certificate, whose new fingerprint
   * makes the browser set up DTLS-SRTP afresh (RFC 8842 section 5.5). It sends the old endpoint's
   * SSRC and the forwarder goes on as it was, so the other party's stream (a phone's RTP) notices
   * nothing: same SSRC, sequence and timestamps on both sides.
   */
  async #answerIceRestart(side: AnchorSide, sdp: string, codecs: Codec[]): Promise<string> {
    const old = side.webrtc!;
    side.iceRestarts += 1;
    const fresh = this.engine.createWebRtcEndpoint(`anchor-${side.leg.id}-${side.name}-restart${side.iceRestarts}`, old.ssrc);
    let answer: string;
    try {
      answer = this.#toWebRtcParty(side, this.engine.announce(await fresh.answerOffer(sdp, codecs)));
    } catch (error) {
      fresh.close();
      throw error;
    }
    if (this.#closed) {
      fresh.close();
      return answer;
    }
    side.webrtc = fresh;
    side.remoteUfrag = iceUfragOf(sdp);
    this.#forwarder?.replacePort(side.name, fresh);
    const party = this.#livenessParties.get(side.name);
    if (party) this.#liveness?.rewatch(party);
    side.heldCandidates?.releaseWhenReady(fresh);
    old.close();
    this.logger.info({ leg: side.leg.address.uri, restarts: side.iceRestarts }, 'ICE restart answered with a new anchor endpoint');
    return answer;
  }

  async #prepareEndpoint(side: AnchorSide, description: AudioDescription): Promise<void> {
    if (description.webrtc) {
      this.#webrtc(side);
      return;
    }
    if (isWebRtcLeg(side.leg)) throw new CallFailedError('incompatible-media', 'a WebRTC party sent an offer without ICE/DTLS');
    (await this.#rtp(side)).setRemote(rtpRemote(description, side.leg));
  }

  #startForwarding(offerDirection: MediaDirection, answerDirectionGiven: MediaDirection): void {
    const a = this.#sides.a;
    const b = this.#sides.b;
    const port = (side: AnchorSide) => (side.webrtc ?? side.rtp)!;
    this.#forwarder = new RtpForwarder(
      { port: port(a), codecs: a.negotiated!, ssrc: a.webrtc?.ssrc ?? randomInt(1, 0xffffffff) },
      { port: port(b), codecs: b.negotiated!, ssrc: b.webrtc?.ssrc ?? randomInt(1, 0xffffffff) },
    );
    this.#forwarder.setReceiving('a', wantsMedia(offerDirection));
    this.#forwarder.setReceiving('b', wantsMedia(answerDirectionGiven));
    // Digits heard on one side are announced to a browser on the other, which has no API to hear them.
    this.#forwarder.on('dtmf', (from, digit) => {
      const to = this.#other(this.#sides[from]);
      if (isWebRtcLeg(to.leg)) to.leg.sendDtmf(digit);
    });
    this.logger.debug({ a: a.negotiated, b: b.negotiated }, 'anchor forwarding');
  }

  #webrtc(side: AnchorSide): WebRtcEndpoint {
    side.webrtc ??= this.engine.createWebRtcEndpoint(`anchor-${side.leg.id}-${side.name}`);
    return side.webrtc;
  }

  async #rtp(side: AnchorSide): Promise<RtpEndpoint> {
    side.rtp ??= await this.engine.createRtpEndpoint();
    if (this.#closed) side.rtp.close();
    return side.rtp;
  }

  #rtpSdp(side: AnchorSide, endpoint: RtpEndpoint, codecs: Codec[], direction: MediaDirection): string {
    side.sdpVersion += 1;
    return buildRtpAvpSdp({
      address: this.engine.announcedAddress,
      port: endpoint.localPort,
      codecs,
      direction,
      sessionId: side.sdpSessionId,
      version: side.sdpVersion,
    });
  }

  #side(leg: Leg): AnchorSide {
    if (leg === this.#sides.a.leg) return this.#sides.a;
    if (leg === this.#sides.b.leg) return this.#sides.b;
    throw new TypeError('leg is not part of this call');
  }

  #other(side: AnchorSide): AnchorSide {
    return side.name === 'a' ? this.#sides.b : this.#sides.a;
  }
}

function newSide(name: SideName, leg: Leg): AnchorSide {
  return { name, leg, sdpSessionId: randomInt(1, 2 ** 31), sdpVersion: 0, iceRestarts: 0 };
}

function isWebRtcLeg(leg: Leg): boolean {
  return leg.capabilities.webrtc;
}

function wantsMedia(direction: MediaDirection): boolean {
  return direction === 'sendrecv' || direction === 'recvonly';
}

function negotiatedList(negotiated: NegotiatedAudio): Codec[] {
  return negotiated.dtmf ? [negotiated.audio, negotiated.dtmf] : [negotiated.audio];
}

function rtpRemote(description: AudioDescription, leg: Leg) {
  return {
    address: description.address,
    port: description.port,
    ...(description.rtcpPort === undefined ? {} : { rtcpPort: description.rtcpPort }),
    rtcpMux: description.rtcpMux,
    ...(leg.signalingAddress ? { signalingAddress: leg.signalingAddress } : {}),
  };
}

function describe(description: AudioDescription): string {
  return `offered: ${description.codecs.map((c) => `${c.name}/${c.clockRate}`).join(', ') || 'nothing'}`;
}
