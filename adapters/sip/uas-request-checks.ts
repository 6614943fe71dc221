import type { Core } from 'sip.js';

/**
 * The header inspection of RFC 3261 section 8.2.2 (and the Accept side of
 * 8.2.3) that sip.js 0.21 leaves as TODOs, as pure functions. Each returns
 * the refusal to send, or undefined when the request may go on.
 */

export interface Refusal {
  readonly statusCode: number;
  readonly reasonPhrase: string;
  readonly extraHeaders?: readonly string[];
  /** Text for a Warning header field. */
  readonly warning?: string;
}

/**
 * Option tags (section 19.2) of the extensions the gateway implements as a
 * UAS: session timers (RFC 4028, session-timer.ts). Not `100rel`: sip.js
 * would put the SDP answer into a reliable 18x before the web user answers.
 * Not `replaces`: sip.js's support for it is off.
 */
export const SUPPORTED_OPTION_TAGS: readonly string[] = ['timer'];

/** Section 8.2.2.1: a Request-URI scheme the gateway does not serve gets 416 (RFC 4475 sections 3.3.2, 3.3.3). */
export function requestUriSchemeRefusal(message: string): Refusal | undefined {
  const scheme = /^\S+ ([A-Za-z][A-Za-z0-9+.-]*):/.exec(message)?.[1];
  // sips: is left to sip.js, which answers it 416 as well (no sips Request-URI support yet).
  if (scheme === undefined || /^sips?$/i.test(scheme)) return undefined;
  return { statusCode: 416, reasonPhrase: 'Unsupported URI Scheme', warning: `the Request-URI scheme ${scheme}: is not supported (sip: only)` };
}

/**
 * Section 8.2.2.3: a Require option tag the gateway does not support gets
 * 420 with an Unsupported header field listing it. Require is ignored on
 * ACK and CANCEL, and Proxy-Require is a proxy's business (RFC 4475 section 3.3.5).
 */
export function requireRefusal(request: Core.IncomingRequestMessage): Refusal | undefined {
  if (request.method === 'ACK' || request.method === 'CANCEL') return undefined;
  const required = request
    .getHeaders('require')
    .flatMap((value) => value.split(','))
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
  const supported = new Set(SUPPORTED_OPTION_TAGS.map((tag) => tag.toLowerCase()));
  const unsupported = [...new Set(required.filter((tag) => !supported.has(tag.toLowerCase())))];
  if (unsupported.length === 0) return undefined;
  return { statusCode: 420, reasonPhrase: 'Bad Extension', extraHeaders: [`Unsupported: ${unsupported.join(', ')}`] };
}

/**
 * Sections 8.2.3 and 21.4.7: the 2xx to an INVITE carries SDP, so an INVITE
 * whose Accept leaves out application/sdp cannot be answered as asked: 406
 * (RFC 4475 section 3.3.15). Without Accept, application/sdp is assumed (section 20.1).
 */
export function acceptRefusal(request: Core.IncomingRequestMessage): Refusal | undefined {
  if (request.method !== 'INVITE' || !request.hasHeader('accept')) return undefined;
  const ranges = request
    .getHeaders('accept')
    .flatMap((value) => value.split(','))
    .map((range) => range.split(';')[0]!.trim().toLowerCase());
  if (ranges.some((range) => range === 'application/sdp' || range === 'application/*' || range === '*/*')) return undefined;
  return {
    statusCode: 406,
    reasonPhrase: 'Not Acceptable',
    extraHeaders: ['Accept: application/sdp'],
    warning: 'the answer to an INVITE carries application/sdp, which Accept leaves out',
  };
}
