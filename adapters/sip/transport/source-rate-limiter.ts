import { ExpiringMap } from './expiring-map.js';
import { sourceKey } from './source-key.js';

/** A token bucket holding one second's worth of tokens (at least one). */
class TokenBucket {
  readonly #capacity: number;
  #tokens: number;
  #refilledAt: number;

  constructor(
    private readonly ratePerSecond: number,
    now: number,
  ) {
    this.#capacity = capacityFor(ratePerSecond);
    this.#tokens = this.#capacity;
    this.#refilledAt = now;
  }

  /** Whether a token is there (after refilling up to `now`); does not take it. */
  available(now: number): boolean {
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#refilledAt) / 1000) * this.ratePerSecond);
    this.#refilledAt = now;
    return this.#tokens >= 1;
  }

  take(): void {
    this.#tokens -= 1;
  }
}

/** A rate below one per second still lets one through now and then. */
function capacityFor(ratePerSecond: number): number {
  return Math.max(1, ratePerSecond);
}

export interface SourceRateLimits {
  /** Per second from one source (an IPv4 address, an IPv6 /64). */
  readonly perSource: number;
  /** Per second from all sources together. */
  readonly total: number;
  /** Sources tracked at once; the least recently seen is forgotten first (default 10,000). */
  readonly maxSources?: number;
}

/**
 * A flood limit (new INVITEs, or any request), per source with a global
 * ceiling, in the manner of Kamailio's pike module: one source that floods uses up its own bucket and
 * no one else's, and many sources together still cannot exceed the total.
 * The per-source buckets live in a bounded map: a bucket untouched for the
 * time it takes to refill is full again, so it may be forgotten, and when
 * spoofed sources crowd the map, the oldest go first (they come back full,
 * which the global ceiling covers).
 */
export class SourceRateLimiter {
  readonly #limits: SourceRateLimits;
  readonly #buckets: ExpiringMap<string, TokenBucket>;
  readonly #total: TokenBucket;
  readonly #refillMs: number;

  constructor(limits: SourceRateLimits) {
    this.#limits = limits;
    this.#buckets = new ExpiringMap({ maxEntries: limits.maxSources ?? 10_000 });
    this.#total = new TokenBucket(limits.total, Date.now());
    // How long an empty bucket takes to be full again, and a little more: then it may be forgotten.
    this.#refillMs = (capacityFor(limits.perSource) / limits.perSource) * 1000 + 500;
  }

  /** Takes a token for a message from `address` (undefined: unknown); false means refuse it. */
  take(address: string | undefined): boolean {
    const now = Date.now();
    const key = address === undefined ? 'unknown' : sourceKey(address);
    let bucket = this.#buckets.get(key);
    if (!bucket) bucket = new TokenBucket(this.#limits.perSource, now);
    this.#buckets.set(key, bucket, this.#refillMs);
    // Both must have a token; neither is spent on a refused message.
    if (!bucket.available(now) || !this.#total.available(now)) return false;
    bucket.take();
    this.#total.take();
    return true;
  }

  /** Sources with a bucket right now (for tests and metrics). */
  get trackedSources(): number {
    this.#buckets.sweep();
    return this.#buckets.size;
  }
}
