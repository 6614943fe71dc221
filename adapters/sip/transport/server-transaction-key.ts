import type { PeekedMessage, PeekedVia } from './sip-message-peek.js';

/** RFC 3261 section 8.1.1.7: the branch of an RFC 3261 client starts with this "magic cookie". */
export const MAGIC_COOKIE = 'z9hG4bK';

/**
 * Whether a branch identifies its transaction on its own: the magic cookie
 * followed by an identifier. A bare cookie (RFC 4475 section 3.2.1) and a
 * branch without the cookie (RFC 2543 clients, or wsinv's `390skdjuw`)
 * fall back to the older matching rules.
 */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return branch !== undefined && branch.length > MAGIC_COOKIE.length && branch.startsWith(MAGIC_COOKIE);
}

/** The sent-by of a Via as one comparable string (host case-folded; no port means the default). */
export function sentByOf(via: PeekedVia): string {
  return `${via.host.toLowerCase()}:${via.port ?? ''}`;
}

/**
 * The server transaction a request, or a response to it, belongs to (RFC
 * 3261 section 17.2.3), without the method, so that an ACK or a CANCEL
 * finds its INVITE; callers that tell transactions apart add the method.
 *
 * - With the magic cookie: branch and sent-by of the top Via. The sent-by
 *   is there because "there could be accidental or malicious duplication of
 *   branch parameters from different clients".
 * - Without it (RFC 2543 clients): Call-ID, From tag, CSeq number and the
 *   top Via's sent-by. Section 17.2.3 also compares the Request-URI and the
 *   To tag; they are left out because a response has no Request-URI and
 *   gains a To tag, and the same key must be computable from both.
 */
export function serverTransactionKey(message: PeekedMessage): string | undefined {
  const via = message.topVia;
  if (!via) return undefined;
  if (isRfc3261Branch(via.branch)) return `${via.branch}|${sentByOf(via)}`;
  if (!message.callId || !message.cseq) return undefined;
  return `2543|${sentByOf(via)}|${message.callId}|${message.fromTag ?? ''}|${message.cseq.sequence}`;
}
