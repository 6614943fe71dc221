/**
 * A bounded map whose entries expire: the hub's transaction and dialog
 * tables must not grow with traffic. Expiry is checked on read and by
 * `sweep()`, which the owner calls from one periodic timer; when the map is
 * full the least recently set entry goes first. `onRemove` lets an owner
 * release what an entry holds (a retransmission timer) however it leaves.
 */
export class ExpiringMap<K, V> {
  readonly #entries = new Map<K, { value: V; expiresAt: number }>();
  readonly #maxEntries: number;
  readonly #onRemove: ((key: K, value: V) => void) | undefined;

  constructor(options: { maxEntries: number; onRemove?: (key: K, value: V) => void }) {
    this.#maxEntries = options.maxEntries;
    this.#onRemove = options.onRemove;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.delete(key);
      return undefined;
    }
    return entry.value;
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /** Sets (or refreshes) an entry for `ttlMs` from now; it becomes the most recent. */
  set(key: K, value: V, ttlMs: number): void {
    const previous = this.#entries.get(key);
    if (previous) {
      this.#entries.delete(key);
      if (previous.value !== value) this.#onRemove?.(key, previous.value);
    }
    this.#entries.set(key, { value, expiresAt: Date.now() + ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
  }

  /** Extends an existing entry's life without changing its value. */
  touch(key: K, ttlMs: number): void {
    const value = this.get(key);
    if (value !== undefined) this.set(key, value, ttlMs);
  }

  delete(key: K): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return false;
    this.#entries.delete(key);
    this.#onRemove?.(key, entry.value);
    return true;
  }

  /** Removes every expired entry. */
  sweep(): void {
    const now = Date.now();
    for (const [key, entry] of [...this.#entries]) {
      if (entry.expiresAt <= now) this.delete(key);
    }
  }

  /** Removes entries whose value matches, e.g. everything that points at a disposed transport. */
  deleteWhere(predicate: (value: V) => boolean): void {
    for (const [key, entry] of [...this.#entries]) {
      if (predicate(entry.value)) this.delete(key);
    }
  }

  clear(): void {
    for (const key of [...this.#entries.keys()]) this.delete(key);
  }
}
