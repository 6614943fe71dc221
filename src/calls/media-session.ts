import type { IceCandidate } from '../protocol/messages.js';
import type { Leg } from './leg.js';

/** How media flows in a call: end to end (`relay`) or through the gateway (`anchor`). */
export type MediaMode = 'relay' | 'anchor';

/** What becomes of an offer: passed to the other leg, or answered by the gateway itself. */
export type OfferOutcome = { forward: string } | { answer: string };

/**
 * The media half of a call. It sees every description and candidate passing
 * between the legs and decides what the other leg receives: the same SDP
 * (relay), or SDP of the gateway's own endpoint (anchor).
 */
export interface MediaSession {
  readonly mode: MediaMode;
  /**
   * An offer from `from`: the initial one, or a re-offer mid-call. An anchor
   * answers re-offers (hold, resume, address change) itself, since each leg
   * has its own media session with the gateway.
   */
  offer(from: Leg, sdp: string): Promise<OfferOutcome>;
  /** An answer from `from`; returns the answer for the other leg. */
  answer(from: Leg, sdp: string): Promise<string>;
  /** A candidate from `from`: returns what to forward, or `undefined` to forward nothing. */
  candidate(from: Leg, candidate: IceCandidate | null): IceCandidate | null | undefined;
  /** DTMF a party asked to send; true when media carries it (RFC 4733), so signaling need not. */
  dtmf(from: Leg, digits: string): boolean;
  /**
   * The call was answered: from now on the session may find a party's media
   * gone (anchored media: no RTP/RTCP for too long, a WebRTC connection failed
   * or closed) and then calls `lost` once, with a detail naming the party.
   */
  watch(lost: (detail: string) => void): void;
  close(): void;
}
