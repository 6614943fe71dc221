/** Header carrying the Request-URI user a new request was addressed to, for the adapter to route on. */
export const REQUEST_USER_HEADER = 'X-Switchboard-Request-User';

/** The userinfo may hold `;` (user-unreserved, RFC 3261 section 25.1) but never a bare `@`. */
const ADDRESSED_REQUEST = /^([A-Z]+) (sips?):([^@\s>]+)@(\S+) SIP\/2\.0\r\n/;
/** An OPTIONS to the server itself, no user part (RFC 3261 section 11): a health probe such as a dispatcher's. */
const SERVER_OPTIONS = /^OPTIONS (sips?):([^@\s>]+) SIP\/2\.0\r\n/;

/**
 * sip.js answers 404 to any request whose Request-URI user is not its own
 * (RFC 3261 section 8.2.2.1), but the gateway's one user agent stands for
 * every web user. Requests are re-addressed to the gateway's user as they
 * enter sip.js; the user they were for travels in a header. That includes
 * requests inside a dialog (To tag): sip.js checks the user before it looks
 * for the dialog, so a request for a dialog it does not know would get 404
 * where section 12.2.2 asks for 481 (a request for a dialog it knows
 * targets the gateway's Contact, whose user is the gateway's already).
 * An OPTIONS without a user (a proxy's health probe, RFC 3261 section 11) is
 * for the gateway itself and is addressed to its user as well, so it gets 200.
 * Nothing of this reaches the wire: responses are built from the To, From,
 * Via and CSeq fields, which stay as they were.
 */
export function addressToGatewayUser(message: string, gatewayUser: string): string {
  // Answered by the gateway's own user agent, as sip.js answers OPTIONS to its user: 200 with Allow.
  const probe = SERVER_OPTIONS.exec(message);
  if (probe) return `OPTIONS ${probe[1]}:${gatewayUser}@${probe[2]} SIP/2.0\r\n${message.slice(probe[0].length)}`;
  const start = ADDRESSED_REQUEST.exec(message);
  if (!start || start[3] === gatewayUser) return message;
  const rewritten = `${start[1]} ${start[2]}:${gatewayUser}@${start[4]} SIP/2.0\r\n${REQUEST_USER_HEADER}: ${start[3]}\r\n`;
  return rewritten + message.slice(start[0].length);
}

/** Applies `addressToGatewayUser` to everything a sip.js transport hands up. */
export function routeToGatewayUser(transport: { onMessage: ((message: string) => void) | undefined }, gatewayUser: string): void {
  const deliver = transport.onMessage;
  if (!deliver) throw new Error('the user agent has not attached to its transport yet');
  transport.onMessage = (message) => deliver(addressToGatewayUser(message, gatewayUser));
}
