import { BlockList, isIP } from 'node:net';
import type { Invitation } from 'sip.js';
import type { GatewayConfig } from '../../src/index.js';
import { REQUEST_USER_HEADER } from './request-user-rewrite.js';
import { MIN_SESSION_EXPIRES_SECONDS, parseSessionExpires, type SessionTimerRequest } from './session-timer.js';
import { compileInboundRules, webUserFor } from './sip-routing-rules.js';

/** An INVITE the gateway takes: the web user to ring and what the leg needs to know of it. */
export interface AdmittedInvite {
  webUser: string;
  /** The INVITE's SDP; undefined for a delayed offer, which the gateway makes in its 2xx (delayed-offer.ts). */
  offer: string | undefined;
  /** The session timer the caller asked for (RFC 4028), if any. */
  sessionTimer: SessionTimerRequest | undefined;
  /** Where the INVITE came from, by the top Via. */
  source: string;
}

/**
 * Which inbound INVITEs may ring a web user: from an allowed source (403),
 * within the INVITE rate (503 + Retry-After), with SDP or no body (415), an
 * acceptable session interval (422), and a Request-URI user that maps to a
 * web user (404; the user comes from the header request-user-rewrite.ts
 * keeps it in). Rejected INVITEs are answered here.
 */
export class InboundInviteAdmission {
  readonly #rules;
  readonly #allowedSources: BlockList | undefined;
  #inviteTokens: number;
  #inviteRefillAt = Date.now();

  constructor(private readonly inbound: GatewayConfig['sip']['inbound']) {
    this.#rules = compileInboundRules(inbound.rules);
    this.#allowedSources = makeBlockList(inbound.allowedSources);
    this.#inviteTokens = inbound.invitesPerSecond;
  }

  /** The admitted INVITE, or undefined when it has been rejected. */
  admit(invitation: Invitation): AdmittedInvite | undefined {
    const request = invitation.request;
    // The hub adds received= (RFC 3261 section 18.2.1) when the source differs from the Via sent-by.
    const topVia = request.getHeader('via') ?? '';
    const source = /;\s*received=([^;,\s]+)/i.exec(topVia)?.[1] ?? request.via.host;
    if (this.#allowedSources && !(isIP(source) && this.#allowedSources.check(source, isIP(source) === 6 ? 'ipv6' : 'ipv4'))) {
      invitation.reject({ statusCode: 403, reasonPhrase: 'Source Not Allowed' }).catch(() => {});
      return undefined;
    }
    if (!this.#takeInviteToken()) {
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

  /** A token bucket shared by all sources: a flood of INVITEs cannot ring everyone. */
  #takeInviteToken(): boolean {
    const rate = this.inbound.invitesPerSecond;
    const now = Date.now();
    this.#inviteTokens = Math.min(rate, this.#inviteTokens + ((now - this.#inviteRefillAt) / 1000) * rate);
    this.#inviteRefillAt = now;
    if (this.#inviteTokens < 1) return false;
    this.#inviteTokens -= 1;
    return true;
  }
}

function makeBlockList(networks: string[]): BlockList | undefined {
  if (networks.length === 0) return undefined;
  const list = new BlockList();
  for (const network of networks) {
    const [address, bits] = network.split('/');
    const type = isIP(address!) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address!, type);
    else list.addSubnet(address!, Number(bits), type);
  }
  return list;
}
