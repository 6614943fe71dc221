import { Inviter, type Invitation, type Session } from 'sip.js';

/** The Call-ID of a session's INVITE, either way round. */
export function sipCallId(session: Session): string {
  return session instanceof Inviter ? session.request.callId : (session as Invitation).request.callId;
}
