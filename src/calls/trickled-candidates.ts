import type { IceCandidate } from '../protocol/messages.js';
import type { Leg } from './leg.js';

/** When a wait for a trickling party's candidates may end before its end-of-candidates. */
export interface CandidateWait {
  /** Longest wait in all. */
  limitMs: number;
  /** Once the party has sent candidates, the wait ends when no new one came for this long. */
  quietMs: number;
  /**
   * The party was given a TURN server: the quiet rule applies only once a relay candidate came
   * (the one a party that can reach nothing else needs), and until then the limit does.
   */
  relayExpected: boolean;
}

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
  #ended = false;
  #lastAt = 0;
  #hasRelay = false;
  #check: (() => void) | undefined;
  #timers: NodeJS.Timeout[] = [];
  readonly #onCandidate = (candidate: IceCandidate | null) => {
    // The end-of-candidates indication of RFC 8838: browsers signal it as a null (or empty) candidate.
    if (candidate === null || candidate.candidate === '') this.#ended = true;
    else if (this.#candidates.length < MAX_TRICKLED_CANDIDATES && this.accept(candidate.candidate)) {
      this.#candidates.push(candidate);
      this.#lastAt = Date.now();
      if (/ typ relay\b/i.test(candidate.candidate)) this.#hasRelay = true;
    }
    this.#check?.();
  };

  constructor(
    private readonly leg: Leg,
    private readonly accept: (candidate: string) => boolean,
  ) {
    leg.on('candidate', this.#onCandidate);
  }

  /**
   * Everything the party sent by its end-of-candidates or, should that be slow to come (a
   * gathering that waits on an unreachable STUN or TURN server until its own timeout, seconds),
   * what had arrived when the party went quiet (see CandidateWait), or at the limit.
   */
  async all(wait: CandidateWait): Promise<IceCandidate[]> {
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const check = (): void => {
        const now = Date.now();
        const quietSince = this.#candidates.length > 0 && (!wait.relayExpected || this.#hasRelay) ? Math.max(this.#lastAt, started) : undefined;
        if (this.#ended || now - started >= wait.limitMs || (quietSince !== undefined && now - quietSince >= wait.quietMs)) {
          this.#stop();
          resolve();
          return;
        }
        // Look again when the quiet time or the limit would be up; a new candidate looks at once.
        const due = Math.min(started + wait.limitMs, quietSince === undefined ? Infinity : quietSince + wait.quietMs);
        this.#later(check, due - now);
      };
      this.#check = check;
      check();
    });
    return [...this.#candidates];
  }

  close(): void {
    this.#ended = true;
    this.#check?.();
    this.#stop();
    this.leg.off('candidate', this.#onCandidate);
  }

  #later(action: () => void, ms: number): void {
    for (const timer of this.#timers.splice(0)) clearTimeout(timer);
    const timer = setTimeout(action, Math.max(0, ms));
    timer.unref();
    this.#timers.push(timer);
  }

  #stop(): void {
    this.#check = undefined;
    for (const timer of this.#timers.splice(0)) clearTimeout(timer);
  }
}
