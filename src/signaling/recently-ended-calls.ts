/**
 * The ids of calls a browser session was a party to and that ended a moment
 * ago. Frames for them that cross the end on the wire (trickled candidates
 * sent before the browser heard `ended` or the refusal of its `call`, a
 * `hangup` racing the other party's) are a normal race, not a client error:
 * the session acks and ignores them instead of answering `unknown-call`.
 * Bounded in count and age, so a session cannot grow it.
 */
export class RecentlyEndedCalls {
  readonly #endedAt = new Map<string, number>();

  constructor(
    private readonly capacity = 32,
    private readonly graceMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  add(callId: string): void {
    this.#endedAt.delete(callId);
    this.#endedAt.set(callId, this.now());
    // Insertion order is age order: the first entries are the oldest.
    while (this.#endedAt.size > this.capacity) this.#endedAt.delete(this.#endedAt.keys().next().value as string);
  }

  /** Whether `callId` ended within the grace period. */
  has(callId: string): boolean {
    const endedAt = this.#endedAt.get(callId);
    if (endedAt === undefined) return false;
    if (this.now() - endedAt <= this.graceMs) return true;
    this.#endedAt.delete(callId);
    return false;
  }

  get size(): number {
    return this.#endedAt.size;
  }
}
