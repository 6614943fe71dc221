import type { Core, UserAgent } from 'sip.js';
import type { Logger } from '../../src/index.js';
import type { SipLegDirectory } from './sip-leg-directory.js';

/**
 * UPDATE (RFC 3311), which sip.js 0.21 lacks: answered here for the leg
 * whose dialog it names (481 otherwise, RFC 3261 section 12.2.2). A 2xx to
 * UPDATE carries Contact, as UPDATE is a target refresh request (RFC 3311 section 5.2).
 */
export function dispatchUpdate(ua: UserAgent, request: Core.IncomingRequestMessage, legs: SipLegDirectory, logger: Logger): void {
  const reply = (options: Core.ResponseOptions) => ua.userAgentCore.replyStateless(request, options);
  const leg = legs.byCallId(request.callId);
  if (!request.toTag || !leg || !leg.hasDialog(request.callId + request.toTag + request.fromTag)) {
    reply({ statusCode: 481, reasonPhrase: 'Call/Transaction Does Not Exist' });
    return;
  }
  leg.receiveUpdate(request).then(
    (response) => {
      const contact = response.statusCode < 300 ? [`Contact: ${ua.contact.toString()}`] : [];
      reply({ ...response, extraHeaders: [...contact, ...(response.extraHeaders ?? [])] });
    },
    (error: unknown) => {
      logger.warn({ err: error }, 'UPDATE failed');
      reply({ statusCode: 500, reasonPhrase: 'Server Internal Error' });
    },
  );
}
