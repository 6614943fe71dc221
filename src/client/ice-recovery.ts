/**
 * Brings a call's ICE back after a network change (RFC 8445 section 9, JSEP's restartIce): when
 * ICE stays `disconnected` for a moment, fails, or the SDK learns the network changed, it restarts
 * ICE with a re-offer; if that does not bring ICE back in time, the call is given up.
 */

/** Browsers often leave `disconnected` by themselves within a second or two (a lost burst). */
const DISCONNECTED_GRACE_MS = 2000;
/** How long a restart has to bring ICE back before the call ends. */
const RESTART_TIMEOUT_MS = 15_000;

export interface IceRecoveryActions {
  /** Whether the call is answered and still live (restarts make sense only then). */
  active(): boolean;
  /** Re-offers with new ICE credentials; resolves when the answer is applied. */
  restart(): Promise<void>;
  /** ICE did not come back: the call ends. */
  giveUp(detail: string): void;
}

export class IceRecovery {
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #restarting = false;

  constructor(
    private readonly pc: RTCPeerConnection,
    private readonly actions: IceRecoveryActions,
  ) {
    pc.addEventListener('iceconnectionstatechange', () => this.#onState());
  }

  /** The network changed (an `online` event): the old pair may be dead before ICE notices. */
  restartNow(): void {
    void this.#restart();
  }

  /** The signaling came back (a resumed session): restart if ICE went down meanwhile. */
  restartIfDown(): void {
    if (!this.#up()) void this.#restart();
  }

  stop(): void {
    clearTimeout(this.#graceTimer);
    clearTimeout(this.#deadline);
    this.#graceTimer = undefined;
    this.#deadline = undefined;
  }

  #up(): boolean {
    const state = this.pc.iceConnectionState;
    return state === 'connected' || state === 'completed';
  }

  #onState(): void {
    if (!this.actions.active()) return;
    const state = this.pc.iceConnectionState;
    if (this.#up()) return this.stop();
    if (state === 'failed') return void this.#restart();
    if (state === 'disconnected') {
      this.#graceTimer ??= setTimeout(() => {
        this.#graceTimer = undefined;
        if (!this.#up()) void this.#restart();
      }, DISCONNECTED_GRACE_MS);
    }
  }

  async #restart(): Promise<void> {
    if (this.#restarting || !this.actions.active()) return;
    this.#restarting = true;
    this.#deadline ??= setTimeout(() => {
      this.#deadline = undefined;
      if (!this.#up() && this.actions.active()) this.actions.giveUp(`ICE did not come back within ${RESTART_TIMEOUT_MS / 1000} s of a restart`);
    }, RESTART_TIMEOUT_MS);
    try {
      await this.actions.restart();
    } catch {
      // No signaling now (the session is being resumed) or no answer: the resume, another state
      // change or the deadline decides.
    } finally {
      this.#restarting = false;
    }
  }
}
