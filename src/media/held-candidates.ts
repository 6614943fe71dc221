import type { IceCandidate } from '../protocol/messages.js';

/**
 * Longest wait for the anchor's own ICE before its held candidates go to the party anyway. On a
 * path the anchor's checks can use, its ICE is up one round trip after the answer (plus libjuice's
 * 50 ms pacing of a check it did not start at once); a party the anchor cannot reach first
 * (behind a NAT that filters, or reachable only through its TURN server, which needs the anchor's
 * address for a permission) needs the candidates to open the path and waits this long for them.
 */
export const CANDIDATE_HOLD_LIMIT_MS = 100;

/** What HeldCandidates needs of the anchor's endpoint: whether its ICE is up, and when it comes up. */
export interface IceReadiness {
  readonly iceConnected: boolean;
  once(event: 'iceconnected', listener: () => void): unknown;
  off(event: 'iceconnected', listener: () => void): unknown;
}

/**
 * The anchor's candidates, kept out of its first description for a trickling WebRTC party (see
 * AnchorMediaSession, "toWebRtcParty"), and trickled to it once both descriptions are applied
 * and the anchor's ICE is up: only then is the anchor's DTLS transport there to take the party's
 * ClientHello. node-datachannel keeps a datagram that comes before and replays it when DTLS
 * starts, but that replay races the transport's own start and mostly loses the datagram, which
 * the party re-sends only after its first DTLS timer (1 s in node-datachannel). The end of
 * candidates follows them.
 */
export class HeldCandidates {
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #endpoint: IceReadiness | undefined;
  #done = false;
  readonly #release = (): void => this.#send();

  constructor(
    private readonly candidates: readonly IceCandidate[],
    private readonly sendCandidate: (candidate: IceCandidate | null) => void,
  ) {}

  /**
   * Both descriptions are applied: release when `endpoint`'s ICE is up, at the latest after
   * `limitMs`; never in this turn, so that a description being sent goes out before them.
   */
  releaseWhenReady(endpoint: IceReadiness, limitMs = CANDIDATE_HOLD_LIMIT_MS): void {
    if (this.#done || this.#endpoint || this.#immediate) return;
    if (endpoint.iceConnected) {
      this.#immediate = setImmediate(this.#release);
      return;
    }
    this.#endpoint = endpoint;
    endpoint.once('iceconnected', this.#release);
    this.#timer = setTimeout(this.#release, limitMs);
  }

  /** The call ended: nothing more goes out. */
  close(): void {
    this.#done = true;
    this.#stop();
  }

  #send(): void {
    if (this.#done) return;
    this.#done = true;
    this.#stop();
    for (const candidate of this.candidates) this.sendCandidate(candidate);
    this.sendCandidate(null);
  }

  #stop(): void {
    clearTimeout(this.#timer);
    clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
    this.#endpoint?.off('iceconnected', this.#release);
    this.#endpoint = undefined;
  }
}
