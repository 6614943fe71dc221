import { Core, SessionState, type Session } from 'sip.js';
import type { Logger } from '../../src/index.js';
import { SessionExpiryClock } from './session-expiry-clock.js';
import {
  answerRefresh,
  listsTimer,
  parseSessionExpires,
  refresherInOwnRequest,
  timerFromOwnRequestResponse,
  type AgreedSessionTimer,
  type RefreshAnswer,
  type SessionTimerHeaders,
} from './session-timer.js';
import { listsMethod } from './sip-methods.js';
import { sendUpdate } from './update-sender.js';

/** What the session timer needs from its SIP leg. */
export interface DialogSessionTimerHost {
  isEnded(): boolean;
  /** The dialog's session and the Call-ID of its INVITE, once there is one. */
  current(): { session: Session; callId: string } | undefined;
  /** A refresh by re-INVITE with the description in force (for peers without UPDATE); false when there is none. */
  reInvite(extraHeaders: string[], done: (response: Core.IncomingResponseMessage) => void): boolean;
  /** The session is gone: expired unrefreshed, or a refresh got 408/481 (RFC 4028 section 10). BYE and end. */
  lost(detail: string): void;
}

/**
 * One dialog's session timer (RFC 4028), either way round: the interval and
 * refresher in force, the clock, the Session-Expires of the 2xx to the
 * peer's re-INVITEs, and the gateway's refreshes: UPDATE without SDP where
 * the peer allows it (section 10 prefers it: no offer/answer), else re-INVITE.
 */
export class DialogSessionTimer {
  #timer: AgreedSessionTimer | undefined;
  #peerAllowsUpdate = false;
  readonly #clock = new SessionExpiryClock({
    refresh: () => this.#refresh(),
    expired: () => this.host.lost('SIP session timer expired'),
  });

  constructor(
    private readonly host: DialogSessionTimerHost,
    private readonly headers: SessionTimerHeaders,
    private readonly logger: Logger,
    initial: AgreedSessionTimer | undefined,
  ) {
    this.#timer = initial;
  }

  get timer(): AgreedSessionTimer | undefined {
    return this.#timer;
  }

  /** The peer's Allow (its INVITE's or its 2xx's): UPDATE listed means refreshes go by UPDATE (RFC 3311 section 5.1). */
  peerAllows(allow: string | undefined): void {
    this.#peerAllowsUpdate = listsMethod(allow, 'UPDATE');
  }

  /** Any refresh, sent or received, starts the interval again (section 10). */
  arm(): void {
    if (!this.host.isEnded()) this.#clock.arm(this.#timer);
  }

  stop(): void {
    this.#clock.stop();
    const current = this.host.current();
    if (current) this.headers.delete(current.callId);
  }

  /** The 2xx to our INVITE or refresh decides interval and refresher (section 7.2). */
  takeFromOwnResponse(response: Core.IncomingResponseMessage): void {
    this.#set(timerFromOwnRequestResponse(parseSessionExpires(response.getHeader('session-expires') ?? response.getHeader('x'))));
  }

  /** A refresh from the peer that the adapter answers itself (UPDATE): what the 2xx says (section 9). */
  answerPeerRefresh(request: Core.IncomingRequestMessage, minSeconds: number): RefreshAnswer {
    const answer = answerRefresh(
      { sessionExpires: parseSessionExpires(request.getHeader('session-expires') ?? request.getHeader('x')), supportsTimer: listsTimer(request.getHeader('supported')) },
      this.#timer,
      minSeconds,
    );
    if (answer.kind === 'agreed') this.#set(answer.timer);
    return answer;
  }

  /** Registers the timer in force for the 2xx to the peer's re-INVITEs. */
  publish(): void {
    const current = this.host.current();
    if (!current) return;
    if (this.#timer) this.headers.set(current.callId, this.#timer);
    else this.headers.delete(current.callId);
  }

  #set(timer: AgreedSessionTimer | undefined): void {
    this.#timer = timer;
    this.publish();
    this.arm();
  }

  /** Our refresh (sections 7.4, 9); 408 or 481 mean the session is gone, other refusals wait for the next half interval. */
  #refresh(): void {
    const current = this.host.current();
    const timer = this.#timer;
    if (!current || current.session.state !== SessionState.Established || !timer) return;
    const extraHeaders = [`Session-Expires: ${timer.seconds};refresher=${refresherInOwnRequest(timer)}`];
    const done = (response: Core.IncomingResponseMessage) => {
      const status = response.statusCode ?? 500;
      if (status >= 200 && status < 300) return this.takeFromOwnResponse(response);
      if (status === 408 || status === 481) return this.host.lost(`SIP session refresh failed: ${status}`);
      this.logger.debug({ status }, 'session refresh refused');
      this.arm();
    };
    const dialog = current.session.dialog;
    if (this.#peerAllowsUpdate && dialog instanceof Core.SessionDialog) {
      sendUpdate(dialog, extraHeaders).then(done, (error: unknown) => this.logger.debug({ err: error }, 'UPDATE refresh failed'));
      return;
    }
    if (!this.host.reInvite(extraHeaders, done)) this.arm();
  }
}
