/**
 * When and whether the SDK connects again after its WebSocket closed: exponential backoff with
 * jitter, so the users of a gateway node that died do not all come back in the same instant
 * (each waits between half and all of the current step: "equal jitter"), and never after a
 * close that says coming back is wrong. Small and pure, so other reconnecting features (session
 * resume) can reuse or extend it.
 */

export interface ReconnectOptions {
  /** The first step, in ms (default 500): the first retry waits 250-500 ms. */
  initialDelayMs?: number;
  /** The longest step, in ms (default 30000). */
  maxDelayMs?: number;
  /** Attempts in a row before giving up (default: never give up). */
  maxAttempts?: number;
}

/** Close codes after which the SDK must not come back on its own. */
const FINAL_CLOSE_CODES = new Set([
  1000, // closed by the client itself
  1008, // the gateway closed it for abuse (rate limits, bad frames)
  4001, // the same user logged in elsewhere: coming back would take the name back, for ever
]);

/** Refusals a login can get that waiting does not change. */
const FINAL_LOGIN_ERRORS = new Set(['auth-failed', 'anonymous-disabled', 'unsupported-protocol', 'bad-message']);

export class ReconnectPolicy {
  readonly #initial: number;
  readonly #max: number;
  readonly #maxAttempts: number;
  #attempt = 0;

  constructor(
    options: ReconnectOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.#initial = Math.max(1, options.initialDelayMs ?? 500);
    this.#max = Math.max(this.#initial, options.maxDelayMs ?? 30_000);
    this.#maxAttempts = options.maxAttempts ?? Infinity;
  }

  /** Attempts made since the last success. */
  get attempt(): number {
    return this.#attempt;
  }

  /** Whether a connection closed with `code` should be made again at all. */
  shouldReconnect(code: number): boolean {
    return !FINAL_CLOSE_CODES.has(code);
  }

  /** Whether a login refused with `code` during a reconnect is worth another try (a name still held by a lost node, the directory briefly away). */
  shouldRetryLogin(code: string): boolean {
    return !FINAL_LOGIN_ERRORS.has(code);
  }

  /** The wait before the next attempt, or undefined when it is time to give up. */
  nextDelay(): number | undefined {
    if (this.#attempt >= this.#maxAttempts) return undefined;
    const step = Math.min(this.#max, this.#initial * 2 ** Math.min(this.#attempt, 30));
    this.#attempt += 1;
    return Math.round(step / 2 + this.random() * (step / 2));
  }

  /** Connected and logged in again: the next loss starts from the first step. */
  reset(): void {
    this.#attempt = 0;
  }
}
