import { Inviter, SessionState, type Invitation, type Session } from 'sip.js';
import type { EndReason } from '../../src/index.js';
import { byeReasonHeader, statusForEndReason } from './sip-reasons.js';

/**
 * Ends a SIP session the way its state allows: BYE once established (with a
 * Reason header when the gateway ended it for a cause the party should
 * know), CANCEL for our INVITE still in progress, a final response with the
 * SIP status of `reason` for the party's INVITE not answered yet.
 */
export function endSipSession(session: Session, reason: EndReason, failed: (error: unknown) => void): void {
  if (session.state === SessionState.Established) {
    const reasonHeader = byeReasonHeader(reason);
    session.bye(reasonHeader ? { requestOptions: { extraHeaders: [reasonHeader] } } : undefined).catch(failed);
  } else if (session instanceof Inviter) {
    if (session.state === SessionState.Initial || session.state === SessionState.Establishing) session.cancel().catch(failed);
  } else {
    const invitation = session as Invitation;
    if (invitation.state === SessionState.Initial || invitation.state === SessionState.Establishing) {
      invitation.reject(statusForEndReason(reason)).catch(failed);
    }
  }
}
