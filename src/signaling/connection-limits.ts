/** Why a new browser connection was turned away. */
export type ConnectionRefusal = { readonly status: 429 | 503; readonly reason: string };

export interface ConnectionLimitsOptions {
  /** All browser connections together; 0: no limit. */
  readonly maxConnections: number;
  /** Connections from one source address, logged in or not. */
  readonly maxConnectionsPerSource: number;
  /** Connections from one source address that have not logged in yet. */
  readonly maxPendingLoginsPerSource: number;
  /** Calls placed from one source address and not ended yet. */
  readonly maxCallsPerSource: number;
}

interface SourceCount {
  open: number;
  pending: number;
  calls: number;
}

/**
 * What one source may hold of the browser WebSocket endpoint. A connection
 * that has not logged in costs a socket and a login timer for up to
 * `signaling.loginTimeoutMs`, so anonymous strangers are capped per source
 * harder than logged-in users (several of whom may share an office NAT).
 * Calls placed are capped per source too: an anchored call costs a
 * PeerConnection, RTP ports and CPU, and a source could otherwise open
 * connections up to its limit and fill each with calls.
 */
export class ConnectionLimits {
  readonly #bySource = new Map<string, SourceCount>();
  #total = 0;

  constructor(private readonly options: () => ConnectionLimitsOptions) {}

  /** Takes a place for a new connection from `source`, or says why not. */
  admit(source: string): ConnectionRefusal | undefined {
    const limits = this.options();
    const count = this.#bySource.get(source) ?? { open: 0, pending: 0, calls: 0 };
    if (limits.maxConnections > 0 && this.#total >= limits.maxConnections) return { status: 503, reason: 'the gateway has no room for more connections' };
    if (count.open >= limits.maxConnectionsPerSource) return { status: 429, reason: 'too many connections from this address' };
    if (count.pending >= limits.maxPendingLoginsPerSource) return { status: 429, reason: 'too many connections from this address waiting to log in' };
    count.open += 1;
    count.pending += 1;
    this.#total += 1;
    this.#bySource.set(source, count);
    return undefined;
  }

  /** The connection from `source` logged in: it no longer counts as pending. */
  loggedIn(source: string): void {
    const count = this.#bySource.get(source);
    if (count && count.pending > 0) count.pending -= 1;
  }

  /** Takes a place for a call placed from `source`; false when it has as many going as it may. */
  takeCall(source: string): boolean {
    const count = this.#bySource.get(source);
    if (!count || count.calls >= this.options().maxCallsPerSource) return false;
    count.calls += 1;
    return true;
  }

  /** A call placed from `source` ended. */
  releaseCall(source: string): void {
    const count = this.#bySource.get(source);
    if (count && count.calls > 0) count.calls -= 1;
  }

  /** The connection from `source` closed (`pending`: before it logged in). */
  released(source: string, pending: boolean): void {
    const count = this.#bySource.get(source);
    if (!count) return;
    count.open -= 1;
    if (pending && count.pending > 0) count.pending -= 1;
    this.#total -= 1;
    if (count.open <= 0) this.#bySource.delete(source);
  }

  get total(): number {
    return this.#total;
  }
}
