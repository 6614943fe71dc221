import type { IceCandidate } from '../protocol/messages.js';
import type { Leg } from './leg.js';

/**
 * Kept at most: a browser gathers a handful per interface and server (Chromium: a few dozen at
 * worst); the rest of a flood would only grow the SDP folded for a party that cannot trickle.
 */
export const MAX_TRICKLED_CANDIDATES = 64;

/**
 * The candidates a trickling party sends after its description, kept for a party that cannot
 * take them one by one. Listening starts at once, so candidates that arrive before anyone asks
 * for them are not lost.
 */
export class TrickledCandidates {
  readonly #candidates: IceCandidate[] = [];
  readonly #ended: Promise<void>;
  #markEnded!: () => void;
  #timer: NodeJS.Timeout | undefined;
  readonly #onCandidate = (candidate: IceCandidate | null) => {
    // The end-of-candidates indication of RFC 8838: browsers signal it as a null (or empty) candidate.
    if (candidate === null || candidate.candidate === '') this.#markEnded();
    else if (this.#candidates.length < MAX_TRICKLED_CANDIDATES && this.accept(candidate.candidate)) this.#candidates.push(candidate);
  };

  constructor(
    private readonly leg: Leg,
    private readonly accept: (candidate: string) => boolean,
  ) {
    this.#ended = new Promise((resolve) => (this.#markEnded = resolve));
    leg.on('candidate', this.#onCandidate);
  }

  /**
   * Everything the party sent by its end-of-candidates or, should that not come (a gathering
   * stuck on an unreachable STUN or TURN server), what had arrived `timeoutMs` after this call.
   */
  async all(timeoutMs: number): Promise<IceCandidate[]> {
    await Promise.race([
      this.#ended,
      new Promise<void>((resolve) => {
        this.#timer = setTimeout(resolve, timeoutMs);
        this.#timer.unref();
      }),
    ]);
    clearTimeout(this.#timer);
    return [...this.#candidates];
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#markEnded();
    this.leg.off('candidate', this.#onCandidate);
  }
}
