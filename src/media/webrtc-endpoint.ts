import { randomInt } from 'node:crypto';
import nodeDataChannel, { type PeerConnection, type Track } from 'node-datachannel';
import { CallFailedError, InvalidStateError } from '../errors/gateway-error.js';
import { TypedEmitter } from '../events/typed-emitter.js';
import type { Logger } from '../logging/logger.js';
import type { IceCandidate } from '../protocol/messages.js';
import { rtpmapText, type Codec } from './codecs.js';
import { isRtcpPacket } from './rtp-packet.js';
import { answerDirection, parseAudioDescription, type MediaDirection } from './sdp-audio.js';
import { answerInOfferOrder, audioOnlyOffer, offerForPassiveAnswer, rewriteAnswerSdp } from './webrtc-sdp.js';

const { PeerConnection: NativePeerConnection, Audio, RtcpReceivingSession } = nodeDataChannel;

export type WebRtcState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export type WebRtcEndpointEvents = {
  rtp: [packet: Buffer];
  rtcp: [packet: Buffer];
  statechange: [state: WebRtcState];
  /** ICE has a working pair: libdatachannel has started its DTLS transport, ready for a ClientHello. */
  iceconnected: [];
  close: [];
  listenererror: [event: string, error: unknown];
};

/** How the gateway's own ICE agent gathers: which address, ports and STUN/TURN servers. */
export interface WebRtcIceOptions {
  /** Host candidates only on this address (node-datachannel binds every interface otherwise). */
  bindAddress?: string;
  portRangeBegin?: number;
  /** Every endpoint on the one port `portRangeBegin` (= `portRangeEnd`), told apart by ICE username. */
  udpMux?: boolean;
  portRangeEnd?: number;
  /** `stun:host:port`, `turn:user:pass@host:port` (node-datachannel's URL forms). */
  iceServers: string[];
  /** Longest wait for candidate gathering before the SDP goes out with what it has. */
  gatherTimeoutMs: number;
}

export interface WebRtcEndpointOptions {
  name: string;
  ice: WebRtcIceOptions;
  logger: Logger;
  /** The SSRC of what it sends (default: random): an endpoint that replaces another keeps its stream. */
  ssrc?: number;
}

/**
 * The gateway's WebRTC media endpoint: one node-datachannel PeerConnection
 * with one audio track, terminating ICE and DTLS-SRTP. Decrypted RTP comes
 * out as `rtp` events; `sendRtp` encrypts and sends.
 *
 * node-datachannel's traps are contained here: every callback slot is set
 * once; nothing thrown inside a native callback escapes (it would abort the
 * process); calls after close are refused with InvalidStateError instead of
 * the native "destroyed peer connection" error. Nothing else imports it.
 */
