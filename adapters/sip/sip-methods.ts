/**
 * Which SIP methods the gateway answers, and what everything else gets
 * (RFC 3261 section 8.2.1): a method the gateway recognises but does not
 * accept here is 405 Method Not Allowed, a method it has never heard of is
 * 501 Not Implemented (section 21.5.2); both carry an Allow header listing
 * ALLOWED_METHODS. sip.js 0.21 answers 405 to both and lists its own methods
 * (no UPDATE, but REGISTER and SUBSCRIBE, which the gateway does not serve).
 */

/** What the gateway's user agent handles: sip.js's methods, and UPDATE (RFC 3311), which the adapter answers. */
export const ALLOWED_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'MESSAGE', 'NOTIFY', 'PRACK', 'REFER', 'UPDATE'] as const;

/**
 * The methods of the IANA "SIP Methods" registry (RFC 3261, 3262, 3265/6665,
 * 3311, 3428, 3515, 3903, 6086): known to the gateway, so those it does not
 * accept are "not allowed", not "not implemented".
 */
const KNOWN_METHODS: ReadonlySet<string> = new Set([...ALLOWED_METHODS, 'PUBLISH', 'REGISTER', 'SUBSCRIBE']);

const ALLOWED: ReadonlySet<string> = new Set(ALLOWED_METHODS);

export type MethodVerdict = 'allowed' | 'not-allowed' | 'not-implemented';

/** Methods are case-sensitive (RFC 3261 section 7.1): `invite` is an unknown method. */
export function methodVerdict(method: string): MethodVerdict {
  if (ALLOWED.has(method)) return 'allowed';
  return KNOWN_METHODS.has(method) ? 'not-allowed' : 'not-implemented';
}

/** The Allow header field the gateway sends (in 405/501, OPTIONS answers, INVITEs and their 2xx). */
export const ALLOW_HEADER = `Allow: ${ALLOWED_METHODS.join(', ')}`;

/** The status line for a method the gateway does not accept. */
export function refusalFor(verdict: Exclude<MethodVerdict, 'allowed'>): { statusCode: number; reasonPhrase: string } {
  return verdict === 'not-allowed' ? { statusCode: 405, reasonPhrase: 'Method Not Allowed' } : { statusCode: 501, reasonPhrase: 'Not Implemented' };
}

/** The request line's method, or undefined for responses and junk. */
export function requestMethod(message: string): string | undefined {
  return /^([A-Za-z0-9.!%*_+`'~-]+) \S+ SIP\/2\.0\r?\n/.exec(message)?.[1];
}

/**
 * Replaces the value of every Allow header field in a message's header
 * (sip.js writes its own lists into INVITEs, their 2xx and OPTIONS answers),
 * so peers learn that UPDATE is welcome (RFC 3311 section 5.1) and are not
 * told about REGISTER or SUBSCRIBE, which would get 405.
 */
export function rewriteAllowHeaders(message: string): string {
  const headerEnd = message.indexOf('\r\n\r\n');
  if (headerEnd < 0) return message;
  const head = message.slice(0, headerEnd);
  if (!/^Allow\s*:/im.test(head)) return message;
  let first = true;
  const lines = head.split('\r\n').flatMap((line) => {
    if (!/^Allow\s*:/i.test(line)) return [line];
    if (!first) return [];
    first = false;
    return [ALLOW_HEADER];
  });
  return lines.join('\r\n') + message.slice(headerEnd);
}

/** Whether an Allow header value lists `method` (RFC 3261 section 20.5). */
export function listsMethod(allow: string | undefined, method: string): boolean {
  return (allow ?? '').split(',').some((entry) => entry.trim() === method);
}
