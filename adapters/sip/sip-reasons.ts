import type { EndReason } from '../../src/index.js';

/**
 * SIP final responses <-> the core's end reasons, in one place (RFC 3261
 * section 21). Only this file knows SIP status numbers.
 */
export function endReasonForStatus(status: number): EndReason {
  switch (status) {
    case 486:
    case 600:
      return 'busy';
    case 603:
      return 'declined';
    case 404:
    case 484:
    case 604:
      return 'not-found';
    case 480:
      return 'offline';
    case 408:
      return 'no-answer';
    case 403:
    case 401:
    case 407:
      return 'forbidden';
    case 488:
    case 606:
    case 415:
      return 'incompatible-media';
    case 487:
      return 'cancelled';
    case 503:
    case 502:
    case 504:
      return 'unreachable';
    default:
      return status >= 500 ? 'unreachable' : 'failed';
  }
}

/**
 * How long a caller turned away for want of media ports is asked to wait
 * (RFC 3261 section 21.5.4: 503 with Retry-After): calls end and free their
 * ports within minutes, so half a minute is a fair first retry.
 */
export const OVERLOADED_RETRY_AFTER_SECONDS = 30;

/** The response a SIP caller gets when the call could not be set up for `reason`. */
export function statusForEndReason(reason: EndReason): { statusCode: number; reasonPhrase: string; extraHeaders?: string[] } {
  switch (reason) {
    case 'busy':
      return { statusCode: 486, reasonPhrase: 'Busy Here' };
    case 'declined':
      return { statusCode: 603, reasonPhrase: 'Decline' };
    case 'not-found':
      return { statusCode: 404, reasonPhrase: 'Not Found' };
    case 'offline':
      return { statusCode: 480, reasonPhrase: 'Temporarily Unavailable' };
    case 'no-answer':
      return { statusCode: 480, reasonPhrase: 'No Answer' };
    case 'forbidden':
      return { statusCode: 403, reasonPhrase: 'Forbidden' };
    case 'incompatible-media':
      return { statusCode: 488, reasonPhrase: 'Not Acceptable Here' };
    case 'cancelled':
      return { statusCode: 487, reasonPhrase: 'Request Terminated' };
    case 'shutdown':
    case 'unreachable':
      return { statusCode: 503, reasonPhrase: 'Service Unavailable' };
    case 'overloaded':
      return { statusCode: 503, reasonPhrase: 'Service Unavailable', extraHeaders: [`Retry-After: ${OVERLOADED_RETRY_AFTER_SECONDS}`] };
    default:
      return { statusCode: 500, reasonPhrase: 'Server Internal Error' };
  }
}

/**
 * The Reason header (RFC 3326) of a BYE the gateway sends for `reason`, when
 * the SIP party should learn why its call ended; undefined for an ordinary
 * hangup. A dead media path is no SIP response, so the cause borrows 408 as
 * other servers do for an RTP timeout, with the text saying what happened.
 */
export function byeReasonHeader(reason: EndReason): string | undefined {
  switch (reason) {
    case 'media-timeout':
      return 'Reason: SIP ;cause=408 ;text="Media Timeout"';
    default:
      return undefined;
  }
}

/** `SIP 486 Busy Here`: the detail browsers see with the end reason. */
export function describeStatus(status: number, phrase: string): string {
  const detail = `SIP ${status} ${phrase}`.trim();
  // sip.js answers one challenge per request (RFC 3261 section 22.2); a 401/407 that still
  // ends the call means the credentials were refused (section 22.3) or none are configured.
  if (status === 401 || status === 407) return `${detail}: credentials refused or missing`;
  return detail;
}
