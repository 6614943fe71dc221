import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { UserAgent, type Invitation } from 'sip.js';
import { guardAckTimeout } from './ack-timeout-guard.js';
import {
  type ChatDelivery,
  type ChatMessage,
  type ChatRouter,
  type RegistrationMessage,
  type LoginCredentials,
  type UserRegistrar,
  type WebIdentity,
  CallFailedError,
  defaultMaxConnections,
  readOpenFileLimit,
  GatewayError,
  parseAddress,
  type CallRegistry,
  type GatewayConfig,
  type Leg,
  type LegFactory,
  type Logger,
  type OutboundLegRequest,
} from '../../src/index.js';
import { InboundInviteAdmission } from './inbound-invite-admission.js';
import { makeLegSdhFactory } from './leg-session-description-handler.js';
import { OutboundLegs } from './outbound-legs.js';
import { SipDialPolicy } from './sip-dial-policy.js';
import { SipLeg } from './sip-leg.js';
import { SipLegDirectory } from './sip-leg-directory.js';
import { answerSessionTimer, SessionTimerHeaders } from './session-timer.js';
import { statusForEndReason } from './sip-reasons.js';
import { makeSipJsLogConnector } from './sip-js-log.js';
import { SipTransportHub, transportConstructorFor } from './transport/index.js';
import { routeToGatewayUser } from './request-user-rewrite.js';
import { gateReferTo } from './refer-to-gate.js';
import { gateSources, SourceAllowList } from './inbound-source-gate.js';
import { acceptRfc2543Invites } from './rfc2543-contact.js';
import { gateRequests } from './request-gate.js';
import { SUPPORTED_OPTION_TAGS } from './uas-request-checks.js';
import { delayedOfferPlaceholder } from './delayed-offer.js';
import { OptionsKeepAlive } from './options-keep-alive.js';
import { dispatchUpdate } from './update-dispatch.js';
import { WebUserRegistrations } from './web-user-registrations.js';
import { EdgeRegistrations } from './edge-registrations.js';
import { InboundMessages } from './inbound-message.js';
import { ringOnContactlessProvisional } from './contactless-ringing.js';
import { OutboundMessages } from './outbound-message.js';

export type SipConfig = GatewayConfig['sip'];

export interface SipAdapterOptions {
  /** `server.trustedProxies`: SIP over WebSocket behind them counts clients by X-Forwarded-For. */
  trustedProxies?: readonly string[];
  config: SipConfig;
  calls: CallRegistry;
  /** The core's chat router: MESSAGE requests from SIP parties are delivered through it. */
  chat: ChatRouter;
  logger: Logger;
  /** Used for Via/Contact when `sip.advertisedHost` is unset. */
  defaultAdvertisedHost: string;
  /** Ring timeout of the core, so sip.js does not give up on an unanswered INVITE first. */
  ringTimeoutMs: number;
  /**
   * The smallest session interval the gateway's calls accept, sent as Min-SE (RFC 4028 section 4:
   * 90 s). Not configuration: only tests set it lower, so a refresh or an expiry takes seconds.
   */
  sessionTimerFloorSeconds?: number;
}

/** The contact user of the gateway's own user agent. */
const GATEWAY_USER = 'switchboard';

/**
 * The SIP adapter: one sip.js UserAgent for the gateway (inbound calls to any
 * mapped user, outbound calls through the trunk) on a transport hub that does
 * RFC 3261 transport work sip.js leaves out. Inbound INVITEs become calls from
 * a SipLeg to a web user; web users' calls to `sip:`/`tel:` become SipLegs
 * that INVITE out. Chat goes both ways as MESSAGE (RFC 3428): the adapter is
 * the chat delivery for `sip:`/`tel:` and hands MESSAGEs it receives to the
 * core's chat router.
 *
 * One UserAgent serves every user: sip.js rejects requests whose
 * Request-URI user is not its own, so new requests are re-addressed to the
 * gateway user at the edge, keeping the original user in a header.
 */
export class SipAdapter implements LegFactory, UserRegistrar, ChatDelivery {
  readonly #options: SipAdapterOptions;
  readonly #logger: Logger;
  readonly #legs = new SipLegDirectory();
  readonly #admission: InboundInviteAdmission;
  readonly #outbound: OutboundLegs;
  readonly #dialPolicy: SipDialPolicy;
  readonly #registrations: WebUserRegistrations;
  readonly #edge: EdgeRegistrations | undefined;
  readonly #inboundMessages: InboundMessages;
  readonly #outboundMessages: OutboundMessages;
  readonly #domain: string;
  readonly #advertisedHost: string;
  #hub: SipTransportHub | undefined;
  #ua: UserAgent | undefined;
  #proxyKeepAlive: OptionsKeepAlive | undefined;
  readonly #sessionTimerHeaders = new SessionTimerHeaders();

