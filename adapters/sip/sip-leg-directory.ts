import { SessionState, type Session } from 'sip.js';
import { sipCallId } from './sip-call-id.js';
import type { SipLeg } from './sip-leg.js';

/**
 * The SIP legs of the adapter's sessions: by session for sip.js's SDH
 * factory (leg-session-description-handler.ts), and by Call-ID for the
 * in-dialog requests the adapter answers itself (UPDATE).
 */
export class SipLegDirectory {
  readonly legOfSession = new WeakMap<Session, SipLeg>();
  readonly #legOfCallId = new Map<string, SipLeg>();

  track(session: Session, leg: SipLeg): void {
    this.legOfSession.set(session, leg);
    const callId = sipCallId(session);
    this.#legOfCallId.set(callId, leg);
    session.stateChange.addListener((state) => {
      if (state === SessionState.Terminated && this.#legOfCallId.get(callId) === leg) this.#legOfCallId.delete(callId);
    });
  }

  byCallId(callId: string): SipLeg | undefined {
    return this.#legOfCallId.get(callId);
  }
}
