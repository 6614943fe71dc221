/**
 * One message retransmitted on a backoff schedule until stopped or until a
 * deadline: the shape shared by RFC 3261 Timer A (INVITE request, interval
 * doubling), Timer E (non-INVITE request, doubling capped at T2), Timer G
 * (non-2xx final response, doubling capped at T2) and the 2xx retransmission
 * of section 13.3.1.4. The deadline (Timer B, F, H: 64*T1) counts from the
 * first transmission; no retransmission is sent at or after it.
 */
export class RetransmissionSchedule {
  readonly #resend: () => void;
  readonly #deadline: number;
  readonly #onGiveUp: () => void;
  #interval: number;
  #cap: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(options: {
    resend: () => void;
    firstInterval: number;
    /** Largest interval; `Infinity` for Timer A. */
    cap: number;
    giveUpAfter: number;
    /** Called once when the deadline passes without `stop()`. */
    onGiveUp?: () => void;
  }) {
    this.#resend = options.resend;
    this.#interval = options.firstInterval;
    this.#cap = options.cap;
    this.#deadline = Date.now() + options.giveUpAfter;
    this.#onGiveUp = options.onGiveUp ?? (() => {});
    this.#schedule();
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * RFC 3261 section 17.1.2.2: once a provisional response arrives, a
   * non-INVITE request is retransmitted every T2.
   */
  holdAt(interval: number): void {
    if (this.#stopped) return;
    this.#interval = interval;
    this.#cap = interval;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    const now = Date.now();
    const remaining = this.#deadline - now;
    if (this.#interval >= remaining) {
      this.#timer = setTimeout(() => {
        if (this.#stopped) return;
        this.stop();
        this.#onGiveUp();
      }, Math.max(0, remaining));
      return;
    }
    this.#timer = setTimeout(() => {
      if (this.#stopped) return;
      this.#resend();
      this.#interval = Math.min(this.#interval * 2, this.#cap);
      this.#schedule();
    }, this.#interval);
  }
}
