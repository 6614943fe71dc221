import type { Address } from '../calls/address.js';
import type { MediaMode } from '../calls/media-session.js';
import { BaseLeg, type IncomingCall, type Leg, type LegMediaCapabilities, type TransferOutcome } from '../calls/leg.js';
import type { PartyIdentity } from '../policy/party-identity.js';
import type { EndReason, HangupFailureReason, IceCandidate, RejectReason, ServerMessage } from '../protocol/messages.js';

/** The part of a browser session a web leg needs: a way to send frames, and to forget the leg. */
export interface WebLegHost {
  send(message: ServerMessage): void;
  forgetLeg(callId: string): void;
}

export type WebLegRole = 'caller' | 'callee';

/**
 * A browser's side of a call. Commands from the call become JSON frames to
 * the browser; frames from the browser become leg events (the `party*`
 * methods, called by the session that owns the leg).
 */
export class WebLeg extends BaseLeg implements Leg {
  readonly capabilities: LegMediaCapabilities = { webrtc: true, trickle: true };
  #answered = false;
  #ringingSent = false;
  /** A called browser knows of the call only once `incoming` went out. */
  #delivered: boolean;
  /** The transfer this browser is asking for right now, and why it was refused on the spot. */
  #transferAsked: { id: string; refusal: EndReason | undefined } | undefined;
  readonly #identity: PartyIdentity;

  constructor(
    readonly id: string,
    readonly address: Address,
    readonly role: WebLegRole,
    private readonly host: WebLegHost,
    identity: PartyIdentity,
  ) {
    super();
    this.#identity = identity;
    this.#delivered = role === 'caller';
  }

  override get identity(): PartyIdentity {
    return this.#identity;
  }

  /** Whether the callee has accepted (for a caller leg: whether its call was answered). */
  get answered(): boolean {
    return this.#answered;
  }

  async deliverCall(call: IncomingCall): Promise<void> {
    const frame: ServerMessage = { type: 'incoming', callId: call.callId, from: call.from.uri, to: this.address.uri, sdp: call.sdp };
    if (call.fromName !== undefined) frame.fromName = call.fromName;
    if (call.media !== undefined) frame.media = call.media;
    this.#delivered = true;
    this.#send(frame);
  }

  notifyRinging(): void {
    if (this.#ringingSent) return;
    this.#ringingSent = true;
    this.#send({ type: 'ringing', callId: this.id });
  }

  override notifyEarlyMedia(sdp: string): void {
    this.#send({ type: 'progress', callId: this.id, sdp });
  }

  notifyAnswered(sdp: string, media?: MediaMode): void {
    this.#answered = true;
    this.#send({ type: 'answered', callId: this.id, sdp, ...(media ? { media } : {}) });
  }

  sendCandidate(candidate: IceCandidate | null): void {
    this.#send({ type: 'candidate', callId: this.id, candidate });
  }

  sendOffer(sdp: string): void {
    this.#send({ type: 'offer', callId: this.id, sdp });
  }

  sendAnswer(sdp: string): void {
    this.#send({ type: 'answer', callId: this.id, sdp });
  }

  sendDtmf(digits: string): void {
    this.#send({ type: 'dtmf', callId: this.id, digits });
  }

  /** The browser is asked to call `target` itself, quoting `transferId` (as Janus's SIP plugin does). */
  override requestTransfer(target: string, transferId: string): boolean {
    if (this.ended) return false;
    this.#send({ type: 'transfer', callId: this.id, to: target, transferId });
    return true;
  }

  /** Asks for a blind transfer of the other party; the reason when it was refused at once (dial plan, state). */
  partyTransfer(target: string, transferId: string): EndReason | undefined {
    const asked = { id: transferId, refusal: undefined as EndReason | undefined };
    this.#transferAsked = asked;
    try {
      this.emitEvent('transfer', target, transferId);
    } finally {
      this.#transferAsked = undefined;
    }
    return asked.refusal;
  }

  override transferOutcome(transferId: string, outcome: TransferOutcome): void {
    if (outcome.state === 'failed' && this.#transferAsked?.id === transferId) this.#transferAsked.refusal = outcome.reason;
  }

  // ------------------------------------------------------------ from the browser

  partyRinging(): void {
    this.emitEvent('ringing');
  }

  partyAccepted(sdp: string): void {
    this.#answered = true;
    this.emitEvent('answered', sdp);
  }

  partyRejected(reason: RejectReason): void {
    this.partyEnded(reason);
  }

  /** A hangup, or the end of a call that failed in the browser (`reason`): then the other party hears the failure. */
  partyHungUp(reason?: HangupFailureReason, detail?: string): void {
    if (reason === undefined) this.partyEnded('hangup');
    else this.partyEnded(reason, detail === undefined ? 'the browser ended the call as failed' : `the browser: ${detail}`);
  }

  partyCandidate(candidate: IceCandidate | null): void {
    this.emitEvent('candidate', candidate);
  }

  partyOffer(sdp: string): void {
    this.emitEvent('offer', sdp);
  }

  partyAnswer(sdp: string): void {
    this.emitEvent('answer', sdp);
  }

  partyDtmf(digits: string): void {
    this.emitEvent('dtmf', digits);
  }

  connectionLost(): void {
    this.partyEnded('connection-lost');
  }

  protected onEnd(reason: EndReason, detail?: string): void {
    // A call cancelled while its offer was still being prepared never reached this browser.
    if (!this.#delivered) return;
    const frame: ServerMessage = { type: 'ended', callId: this.id, reason };
    if (detail !== undefined) frame.detail = detail;
    this.host.send(frame);
  }

  protected override release(): void {
    this.host.forgetLeg(this.id);
  }

  #send(message: ServerMessage): void {
    if (!this.ended) this.host.send(message);
  }
}
