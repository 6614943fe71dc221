import type { AgreedSessionTimer } from './session-timer.js';

/**
 * The one timeout of a dialog's session timer (RFC 4028 section 10): the
 * refresher refreshes at half the interval; the other side ends a session
 * not refreshed by its expiry, the interval minus a third of it or 32 s,
 * whichever is less. Every refresh, sent or received, arms it again.
 */
export class SessionExpiryClock {
  #timeout: NodeJS.Timeout | undefined;

  constructor(private readonly on: { refresh(): void; expired(): void }) {}

  arm(timer: AgreedSessionTimer | undefined): void {
    this.stop();
    if (!timer) return;
    this.#timeout =
      timer.refresher === 'gateway'
        ? setTimeout(() => this.on.refresh(), (timer.seconds * 1000) / 2)
        : setTimeout(() => this.on.expired(), expiryMs(timer.seconds));
    this.#timeout.unref();
  }

  stop(): void {
    clearTimeout(this.#timeout);
    this.#timeout = undefined;
  }
}

/** Section 10: when the side that does not refresh gives up. */
export function expiryMs(seconds: number): number {
  return (seconds - Math.min(32, seconds / 3)) * 1000;
}
