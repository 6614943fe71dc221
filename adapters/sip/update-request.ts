import type { Core } from 'sip.js';

/**
 * What to do with an UPDATE in a dialog (RFC 3311 section 5.2), before any
 * session timer or SDP is looked at. An UPDATE may carry an offer only when
 * no other offer is outstanding: while the gateway's own offer waits for its
 * answer the peer gets 491 (glare, it retries later); while the peer's
 * initial offer is still unanswered (an early dialog of a call to the
 * gateway) 500 with Retry-After. An UPDATE without SDP is a session refresh
 * (RFC 4028 section 10) and always welcome.
 */
export type UpdateVerdict =
  | { kind: 'refresh' }
  | { kind: 'offer'; sdp: string }
  | { kind: 'reject'; statusCode: number; reasonPhrase: string; extraHeaders: string[] };

export interface UpdateContext {
  /** The dialog is confirmed (2xx and ACK) and no offer/answer is incomplete. */
  established: boolean;
  /** The gateway has an offer out that is not answered yet. */
  ownOfferPending: boolean;
  /** The highest CSeq number seen from the peer in this dialog (RFC 3261 section 12.2.2). */
  highestPeerCSeq: number;
}

export function judgeUpdate(request: Pick<Core.IncomingRequestMessage, 'cseq' | 'body' | 'getHeader'>, context: UpdateContext): UpdateVerdict {
  if (request.cseq <= context.highestPeerCSeq) {
    return { kind: 'reject', statusCode: 500, reasonPhrase: 'CSeq Out of Order', extraHeaders: [] };
  }
  const contentType = request.getHeader('content-type') ?? '';
  if (!request.body || !/^application\/sdp/i.test(contentType)) return { kind: 'refresh' };
  if (context.ownOfferPending) return { kind: 'reject', statusCode: 491, reasonPhrase: 'Request Pending', extraHeaders: [] };
  if (!context.established) {
    // Up to 10 s, as RFC 3261 section 14.2 asks of the same race for re-INVITEs.
    return { kind: 'reject', statusCode: 500, reasonPhrase: 'Offer In Progress', extraHeaders: [`Retry-After: ${1 + Math.floor(Math.random() * 10)}`] };
  }
  return { kind: 'offer', sdp: request.body };
}
