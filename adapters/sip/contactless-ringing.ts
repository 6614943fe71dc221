import { Core, type UserAgent } from 'sip.js';
import type { SipLeg } from './sip-leg.js';

/** A sip.js transport's receiving end. */
interface WatchedTransport {
  onMessage: ((message: string) => void) | undefined;
}

const PROVISIONAL_RINGING = /^SIP\/2\.0 18[03] /;

/**
 * RFC 3261 section 12.1.1 makes a Contact mandatory in a dialog-creating 18x,
 * and sip.js 0.21 drops one without it before its delegate hears of it
 * (core/user-agents/invite-user-agent-client.js, "Non-100 1xx INVITE
 * response received without a Contact header field, dropping"). linphone 5.1
 * sends its 180 that way, so the web caller never saw `ringing`. At sip.js's
 * edge such a 180/183 to one of our INVITEs tells the leg of its Call-ID that
 * the phone rings, and still goes on to sip.js, whose INVITE transaction needs
 * it (it stops retransmitting and waits for the final answer). No Contact is
 * made up: sip.js would keep it as the dialog's remote target even after a 2xx
 * that names the real one. An early dialog, and early media from a 183, stay
 * out of reach of such a response.
 */
export function ringOnContactlessProvisional(
  transport: WatchedTransport,
  options: { ua: UserAgent; legOfCallId: (callId: string) => SipLeg | undefined },
): void {
  const deliver = transport.onMessage;
  if (!deliver) throw new Error('the user agent has not attached to its transport yet');
  const logger = options.ua.getLogger('sip.contactless-ringing');
  transport.onMessage = (message) => {
    deliver(message);
    if (!PROVISIONAL_RINGING.test(message)) return;
    const response = Core.Parser.parseMessage(message, logger);
    if (!(response instanceof Core.IncomingResponseMessage) || response.method !== 'INVITE') return;
    if (!response.toTag || response.hasHeader('contact')) return;
    options.legOfCallId(response.callId)?.peerRinging();
  };
}
