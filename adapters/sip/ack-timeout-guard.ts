import { SessionState, type Invitation } from 'sip.js';
import type { Logger } from '../../src/index.js';

/**
 * sip.js 0.21.2: when a session whose 2xx was never ACKed is ended by a BYE, the INVITE server
 * transaction still reports the missing ACK (RFC 3261 section 13.3.1.4, 64*T1) and
 * `Invitation.onAckTimeout` sends a BYE on the dead dialog and throws "Invalid state transition
 * from Terminated to Terminated" from a transaction callback: an uncaught exception that would
 * end the process. Any caller can trigger it (INVITE, 200, BYE without ACK), and an overloaded
 * UAC does. The guard lets a terminated session ignore the late timeout and keeps any other
 * failure of it inside this one call.
 */
export function guardAckTimeout(invitation: Invitation, logger: Logger): void {
  const target = invitation as unknown as { onAckTimeout: () => void };
  const original = target.onAckTimeout.bind(invitation);
  target.onAckTimeout = () => {
    if (invitation.state === SessionState.Terminated) return;
    try {
      original();
    } catch (error) {
      logger.warn({ err: error, callId: invitation.request.callId }, 'ACK timeout handling failed');
    }
  };
}
