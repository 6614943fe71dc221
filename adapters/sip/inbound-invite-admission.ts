import type { Invitation } from 'sip.js';
import type { GatewayConfig } from '../../src/index.js';
import { REQUEST_USER_HEADER } from './request-user-rewrite.js';
import { MIN_SESSION_EXPIRES_SECONDS, parseSessionExpires, type SessionTimerRequest } from './session-timer.js';
import { compileInboundRules, webUserFor } from './sip-routing-rules.js';
import { parseSource, SOURCE_HEADER, SourceRateLimiter, type SipSource } from './transport/index.js';

/** An INVITE the gateway takes: the web user to ring and what the leg needs to know of it. */
export interface AdmittedInvite {
  webUser: string;
  /** The INVITE's SDP; undefined for a delayed offer, which the gateway makes in its 2xx (delayed-offer.ts). */
  offer: string | undefined;
  /** The session timer the caller asked for (RFC 4028), if any. */
  sessionTimer: SessionTimerRequest | undefined;
  /** Where the INVITE really came from (the transport hub's stamp, not the Via). */
  source: SipSource | undefined;
}

/**
 * Which inbound INVITEs may ring a web user: within the INVITE rate of their
 * source and of all sources (503 + Retry-After), with SDP or no body (415),
 * an acceptable session interval (422), and a Request-URI user that maps to
 * a web user (404; the user comes from the header request-user-rewrite.ts
 * keeps it in). Rejected INVITEs are answered here. Sources outside
 * `sip.inbound.allowedSources` never get this far (inbound-source-gate.ts).
 */
export class InboundInviteAdmission {
  readonly #rules;
  readonly #rate: SourceRateLimiter;

  constructor(private readonly inbound: GatewayConfig['sip']['inbound']) {
    this.#rules = compileInboundRules(inbound.rules);
    this.#rate = new SourceRateLimiter({ perSource: inbound.invitesPerSecond, total: inbound.invitesPerSecondTotal });
  }

  /** The admitted INVITE, or undefined when it has been rejected. */
  admit(invitation: Invitation): AdmittedInvite | undefined {
    const request = invitation.request;
    // The transport hub's stamp: the datagram's or connection's address, whatever the Via says.
    const source = parseSource(request.getHeader(SOURCE_HEADER));
    if (!this.#rate.take(source?.address)) {
      invitation.reject({ statusCode: 503, reasonPhrase: 'Too Many Calls', extraHeaders: ['Retry-After: 5'] }).catch(() => {});
      return undefined;
    }
    const contentType = request.getHeader('content-type') ?? '';
    // No body: a delayed offer, which the gateway makes in its 2xx (delayed-offer.ts). A body
    // that is not SDP: 415 with what the gateway accepts (RFC 3261 section 21.4.13).
    const delayedOffer = !invitation.body;
    if (!delayedOffer && !/^application\/sdp/i.test(contentType)) {
      invitation.reject({ statusCode: 415, reasonPhrase: 'Unsupported Media Type', extraHeaders: ['Accept: application/sdp'] }).catch(() => {});
      return undefined;
    }
    const sessionTimer = parseSessionExpires(request.getHeader('session-expires') ?? request.getHeader('x'));
    if (sessionTimer && sessionTimer.seconds < MIN_SESSION_EXPIRES_SECONDS) {
      // RFC 4028 section 8.1: too brief an interval is refused with our minimum.
      invitation
        .reject({ statusCode: 422, reasonPhrase: 'Session Interval Too Small', extraHeaders: [`Min-SE: ${MIN_SESSION_EXPIRES_SECONDS}`] })
        .catch(() => {});
      return undefined;
    }
    const requestUser = request.getHeader(REQUEST_USER_HEADER) ?? request.ruri?.user ?? '';
    const webUser = webUserFor(requestUser, this.#rules, this.inbound.defaultUser);
    if (!webUser) {
      invitation.reject({ statusCode: 404, reasonPhrase: 'No Such User' }).catch(() => {});
      return undefined;
    }
    return { webUser, offer: delayedOffer ? undefined : invitation.body, sessionTimer, source };
  }
}
