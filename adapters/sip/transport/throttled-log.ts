import type { Logger } from '../../../src/index.js';

/**
 * Logging for what the network throws at us (garbage datagrams, unmatched
 * responses at debug level; refused connections at warn level): a peer, or
 * an attacker, can send thousands a second, so each kind of event is logged
 * at most `burst` times per window, and the next line logged says how many
 * were left out.
 */
export class ThrottledLog {
  readonly #logger: Logger;
  readonly #burst: number;
  readonly #windowMs: number;
  readonly #windows = new Map<string, { start: number; logged: number; suppressed: number }>();

  constructor(logger: Logger, options: { burst?: number; windowMs?: number } = {}) {
    this.#logger = logger;
    this.#burst = options.burst ?? 10;
    this.#windowMs = options.windowMs ?? 60_000;
  }

  debug(kind: string, fields: Record<string, unknown>, message: string): void {
    this.#log('debug', kind, fields, message);
  }

  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    this.#log('warn', kind, fields, message);
  }

  #log(level: 'debug' | 'warn', kind: string, fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    let window = this.#windows.get(kind);
    if (!window || now - window.start >= this.#windowMs) {
      const suppressed = window?.suppressed ?? 0;
      window = { start: now, logged: 0, suppressed: 0 };
      this.#windows.set(kind, window);
      if (suppressed > 0) fields = { ...fields, suppressedBefore: suppressed };
    }
    if (window.logged >= this.#burst) {
      window.suppressed++;
      return;
    }
    window.logged++;
    this.#logger[level]({ kind, ...fields }, message);
  }
}
