import { scanHeaders, splitNameAddr } from './transport/index.js';

/**
 * RFC 2543 did not require Contact in an INVITE, and RFC 4475 section 3.4.1
 * asks RFC 3261 elements that keep backwards compatibility to accept such a
 * request; sip.js answers it "400 Missing Contact Header". An INVITE without
 * Contact therefore gets its From URI as Contact as it enters sip.js: the
 * address its RFC 2543 sender is known by, so requests in the dialog have a
 * target. Nothing of this reaches the wire.
 */
export function withContactFromFrom(message: string): string {
  if (!message.startsWith('INVITE ')) return message;
  const scanned = scanHeaders(message);
  if (!scanned || scanned.fields.some((field) => field.name === 'contact')) return message;
  const from = scanned.fields.find((field) => field.name === 'from');
  const uri = from && splitNameAddr(from.value)?.uri;
  if (!uri) return message;
  const lineEnd = message.indexOf('\r\n');
  return `${message.slice(0, lineEnd + 2)}Contact: <${uri}>\r\n${message.slice(lineEnd + 2)}`;
}

/** Applies `withContactFromFrom` to everything a sip.js transport hands up. */
export function acceptRfc2543Invites(transport: { onMessage: ((message: string) => void) | undefined }): void {
  const deliver = transport.onMessage;
  if (!deliver) throw new Error('the user agent has not attached to its transport yet');
  transport.onMessage = (message) => deliver(withContactFromFrom(message));
}
