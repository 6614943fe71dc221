import { sourceKey } from './source-key.js';

export interface ConnectionLimits {
  /** Inbound TCP, TLS and WebSocket flows at once, all sources together. */
  readonly maxConnections: number;
  /** Inbound flows at once from one source (an IPv4 address, an IPv6 /64). */
  readonly maxConnectionsPerSource: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { maxConnections: 256, maxConnectionsPerSource: 32 };

/** Why a connection was refused: the total or its source's share was used up. */
export type ConnectionRefusal = 'total' | 'per-source';

/** A place taken by one accepted connection; `release` gives it back (more calls do nothing). */
export interface ConnectionLease {
  release(): void;
}

/**
 * Counts the connections peers hold open towards the gateway and refuses
 * more than the limits at accept time, before anything is read from them.
 * Each accepted socket holds a file descriptor until it closes, and the
 * process shares one descriptor table with the HTTP/WebSocket side: without
 * a cap, idle SIP connections alone could make `accept()` on the web port
 * fail. State only exists for sources with an open connection, so it is
 * bounded by `maxConnections`.
 */
export class InboundConnectionLimiter {
  readonly #limits: ConnectionLimits;
  readonly #bySource = new Map<string, number>();
  #open = 0;

  constructor(limits: ConnectionLimits) {
    this.#limits = limits;
  }

  get limits(): ConnectionLimits {
    return this.#limits;
  }

  /** Connections holding a place right now. */
  get open(): number {
    return this.#open;
  }

  admit(address: string): ConnectionLease | ConnectionRefusal {
    if (this.#open >= this.#limits.maxConnections) return 'total';
    const key = sourceKey(address);
    const fromSource = this.#bySource.get(key) ?? 0;
    if (fromSource >= this.#limits.maxConnectionsPerSource) return 'per-source';
    this.#bySource.set(key, fromSource + 1);
    this.#open++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#open--;
        const left = (this.#bySource.get(key) ?? 1) - 1;
        if (left <= 0) this.#bySource.delete(key);
        else this.#bySource.set(key, left);
      },
    };
  }
}
