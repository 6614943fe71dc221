import { isIP } from 'node:net';
import { UserAgent, type Message, type Session } from 'sip.js';
import { CallFailedError, parseAddress, type Address, type GatewayConfig, type Logger, type OutboundLegRequest } from '../../src/index.js';
import { MIN_SESSION_EXPIRES_SECONDS, type SessionTimerHeaders } from './session-timer.js';
import { SipLeg } from './sip-leg.js';
import type { SipDialPolicy } from './sip-dial-policy.js';
import type { SipTransportHub } from './transport/index.js';

/**
 * Legs for calls to `sip:` and `tel:`: where the dial plan
 * (`sip.outbound.dialPlan`, nothing by default) lets the caller go, as
 * SipLegs that INVITE out.
 */
export class OutboundLegs {
  constructor(
    private readonly options: {
      config: GatewayConfig['sip'];
      domain: string;
      logger: Logger;
      dialPolicy: SipDialPolicy;
      /** A MESSAGE inside the call's dialog, for the party that placed the call. */
      inDialogMessage: (message: Message, caller: Address) => void;
      sessionTimerHeaders: SessionTimerHeaders;
      /** See SipAdapterOptions.sessionTimerFloorSeconds. */
      sessionTimerFloorSeconds: number | undefined;
      /** How sip.js's SDH factory and the UPDATE handler find the leg of a session. */
      track: (session: Session, leg: SipLeg) => void;
    },
  ) {}

  /** Outbound: a web user (or an operator's route) calls `sip:` or `tel:`. */
  create(request: OutboundLegRequest, ua: UserAgent | undefined, hub: SipTransportHub | undefined): SipLeg {
    // The dial plan judges the address as dialled, before any rewriting (tel: to a trunk URI).
    this.options.dialPolicy.check(request.target, request.caller, request.onBehalfOf);
    if (!ua) throw new CallFailedError('unreachable', 'SIP is not running');
    const dialled = this.#targetUri(request.target);
    // The core keeps no URI parameters, so `;transport=ws` is gone by now: a SIP-over-WebSocket
    // client is known by the flow it opened to us. Such clients are browsers (RFC 7118's use
    // case; RFC 8827 makes their media ICE + DTLS-SRTP): a WebRTC party, which relay mode can
    // reach end to end.
    const webSocket = request.target.host ? hub?.webSocketClientTransport(request.target.host) : undefined;
    const uri = webSocket ? `${dialled};transport=${webSocket}` : dialled;
    const target = UserAgent.makeURI(uri);
    if (!target) throw new CallFailedError('not-found', `${uri} is not a valid SIP URI`);
    const webrtc = webSocket !== undefined;
    return new SipLeg(request.callId, parseAddress(uri), this.options.logger.child({ callId: request.callId }), {
      webrtc,
      dialPolicy: this.options.dialPolicy,
      inDialogMessage: (message) => this.options.inDialogMessage(message, request.from),
      ...(target.host && isIP(target.host) ? { signalingAddress: target.host } : {}),
      sessionTimerHeaders: this.options.sessionTimerHeaders,
      outbound: {
        ua,
        target,
        register: (session, leg) => this.options.track(session, leg),
        sessionTimer: { seconds: this.options.config.sessionExpiresSeconds, minSeconds: this.options.sessionTimerFloorSeconds ?? MIN_SESSION_EXPIRES_SECONDS },
      },
    });
  }

  #targetUri(target: Address): string {
    if (target.scheme === 'tel') return `sip:${target.user}@${this.options.domain};user=phone`;
    return target.uri;
  }
}
