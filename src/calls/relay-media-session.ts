import { filterSdpCandidates } from '../ice/candidate-filter.js';
import type { IceCandidate } from '../protocol/messages.js';
import type { Leg } from './leg.js';
import type { MediaSession, OfferOutcome } from './media-session.js';

/**
 * Media flows end to end between two WebRTC parties; the gateway only passes
 * descriptions and candidates on. Candidates outside the configured networks
 * are dropped here, so internal interfaces are never revealed to the other
 * party (and tests keep ICE on loopback).
 */
export class RelayMediaSession implements MediaSession {
  readonly mode = 'relay' as const;

  constructor(private readonly acceptCandidate: (candidate: string) => boolean) {}

  async offer(_from: Leg, sdp: string): Promise<OfferOutcome> {
    return { forward: filterSdpCandidates(sdp, this.acceptCandidate) };
  }

  async answer(_from: Leg, sdp: string): Promise<string> {
    return filterSdpCandidates(sdp, this.acceptCandidate);
  }

  candidate(_from: Leg, candidate: IceCandidate | null): IceCandidate | null | undefined {
    if (candidate === null || candidate.candidate === '') return candidate;
    return this.acceptCandidate(candidate.candidate) ? candidate : undefined;
  }

  /** End to end, DTMF rides the parties' own media or their signaling. */
  dtmf(): boolean {
    return false;
  }

  close(): void {}
}