  constructor(options: SipAdapterOptions) {
    this.#options = options;
    this.#logger = options.logger;
    const { config } = options;
    this.#advertisedHost = config.advertisedHost ?? options.defaultAdvertisedHost;
    this.#domain = config.domain ?? this.#advertisedHost;
    this.#admission = new InboundInviteAdmission(config.inbound);
    this.#dialPolicy = new SipDialPolicy({ rules: config.outbound.dialPlan, domain: this.#domain, ownHosts: [this.#advertisedHost] });
    this.#outbound = new OutboundLegs({
      config,
      domain: this.#domain,
      logger: this.#logger,
      dialPolicy: this.#dialPolicy,
      inDialogMessage: (message, caller) => this.#inboundMessages.receive(message, caller),
      sessionTimerHeaders: this.#sessionTimerHeaders,
      sessionTimerFloorSeconds: options.sessionTimerFloorSeconds,
      track: (session, leg) => this.#legs.track(session, leg),
    });
    this.#registrations = new WebUserRegistrations({ config, hub: () => this.#hub, advertisedHost: this.#advertisedHost, logger: this.#logger });
    this.#inboundMessages = new InboundMessages({ inbound: config.inbound, chat: options.chat, logger: this.#logger });
    this.#outboundMessages = new OutboundMessages({
      domain: this.#domain,
      fromAuthority: () => {
        const port = this.#ua?.contact.uri.port;
        return config.domain === undefined && port !== undefined ? `${this.#domain}:${port}` : this.#domain;
      },
      dialPolicy: this.#dialPolicy,
      logger: this.#logger,
      ua: () => this.#ua,
      hub: () => this.#hub,
    });
    if (config.edge) this.#edge = new EdgeRegistrations({ edge: config.edge, hub: () => this.#hub, advertisedHost: this.#advertisedHost, logger: this.#logger });
  }

  async start(): Promise<void> {
    const { config } = this.#options;
    const hub = await SipTransportHub.start({
      advertisedHost: this.#advertisedHost,
      ...(config.udp ? { udp: { host: config.host, port: config.port } } : {}),
      ...(config.tcp ? { tcp: { host: config.host, port: config.port } } : {}),
      ...(config.tls
        ? { tls: { host: config.host, port: config.tls.port, cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } }
        : {}),
      ws: config.ws && { trustedProxies: this.#options.trustedProxies ?? [] },
      connectionLimits: {
        maxConnections: config.limits.maxConnections ?? defaultMaxConnections(readOpenFileLimit()),
        maxConnectionsPerSource: config.limits.maxConnectionsPerSource,
      },
      headerTimeoutMs: config.limits.headerTimeoutMs,
      requestRate: { perSource: config.inbound.requestsPerSecond, total: config.inbound.requestsPerSecondTotal },
      idleConnectionMs: config.limits.idleTimeoutSeconds * 1000,
      dns: config.dns,
      logger: this.#logger.child({ module: 'transport' }),
    });
    this.#hub = hub;
    const transport = hub.createTransport('gateway');
    const ua = new UserAgent({
      uri: UserAgent.makeURI(`sip:${GATEWAY_USER}@${this.#domain}`),
      viaHost: this.#advertisedHost,
      contactName: GATEWAY_USER,
      contactParams: { transport: 'udp' },
      forceRport: true,
      // 180 only when the web user's phone really rings, not as soon as the INVITE arrives.
      sendInitialProvisionalResponse: false,
      sipExtensionExtraSupported: [...SUPPORTED_OPTION_TAGS],
      userAgentString: 'Switchboard',
      transportConstructor: transportConstructorFor(transport),
      sessionDescriptionHandlerFactory: makeLegSdhFactory(this.#legs.legOfSession),
      logBuiltinEnabled: false,
      logConnector: makeSipJsLogConnector(this.#logger.child({ module: 'sip.js' })),
      noAnswerTimeout: Math.ceil(this.#options.ringTimeoutMs / 1000) + 5,
      ...(config.outbound.username ? { authorizationUsername: config.outbound.username } : {}),
      ...(config.outbound.password ? { authorizationPassword: config.outbound.password } : {}),
      ...(config.outbound.proxy ? { preloadedRouteSet: [`<${config.outbound.proxy};lr>`] } : {}),
      delegate: { onInvite: (invitation) => this.#onInvite(invitation), onMessage: (message) => this.#inboundMessages.receive(message) },
    });
    routeToGatewayUser(transport, GATEWAY_USER);
    acceptRfc2543Invites(transport);
    gateRequests(transport, {
      ua,
      handlers: new Map([['UPDATE', (request) => dispatchUpdate(ua, request, this.#legs, this.#logger)]]),
      warningAgent: this.#advertisedHost,
    });
    // After the request gate, so it runs before it: a tel: Refer-To is rewritten, not refused as unparsable.
    gateReferTo(transport, { ua, domain: this.#domain });
    this.#sessionTimerHeaders.attach(transport);
    ringOnContactlessProvisional(transport, { ua, legOfCallId: (callId) => this.#legs.byCallId(callId) });
    // Last attached, first to run: strangers are refused before any other work is done for them.
    gateSources(transport, { ua, allowList: new SourceAllowList(config.inbound.allowedSources), logger: this.#logger });
    // sip.js writes its Contact without a port; peers would send in-dialog requests (BYE) to 5060.
    const bound = hub.addresses();
    this.#dialPolicy.listeningOn([bound.udp?.port, bound.tcp?.port, bound.tls?.port].filter((port): port is number => port !== undefined));
    const contactPort = bound.udp?.port ?? bound.tcp?.port;
    if (contactPort !== undefined && contactPort !== 5060) ua.contact.uri.port = contactPort;
    hub.setRequestRouter(() => transport);
    await ua.start();
    this.#ua = ua;
    if (config.outbound.proxy && config.udp) {
      this.#proxyKeepAlive = OptionsKeepAlive.forTarget({ ua, target: config.outbound.proxy, intervalSeconds: config.keepAliveSeconds, logger: this.#logger });
      this.#proxyKeepAlive?.start();
    }
    this.#logger.info({ addresses: hub.addresses(), advertisedHost: this.#advertisedHost, domain: this.#domain, limits: hub.connectionLimits }, 'SIP listening');
  }

  addresses(): ReturnType<SipTransportHub['addresses']> | undefined {
    return this.#hub?.addresses();
  }

  /** What the transport hub counted (refused connections, timeouts...); undefined before start. */
  transportCounters(): ReturnType<SipTransportHub['counters']> | undefined {
    return this.#hub?.counters();
  }

  /** SIP over WebSocket on the gateway's HTTP server (RFC 7118). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    return this.#hub?.handleUpgrade(request, socket, head) ?? false;
  }

  /** Outbound: a web user calls `sip:` or `tel:`. */
  async createLeg(request: OutboundLegRequest): Promise<Leg> {
    return this.#outbound.create(request, this.#ua, this.#hub);
  }

  /** A chat message to `sip:`/`tel:`: a MESSAGE out, where the dial plan lets the sender write. */
  deliver(message: ChatMessage): Promise<void> {
    return this.#outboundMessages.deliver(message);
  }

  /** A web user logged in: register their SIP account (from the login or the config) while they are online. */
  loggedIn(identity: WebIdentity, sessionId: string, credentials: LoginCredentials, report: (message: RegistrationMessage) => void): void {
    this.#registrations.loggedIn(identity, sessionId, credentials, report);
    this.#edge?.loggedIn(identity, sessionId, report);
  }

  loggedOut(user: string, sessionId: string): void {
    this.#registrations.loggedOut(user, sessionId);
    this.#edge?.loggedOut(user, sessionId);
  }

  async close(): Promise<void> {
    await Promise.all([this.#registrations.close(), this.#edge?.close()]);
    this.#proxyKeepAlive?.stop();
    await this.#ua?.stop().catch(() => undefined);
    await this.#hub?.close();
  }

  #onInvite(invitation: Invitation): void {
    guardAckTimeout(invitation, this.#logger);
    const admitted = this.#admission.admit(invitation);
    if (!admitted) return;
    const { webUser, offer, sessionTimer, source } = admitted;
    const delayedOffer = offer === undefined;
    const request = invitation.request;
    const from = request.from.uri;
    const callerAddress = parseAddress(`sip:${from.user ? `${from.user}@` : ''}${from.host}`);
    const callId = randomUUID();
    const target = parseAddress(webUser.startsWith('service:') ? webUser : `web:${webUser}`);
    const leg = new SipLeg(callId, callerAddress, this.#logger.child({ callId }), {
      webrtc: offer !== undefined && isWebRtcOffer(offer),
      dialPolicy: this.#dialPolicy,
      inDialogMessage: (message) => this.#inboundMessages.receive(message, target),
      ...(sessionTimer ? { sessionTimer: answerSessionTimer(sessionTimer) } : {}),
      sessionTimerHeaders: this.#sessionTimerHeaders,
      // Symmetric RTP may latch on the signaling source (a phone behind NAT): the real one, never a Via value.
      ...(source ? { signalingAddress: source.address } : {}),
    });
    leg.attachInvitation(invitation, { delayedOffer });
    this.#legs.track(invitation, leg);
    const displayName = request.from.displayName;
    this.#options.calls
      .place({
        id: callId,
        caller: leg,
        target,
        sdp: offer ?? delayedOfferPlaceholder(),
        ...(displayName ? { fromName: displayName } : {}),
      })
      .catch((error: unknown) => {
        const reason = error instanceof CallFailedError ? error.reason : error instanceof GatewayError && error.code === 'shutting-down' ? 'shutdown' : 'failed';
        if (!(error instanceof CallFailedError || error instanceof GatewayError)) this.#logger.error({ err: error }, 'inbound SIP call failed');
        invitation.reject(statusForEndReason(reason)).catch(() => {});
      });
  }
}

function isWebRtcOffer(sdp: string): boolean {
  return /^a=fingerprint:/m.test(sdp) && /^a=ice-ufrag:/m.test(sdp);
}

