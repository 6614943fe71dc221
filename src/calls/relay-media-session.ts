import { filterSdpCandidates } from '../ice/candidate-filter.js';
import { sdpWithCandidates } from '../ice/sdp-with-candidates.js';
import type { IceCandidate } from '../protocol/messages.js';
import type { Leg } from './leg.js';
import type { MediaSession, OfferOutcome } from './media-session.js';
import { TrickledCandidates } from './trickled-candidates.js';

/**
 * How long a description for a party that cannot trickle waits for the other party's
 * end-of-candidates. Host candidates take milliseconds, and Chromium's end-of-candidates came
 * 20-60 ms after its answer here (bench/results/media.md); but a browser whose STUN or TURN
 * server does not answer ends its gathering only when it gives up on it, seconds later. So the
 * wait also ends once the party went quiet (QUIET_MS without a new candidate, after a relay
 * candidate when it was given a TURN server), and never lasts more than LIMIT_MS (SIP.js waits
 * 5 s for its own gathering by default).
 */
export const CANDIDATE_FOLD_WAIT = { limitMs: 3000, quietMs: 250 };

/**
 * Media flows end to end between two WebRTC parties; the gateway only passes
 * descriptions and candidates on. Candidates outside the configured networks
 * are dropped here, so internal interfaces are never revealed to the other
 * party (and tests keep ICE on loopback).
 *
 * A WebRTC party that does not trickle (a SIP-over-WebSocket softphone: SIP.js waits for
 * gathering and sends complete SDP) facing one that does (a browser, which sends its offer or
 * answer before gathering and its candidates after it) cannot be handed the description as it
 * comes: RFC 8840 lets candidates follow a SIP description only towards a party that announced
 * Trickle ICE support (`Supported: trickle-ice`, `a=ice-options:trickle`); any other gets every
 * candidate in the description itself, as in RFC 8838's half trickle. So a description without
 * candidates towards such a party waits for the sender's end-of-candidates and carries them all.
 * Without them the SIP party could only learn the browser as a peer-reflexive candidate from its
 * checks, which fails as soon as only the browser's relay (TURN) candidate can be reached.
 */
export class RelayMediaSession implements MediaSession {
  readonly mode = 'relay' as const;
  /** Candidates of each trickling leg whose other leg does not trickle. */
  readonly #trickled = new Map<Leg, TrickledCandidates>();

  /**
   * `relayExpected`: browsers are given a TURN server (ice.turn), so a trickling party's relay
   * candidate is worth waiting for (see CANDIDATE_FOLD_WAIT).
   */
  constructor(
    private readonly acceptCandidate: (candidate: string) => boolean,
    legs: { caller: Leg; callee: Leg },
    private readonly relayExpected = false,
  ) {
    for (const [from, to] of [[legs.caller, legs.callee], [legs.callee, legs.caller]] as const) {
      if (from.capabilities.trickle && !to.capabilities.trickle) this.#trickled.set(from, new TrickledCandidates(from, acceptCandidate));
    }
  }

  async offer(from: Leg, sdp: string): Promise<OfferOutcome> {
    return { forward: await this.#complete(from, filterSdpCandidates(sdp, this.acceptCandidate)) };
  }

  async answer(from: Leg, sdp: string): Promise<string> {
    return this.#complete(from, filterSdpCandidates(sdp, this.acceptCandidate));
  }

  candidate(_from: Leg, candidate: IceCandidate | null): IceCandidate | null | undefined {
    if (candidate === null || candidate.candidate === '') return candidate;
    return this.acceptCandidate(candidate.candidate) ? candidate : undefined;
  }

  /** End to end, DTMF rides the parties' own media or their signaling. */
  dtmf(): boolean {
    return false;
  }

  /** End to end media never passes the gateway: the parties' own stacks judge it. */
  watch(): void {}

  close(): void {
    for (const trickled of this.#trickled.values()) trickled.close();
    this.#trickled.clear();
  }

  /**
   * A description that already has candidates is complete (a re-offer made after gathering
   * carries what was gathered, JSEP RFC 9429 section 5.2.2); only one made before gathering waits.
   */
  async #complete(from: Leg, sdp: string): Promise<string> {
    const trickled = this.#trickled.get(from);
    if (!trickled || /^a=candidate:/m.test(sdp)) return sdp;
    return sdpWithCandidates(sdp, await trickled.all({ ...CANDIDATE_FOLD_WAIT, relayExpected: this.relayExpected }));
  }
}
