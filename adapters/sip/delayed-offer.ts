import { randomInt } from 'node:crypto';

/**
 * A delayed-offer INVITE (no SDP, RFC 3261 section 13.2.1, RFC 6337 section
 * 3.2) asks the gateway to offer in its 2xx and answers in the ACK. The core
 * only knows calls that start with the caller's offer, so the SIP leg stands
 * in for the phone with this placeholder offer: the web user is offered what
 * it holds, chooses a codec, and the anchor's answer to the placeholder (its
 * RTP address, exactly the chosen codec) is the offer the 2xx carries. The
 * phone's answer in the ACK then reaches the call as a re-offer from the leg,
 * which the anchor takes as the phone's real address; the anchor's answer to
 * that is for nobody and is dropped.
 *
 * Why only G.711 (PCMU, PCMA) and telephone-event, although the anchor also
 * carries G.722 and opus: the 2xx offers exactly one codec (the anchor never
 * transcodes), and an answer in an ACK cannot refuse it (RFC 6337 section
 * 3.2: the only way out is BYE). The codec must be one every SIP phone and
 * PBX has, and G.711 is the only such one (RFC 3551 section 4.5.14).
 *
 * `c=0.0.0.0` with port 9 (discard) is not a hold here (the direction is
 * sendrecv): it means "address not known yet"; the anchor's RTP endpoint
 * sends nothing to the unspecified address, and until the ACK it may still
 * latch onto media from the phone's signaling address (symmetric RTP).
 */
export function delayedOfferPlaceholder(): string {
  const id = randomInt(1, 2 ** 31);
  return [
    'v=0',
    `o=- ${id} 1 IN IP4 0.0.0.0`,
    's=-',
    'c=IN IP4 0.0.0.0',
    't=0 0',
    'm=audio 9 RTP/AVP 0 8 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    'a=sendrecv',
    '',
  ].join('\r\n');
}