export class WebRtcEndpoint extends TypedEmitter<WebRtcEndpointEvents> {
  readonly name: string;
  readonly ssrc: number;
  readonly #pc: PeerConnection;
  readonly #logger: Logger;
  readonly #gatherTimeoutMs: number;
  #track: Track | undefined;
  #state: WebRtcState = 'new';
  #iceConnected = false;
  #closed = false;
  #hasRemote = false;
  readonly #pendingCandidates: IceCandidate[] = [];
  #gathered: Promise<void>;
  #markGathered!: () => void;
  #sessionId: string | undefined;
  #sdpVersion = 0;
  readonly counters = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, rtcpIn: 0 };

  constructor(options: WebRtcEndpointOptions) {
    super();
    this.name = options.name;
    this.ssrc = options.ssrc ?? randomInt(1, 0xffffffff);
    this.#logger = options.logger;
    this.#gatherTimeoutMs = options.ice.gatherTimeoutMs;
    this.#gathered = new Promise((resolve) => (this.#markGathered = resolve));
    this.#pc = new NativePeerConnection(options.name, {
      iceServers: options.ice.iceServers,
      ...(options.ice.bindAddress ? { bindAddress: options.ice.bindAddress } : {}),
      ...(options.ice.portRangeBegin ? { portRangeBegin: options.ice.portRangeBegin } : {}),
      ...(options.ice.portRangeEnd ? { portRangeEnd: options.ice.portRangeEnd } : {}),
      enableIceUdpMux: options.ice.udpMux ?? false,
    });
    this.#pc.onStateChange((state) => this.#guard(() => this.#setState(state as WebRtcState)));
    this.#pc.onIceStateChange((state) =>
      this.#guard(() => {
        if (this.#iceConnected || this.#closed || (state !== 'connected' && state !== 'completed')) return;
        this.#iceConnected = true;
        this.safeEmit('iceconnected');
      }),
    );
    this.#pc.onGatheringStateChange((state) =>
      this.#guard(() => {
        if (state === 'complete') this.#markGathered();
      }),
    );
  }

  get state(): WebRtcState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get iceConnected(): boolean {
    return this.#iceConnected;
  }

  /**
   * Answers a browser's offer with exactly `codecs` (in the offerer's payload
   * numbering): node-datachannel would otherwise echo every offered codec.
   * A later call with a re-offer answers it on the same transport. An
   * `actpass` offer is answered `passive`: the browser starts DTLS once it
   * has the answer (see offerForPassiveAnswer).
   */
  async answerOffer(offerSdp: string, codecs: Codec[]): Promise<string> {
    this.#assertOpen();
    const offer = parseAudioDescription(offerSdp);
    if (!offer.webrtc) throw new CallFailedError('incompatible-media', 'the offer has no ICE/DTLS: not a WebRTC endpoint');
    const narrowed = audioOnlyOffer(offerSdp);
    if (!this.#track) this.#addTrack(offer.mid ?? '0', codecs, 'sendrecv');
    this.#setRemote(offerForPassiveAnswer(narrowed.sdp), 'offer', offer.mid ?? '0');
    await this.#waitForGathering();
    return answerInOfferOrder(this.#localSdp(answerDirection(offer.direction)), narrowed);
  }

  /** Makes an offer (the browser is the called party) with `codecs` in the gateway's numbering. */
  async createOffer(codecs: Codec[], direction: MediaDirection = 'sendrecv'): Promise<string> {
    this.#assertOpen();
    if (!this.#track) this.#addTrack('0', codecs, direction);
    this.#call(() => this.#pc.setLocalDescription());
    await this.#waitForGathering();
    return this.#localSdp(direction);
  }

  /** Takes the browser's answer to `createOffer`. */
  acceptAnswer(answerSdp: string): void {
    this.#assertOpen();
    this.#setRemote(answerSdp, 'answer', this.#track?.mid() ?? '0');
  }

  /** Trickled browser candidates wait until there is a remote description to match them. */
  addRemoteCandidate(candidate: IceCandidate | null): void {
    if (this.#closed || candidate === null || candidate.candidate === '') return;
    if (!this.#hasRemote) {
      this.#pendingCandidates.push(candidate);
      return;
    }
    this.#addCandidate(candidate.candidate.replace(/^a=/, ''), candidate.sdpMid ?? '0', 0);
  }

  #addCandidate(line: string, mid: string, attempt: number): void {
    if (this.#closed) return;
    try {
      this.#pc.addRemoteCandidate(line, mid);
    } catch (error) {
      // The ICE transport may come up a moment after the description: try again shortly.
      if (/without ICE transport/i.test(String((error as Error).message)) && attempt < 20) {
        setTimeout(() => this.#addCandidate(line, mid, attempt + 1), 10).unref();
        return;
      }
      // A candidate the agent cannot use is not worth ending a call over.
      this.#logger.debug({ err: error, candidate: line }, 'remote candidate refused');
    }
  }

  sendRtp(packet: Buffer): void {
    if (this.#closed || !this.#track || this.#state !== 'connected') return;
    try {
      if (this.#track.sendMessageBinary(packet)) {
        this.counters.packetsOut += 1;
        this.counters.bytesOut += packet.length;
      }
    } catch (error) {
      this.#logger.debug({ err: error }, 'rtp send failed');
    }
  }

  /** Round-trip time on the selected ICE pair, when known (ms). */
  get rttMs(): number | undefined {
    if (this.#closed) return undefined;
    try {
      const rtt = this.#pc.rtt();
      return rtt >= 0 ? rtt : undefined;
    } catch {
      return undefined;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#markGathered();
    try {
      this.#track?.close();
      this.#pc.close();
    } catch (error) {
      this.#logger.debug({ err: error }, 'close failed');
    }
    this.#state = 'closed';
    this.safeEmit('close');
    this.removeAllListeners();
  }

  #addTrack(mid: string, codecs: Codec[], direction: MediaDirection): void {
    const audio = new Audio(mid, directionName(direction));
    for (const codec of codecs) {
      if (codec.fmtp === undefined) audio.addAudioCodec(codec.payloadType, rtpmapText(codec));
      else audio.addAudioCodec(codec.payloadType, rtpmapText(codec), codec.fmtp);
    }
    audio.addSSRC(this.ssrc, `switchboard-${this.ssrc}`, 'switchboard', 'audio');
    const track = this.#pc.addTrack(audio);
    // Receiver reports for the browser's stream, so its getStats has loss and round-trip time.
    track.setMediaHandler(new RtcpReceivingSession());
    track.onMessage((message) => this.#guard(() => this.#onPacket(message)));
    track.onError((error) => this.#guard(() => this.#logger.warn({ error }, 'track error')));
    this.#track = track;
  }

  #onPacket(packet: Buffer): void {
    if (isRtcpPacket(packet)) {
      this.counters.rtcpIn += 1;
      this.safeEmit('rtcp', packet);
      return;
    }
    this.counters.packetsIn += 1;
    this.counters.bytesIn += packet.length;
    this.safeEmit('rtp', packet);
  }

  /**
   * Candidates go in separately after the description: libdatachannel at times
   * rejects a description whose candidates arrive before its ICE transport
   * exists ("remote candidate without ICE transport"); queued, they just wait.
   */
  #setRemote(sdp: string, type: 'offer' | 'answer', mid: string): void {
    const candidates = sdp.split(/\r?\n/).filter((line) => line.startsWith('a=candidate:'));
    const withoutCandidates = sdp
      .split(/\r?\n/)
      .filter((line) => !line.startsWith('a=candidate:'))
      .join('\r\n');
    this.#call(() => this.#pc.setRemoteDescription(withoutCandidates, type));
    for (const line of candidates) this.#pendingCandidates.push({ candidate: line.slice(2), sdpMid: mid });
    this.#remoteSet();
  }

  #remoteSet(): void {
    this.#hasRemote = true;
    for (const candidate of this.#pendingCandidates.splice(0)) this.addRemoteCandidate(candidate);
  }

  async #waitForGathering(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#gathered,
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.#logger.warn({ endpoint: this.name }, 'ICE gathering timed out; sending the candidates found so far');
          resolve();
        }, this.#gatherTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.#assertOpen();
  }

  #localSdp(direction: MediaDirection): string {
    const local = this.#pc.localDescription();
    if (!local) throw new CallFailedError('failed', 'no local description');
    // node-datachannel gives each description a new o= session id and keeps sendrecv on re-answers;
    // RFC 3264 sections 6.1 and 8 want one session id, a growing version and the answered direction.
    const rewritten = rewriteAnswerSdp(local.sdp, { sessionId: this.#sessionId, version: this.#sdpVersion, direction });
    this.#sessionId = rewritten.sessionId;
    this.#sdpVersion += 1;
    return rewritten.sdp;
  }

  #setState(state: WebRtcState): void {
    if (this.#closed || state === this.#state) return;
    this.#state = state;
    this.#logger.debug({ endpoint: this.name, state }, 'webrtc state');
    this.safeEmit('statechange', state);
  }

  #call(action: () => void): void {
    try {
      action();
    } catch (error) {
      throw new CallFailedError('incompatible-media', `WebRTC negotiation failed: ${(error as Error).message}`);
    }
  }

  /** Exceptions must never propagate into node-datachannel's callback thread: they abort the process. */
  #guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.#logger.error({ err: error, endpoint: this.name }, 'webrtc callback failed');
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError(`WebRTC endpoint ${this.name} is closed`);
  }
}

function directionName(direction: MediaDirection): 'SendRecv' | 'SendOnly' | 'RecvOnly' | 'Inactive' {
  switch (direction) {
    case 'sendonly':
      return 'SendOnly';
    case 'recvonly':
      return 'RecvOnly';
    case 'inactive':
      return 'Inactive';
    default:
      return 'SendRecv';
  }
}
