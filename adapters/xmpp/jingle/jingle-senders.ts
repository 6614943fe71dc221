import type { JingleRole, MediaDirection } from './session-description.js';

/** XEP-0166 section 7.1 `senders`: who sends media, absolute rather than seen from one side. */
export type JingleSenders = 'both' | 'initiator' | 'responder' | 'none';

export const JINGLE_SENDERS: readonly JingleSenders[] = ['both', 'initiator', 'responder', 'none'];

/**
 * `senders` → the SDP direction in the description written by `author`. Role-aware, as
 * Conversations, Monal and StanzaJS do it: `senders='initiator'` is `sendonly` in the
 * initiator's description and `recvonly` in the responder's (JINGLE.md section 1.3; Movim and
 * lib-jitsi-meet get this wrong, so only `both`/`none` are safe towards Movim).
 */
export function sendersToDirection(senders: JingleSenders, author: JingleRole): MediaDirection {
  switch (senders) {
    case 'both':
      return 'sendrecv';
    case 'none':
      return 'inactive';
    default:
      return senders === author ? 'sendonly' : 'recvonly';
  }
}

/** The inverse of {@link sendersToDirection}. */
export function directionToSenders(direction: MediaDirection, author: JingleRole): JingleSenders {
  const other: JingleRole = author === 'initiator' ? 'responder' : 'initiator';
  switch (direction) {
    case 'sendrecv':
      return 'both';
    case 'inactive':
      return 'none';
    case 'sendonly':
      return author;
    case 'recvonly':
      return other;
  }
}
