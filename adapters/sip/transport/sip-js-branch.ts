import { createHash } from 'node:crypto';
import type { PeekedRequest, PeekedResponse } from './sip-message-peek.js';
import { isRfc3261Branch, MAGIC_COOKIE, sentByOf } from './server-transaction-key.js';
import { setTopViaBranch } from './sip-via-rewrite.js';

/**
 * sip.js 0.21 finds the server transaction of a request by the Via branch
 * alone (user-agent-core.js: "FIXME: Currently only using rule 1"), so a
 * client that reuses another client's branch, by accident or to meddle,
 * lands in that client's transaction, and the requests of RFC 2543 clients,
 * which have no branch, all land in one. The hub therefore hands sip.js a
 * branch that stands for the whole RFC 3261 section 17.2.3 identity of the
 * request, and puts the client's own branch back into every response sip.js
 * sends. The client's branch travels inside the new one, so nothing has to
 * be remembered: `z9hG4bKsw<digest>` (the client had none) or
 * `z9hG4bKsw<digest>-<client branch>`.
 */

const PREFIX = `${MAGIC_COOKIE}sw`;
const DIGEST_LENGTH = 16;

/** What makes two requests the same transaction for sip.js. */
function transactionIdentity(request: PeekedRequest): string | undefined {
  const via = request.topVia;
  if (!via) return undefined;
  if (isRfc3261Branch(via.branch)) {
    // Section 17.2.3: an ACK matches the INVITE it acknowledges; section 9.2: a CANCEL
    // names the transaction it cancels, which sip.js looks up with the CANCEL's branch.
    const method = request.method === 'ACK' || request.method === 'CANCEL' ? 'INVITE' : request.method;
    return `${via.branch}|${sentByOf(via)}|${method}`;
  }
  // RFC 2543 clients: the section 17.2.3 fields. Their ACK keeps its own identity: sip.js
  // drops an ACK that matches an INVITE transaction it has answered with a 2xx, so the
  // ACK must reach the dialog instead (for a non-2xx answer, the hub's Timer G already stops on it).
  const method = request.method === 'CANCEL' ? 'INVITE' : request.method;
  return ['2543', sentByOf(via), request.requestUri, request.callId, request.fromTag ?? '', request.cseq?.sequence, method].join('|');
}

/** The request as sip.js gets it: its top Via branch names its whole server transaction. */
export function withSipJsBranch(message: string, request: PeekedRequest): string {
  const identity = transactionIdentity(request);
  if (!identity) return message;
  const digest = createHash('sha256').update(identity).digest('hex').slice(0, DIGEST_LENGTH);
  const clientBranch = request.topVia?.branch;
  return setTopViaBranch(message, `${PREFIX}${digest}${clientBranch === undefined ? '' : `-${clientBranch}`}`) ?? message;
}

/** A response sip.js sends, with the client's own branch back in its top Via. */
export function withClientBranch(message: string, response: PeekedResponse): string {
  const branch = response.topVia?.branch;
  if (!branch?.startsWith(PREFIX) || branch.length < PREFIX.length + DIGEST_LENGTH) return message;
  const rest = branch.slice(PREFIX.length + DIGEST_LENGTH);
  if (rest !== '' && !rest.startsWith('-')) return message;
  return setTopViaBranch(message, rest === '' ? undefined : rest.slice(1)) ?? message;
}
