/**
 * Signing in again after the WebSocket dropped (gateway restart, network
 * change), with the same credentials, waiting about 1, 2, 4… up to 15 s
 * between tries until it works or the user signs out. The page shows "Reconnecting…"
 * meanwhile. A dropped connection is first resumed by the SDK itself (calls go
 * on); this is for what a resume cannot mend: a gateway restart, a closed
 * session, a resume refused (its calls have ended).
 */

import type { LoginOptions, SwitchboardClient, WelcomeMessage } from '../client/index.js';

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 15_000;

export interface ReconnectHandlers {
  /** A try is scheduled in `delayMs` (attempt 1, 2…). */
  waiting(attempt: number, delayMs: number, lastError: unknown): void;
  /** Signed in again. */
  reconnected(welcome: WelcomeMessage): void;
}

export class Reconnector {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private credentials: LoginOptions | undefined;
  private attempt = 0;

  constructor(
    private readonly client: SwitchboardClient,
    private readonly handlers: ReconnectHandlers,
  ) {}

  get active(): boolean {
    return this.credentials !== undefined;
  }

  /** The connection dropped: keep signing in with `credentials` until it works or `stop()`. */
  start(credentials: LoginOptions): void {
    this.stop();
    this.credentials = credentials;
    this.schedule(undefined);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.credentials = undefined;
    this.attempt = 0;
  }

  private schedule(lastError: unknown): void {
    this.attempt += 1;
    // Spread by ±50% so that the pages of a restarted gateway do not all come back in the same instant.
    const delay = Math.round(Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (this.attempt - 1)) * (0.5 + Math.random()));
    this.handlers.waiting(this.attempt, delay, lastError);
    this.timer = setTimeout(() => void this.tryOnce(), delay);
  }

  private async tryOnce(): Promise<void> {
    const credentials = this.credentials;
    if (!credentials) return;
    try {
      const welcome = await this.client.login(credentials);
      if (this.credentials !== credentials) return;
      this.stop();
      this.handlers.reconnected(welcome);
    } catch (error) {
      if (this.credentials !== credentials) return;
      if (this.client.connected) this.client.close(); // logged-in failed on an open socket: start clean
      this.schedule(error);
    }
  }
}
