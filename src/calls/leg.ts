import { TypedEmitter } from '../events/typed-emitter.js';
import type { EndReason, IceCandidate } from '../protocol/messages.js';
import { EXTERNAL_PARTY, type PartyIdentity } from '../policy/party-identity.js';
import type { Address } from './address.js';
import type { MediaMode } from './media-session.js';

/**
 * What a leg emits: things its party did. The Call listens and tells the
 * other leg.
 */
export type LegEvents = {
  /** The party is being alerted (SIP 180, Jingle ringing, browser `ringing`). */
  ringing: [];
  /** Early media: the party's answer to the offer before it answers (SIP 183 with SDP). */
  progress: [sdp: string];
  /** The party answered; `sdp` is its answer to the offer it was given. */
  answered: [sdp: string];
  /** A trickled ICE candidate; null marks the end of candidates. */
  candidate: [candidate: IceCandidate | null];
  /** A mid-call re-offer from the party (renegotiation, hold). */
  offer: [sdp: string];
  /** The party's answer to a re-offer it was sent. */
  answer: [sdp: string];
  dtmf: [digits: string];
  /** The party asks that the other party call `target` instead (blind transfer). */
  transfer: [target: string, transferId: string];
  /** The party ended the call, or its signaling was lost. Emitted once. */
  ended: [reason: EndReason, detail?: string];
  listenererror: [event: string, error: unknown];
};

/** What the party's side can do with media; decides relay vs anchor later. */
export interface LegMediaCapabilities {
  /** ICE + DTLS-SRTP (a WebRTC endpoint). */
  webrtc: boolean;
  /** Accepts trickled candidates instead of complete SDP. */
  trickle: boolean;
}

/** Where a transfer got to: `trying`, then `succeeded` (answered) or failed with the end reason. */
export type TransferOutcome = { state: 'trying' } | { state: 'succeeded' } | { state: 'failed'; reason: EndReason };

export interface IncomingCall {
  callId: string;
  from: Address;
  fromName?: string;
  sdp: string;
  /** How the call's media flows (a browser is told; other parties need not care). */
  media?: MediaMode;
}

/**
 * One party's side of a call: its signaling session and its media
 * description. Adapters implement legs; the core joins two of them.
 *
 * Contract:
 * - Commands MUST be ignored, not thrown, once the leg has ended.
 * - `end()` MUST be idempotent and MUST NOT emit `ended` (the leg is told, it
 *   did not decide); `ended` is only for the party's own decision or loss.
 * - `deliverCall()` resolves when the party was reached; it rejects with a
 *   CallFailedError when it cannot be (not found, offline, refused).
 */
export interface Leg extends TypedEmitter<LegEvents> {
  readonly id: string;
  readonly address: Address;
  readonly capabilities: LegMediaCapabilities;
  /** Who the party is for the gateway's policies (dial plan): web users by their login, everyone else `external`. */
  readonly identity: PartyIdentity;
  readonly ended: boolean;
  /**
   * The IP address the party's signaling comes from, when the protocol knows
   * it (SIP). Media from that address may latch even when the SDP names a
   * private one: a phone behind NAT (symmetric RTP).
   */
  readonly signalingAddress?: string;

  /** Present a new call to this party (this leg is the callee). */
  deliverCall(call: IncomingCall): Promise<void>;
  /** The callee is ringing (this leg is the caller). */
  notifyRinging(): void;
  /** The callee sent early media with `sdp`, before answering (this leg is the caller). */
  notifyEarlyMedia(sdp: string): void;
  /** The callee answered with `sdp` (this leg is the caller); `media` says how media flows. */
  notifyAnswered(sdp: string, media?: MediaMode): void;
  sendCandidate(candidate: IceCandidate | null): void;
  sendOffer(sdp: string): void;
  sendAnswer(sdp: string): void;
  sendDtmf(digits: string): void;
  /**
   * Ask this party to call `target` instead (a `transfer` frame, a SIP REFER) for `requestedBy`,
   * the other party; false when it cannot. Throws CallFailedError('forbidden') when policy
   * does not let `requestedBy` send this party there.
   */
  requestTransfer(target: string, transferId: string, requestedBy: PartyIdentity): boolean;
  /** How a transfer this party asked for went (SIP: the NOTIFY to the transferor). */
  transferOutcome(transferId: string, outcome: TransferOutcome): void;
  /** The call is over for this party, for `reason`. */
  end(reason: EndReason, detail?: string): void;
}

/** Shared bookkeeping for legs: the ended flag and the once-only `ended` event. */
export abstract class BaseLeg extends TypedEmitter<LegEvents> {
  #ended = false;

  /** Parties the gateway did not authenticate have no permissions; web legs override this. */
  get identity(): PartyIdentity {
    return EXTERNAL_PARTY;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The party itself ended the call: emit once, then release resources. */
  protected partyEnded(reason: EndReason, detail?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.safeEmit('ended', reason, detail);
    this.release();
  }

  end(reason: EndReason, detail?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.onEnd(reason, detail);
    this.release();
  }

  /** Tell the party the call ended (send BYE, `ended` frame, session-terminate...). */
  protected abstract onEnd(reason: EndReason, detail?: string): void;

  /** Free sockets, timers and listeners; called once after either kind of end. */
  protected release(): void {}

  /** Parties without early media get the answer alone, when it comes. */
  notifyEarlyMedia(_sdp: string): void {}

  /** Legs that cannot transfer say so; those that can override this. */
  requestTransfer(_target: string, _transferId: string, _requestedBy: PartyIdentity): boolean {
    return false;
  }

  transferOutcome(_transferId: string, _outcome: TransferOutcome): void {}

  protected emitEvent<K extends keyof LegEvents & string>(event: K, ...args: LegEvents[K]): void {
    if (this.#ended) return;
    this.safeEmit(event, ...args);
  }
}
