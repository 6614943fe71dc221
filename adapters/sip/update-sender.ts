import { Core } from 'sip.js';

/**
 * Sends an UPDATE in a confirmed dialog (RFC 3311), which sip.js 0.21 cannot:
 * the dialog builds the request (route set, CSeq, tags) and a non-INVITE
 * client transaction carries it, as sip.js does for INFO. Resolves with the
 * final response; a timeout is an internal 408 and a transport failure a 503
 * (RFC 3261 section 8.1.3.1), which sip.js synthesises.
 */
export function sendUpdate(dialog: Core.SessionDialog, extraHeaders: string[]): Promise<Core.IncomingResponseMessage> {
  return new Promise((resolve) => {
    // UPDATE is a target refresh request: it carries the Contact (RFC 3311 section 5.1).
    const contact = `Contact: ${dialog.userAgentCore.configuration.contact.toString()}`;
    const message = dialog.createOutgoingRequestMessage(Core.C.UPDATE, { extraHeaders: [contact, ...extraHeaders] });
    new Core.UserAgentClient(Core.NonInviteClientTransaction, dialog.userAgentCore, message, {
      onAccept: (response) => resolve(response.message),
      onReject: (response) => resolve(response.message),
      onRedirect: (response) => resolve(response.message),
    });
  });
}
