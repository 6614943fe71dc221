/** Header carrying the Request-URI user a new request was addressed to, for the adapter to route on. */
export const REQUEST_USER_HEADER = 'X-Switchboard-Request-User';

const NEW_REQUEST = /^([A-Z]+) (sips?):([^@\s;>]+)@(\S+) SIP\/2\.0\r\n/;

/**
 * sip.js answers 404 to any request whose Request-URI user is not its own
 * (RFC 3261 section 8.2.2.1), but the gateway's one user agent stands for
 * every web user. Requests outside a dialog (no To tag) are re-addressed to
 * the gateway's user as they enter sip.js; the user they were for travels in
 * a header. Nothing of this reaches the wire: responses are built from the
 * To, From, Via and CSeq fields, which stay as they were.
 */
export function addressToGatewayUser(message: string, gatewayUser: string): string {
  const start = NEW_REQUEST.exec(message);
  if (!start || start[3] === gatewayUser) return message;
  const headersEnd = message.indexOf('\r\n\r\n');
  const to = /^(?:To|t)\s*:(.*)$/im.exec(message.slice(0, headersEnd < 0 ? undefined : headersEnd))?.[1] ?? '';
  if (/;\s*tag=/i.test(to)) return message; // in a dialog: the Request-URI is our Contact already
  const rewritten = `${start[1]} ${start[2]}:${gatewayUser}@${start[4]} SIP/2.0\r\n${REQUEST_USER_HEADER}: ${start[3]}\r\n`;
  return rewritten + message.slice(start[0].length);
}

/** Applies `addressToGatewayUser` to everything a sip.js transport hands up. */
export function routeToGatewayUser(transport: { onMessage: ((message: string) => void) | undefined }, gatewayUser: string): void {
  const deliver = transport.onMessage;
  if (!deliver) throw new Error('the user agent has not attached to its transport yet');
  transport.onMessage = (message) => deliver(addressToGatewayUser(message, gatewayUser));
}
