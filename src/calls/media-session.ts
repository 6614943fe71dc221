import type { IceCandidate } from '../protocol/messages.js';
import type { Leg } from './leg.js';

/** How media flows in a call: end to end (`relay`) or through the gateway (`anchor`). */
export type MediaMode = 'relay' | 'anchor';

/**
 * The media half of a call. It sees every description and candidate passing
 * between the legs and decides what the other leg receives: the same SDP
 * (relay), or SDP of the gateway's own endpoint (anchor).
 */
export interface MediaSession {
  readonly mode: MediaMode;
  /** An offer (initial or re-offer) from `from`; returns the offer for the other leg. */
  offer(from: Leg, sdp: string): Promise<string>;
  /** An answer from `from`; returns the answer for the other leg. */
  answer(from: Leg, sdp: string): Promise<string>;
  /** A candidate from `from`: returns what to forward, or `undefined` to forward nothing. */
  candidate(from: Leg, candidate: IceCandidate | null): IceCandidate | null | undefined;
  close(): void;
}
