import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { Core, SessionState, UserAgent, type Invitation, type Session } from 'sip.js';
import { guardAckTimeout } from './ack-timeout-guard.js';
import {
  type RegistrationMessage,
  type LoginCredentials,
  type UserRegistrar,
  CallFailedError,
  GatewayError,
  parseAddress,
  type Address,
  type CallRegistry,
  type GatewayConfig,
  type Leg,
  type LegFactory,
  type Logger,
  type OutboundLegRequest,
} from '../../src/index.js';
import { makeLegSdhFactory } from './leg-session-description-handler.js';
import { SipLeg } from './sip-leg.js';
import { sipCallId } from './sip-call-id.js';
import { SipRegistration } from './sip-registration.js';
import { answerSessionTimer, MIN_SESSION_EXPIRES_SECONDS, parseSessionExpires, SessionTimerHeaders } from './session-timer.js';
import { statusForEndReason } from './sip-reasons.js';
import { compileInboundRules, makeDialPolicy, webUserFor } from './sip-routing-rules.js';
import { makeSipJsLogConnector } from './sip-js-log.js';
import { SipTransportHub, transportConstructorFor } from './transport/index.js';
import { REQUEST_USER_HEADER, routeToGatewayUser } from './request-user-rewrite.js';
import { gateMethods } from './method-gate.js';
import { delayedOfferPlaceholder } from './delayed-offer.js';
import { OptionsKeepAlive } from './options-keep-alive.js';

export type SipConfig = GatewayConfig['sip'];

export interface SipAdapterOptions {
  config: SipConfig;
  calls: CallRegistry;
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
 * that INVITE out.
 *
 * One UserAgent serves every user: sip.js rejects requests whose
 * Request-URI user is not its own, so new requests are re-addressed to the
 * gateway user at the edge, keeping the original user in a header.
 */
export class SipAdapter implements LegFactory, UserRegistrar {
  readonly #options: SipAdapterOptions;
  readonly #logger: Logger;
  readonly #legOfSession = new WeakMap<Session, SipLeg>();
  /** Legs by Call-ID, for the in-dialog requests the adapter answers itself (UPDATE). */
  readonly #legOfCallId = new Map<string, SipLeg>();
  readonly #inboundRules;
  readonly #dialAllowed: (uri: string) => boolean;
  readonly #allowedSources: BlockList | undefined;
  readonly #domain: string;
  readonly #advertisedHost: string;
  #hub: SipTransportHub | undefined;
  #ua: UserAgent | undefined;
  #proxyKeepAlive: OptionsKeepAlive | undefined;
  readonly #registrations = new Map<string, { sessionId: string; registration: SipRegistration }>();
  readonly #sessionTimerHeaders = new SessionTimerHeaders();
  /** Unregistrations in flight, which close() waits for before the sockets go. */
  readonly #stopping = new Set<Promise<void>>();
  #inviteTokens: number;
  #inviteRefillAt = Date.now();

  constructor(options: SipAdapterOptions) {
    this.#options = options;
    this.#logger = options.logger;
    const { config } = options;
    this.#advertisedHost = config.advertisedHost ?? options.defaultAdvertisedHost;
    this.#domain = config.domain ?? this.#advertisedHost;
    this.#inboundRules = compileInboundRules(config.inbound.rules);
    const proxyHost = config.outbound.proxy ? /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;?>]+)/.exec(config.outbound.proxy)?.[1] : undefined;
    this.#dialAllowed = makeDialPolicy({
      allow: config.outbound.allow,
      ownHosts: [this.#domain, this.#advertisedHost, ...(proxyHost ? [proxyHost] : [])],
    });
    this.#allowedSources = makeBlockList(config.inbound.allowedSources);
    this.#inviteTokens = config.inbound.invitesPerSecond;
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
      ws: config.ws,
      logger: this.#logger.child({ component: 'sip-transport' }),
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
      sipExtensionExtraSupported: ['timer'],
      userAgentString: 'Switchboard',
      transportConstructor: transportConstructorFor(transport),
      sessionDescriptionHandlerFactory: makeLegSdhFactory(this.#legOfSession),
      logBuiltinEnabled: false,
      logConnector: makeSipJsLogConnector(this.#logger.child({ component: 'sip.js' })),
      noAnswerTimeout: Math.ceil(this.#options.ringTimeoutMs / 1000) + 5,
      ...(config.outbound.username ? { authorizationUsername: config.outbound.username } : {}),
      ...(config.outbound.password ? { authorizationPassword: config.outbound.password } : {}),
      ...(config.outbound.proxy ? { preloadedRouteSet: [`<${config.outbound.proxy};lr>`] } : {}),
      delegate: { onInvite: (invitation) => this.#onInvite(invitation) },
    });
    routeToGatewayUser(transport, GATEWAY_USER);
    gateMethods(transport, { ua, handlers: new Map([['UPDATE', (request) => this.#onUpdate(ua, request)]]) });
    this.#sessionTimerHeaders.attach(transport);
    // sip.js writes its Contact without a port; peers would send in-dialog requests (BYE) to 5060.
    const bound = hub.addresses();
    const contactPort = bound.udp?.port ?? bound.tcp?.port;
    if (contactPort !== undefined && contactPort !== 5060) ua.contact.uri.port = contactPort;
    hub.setRequestRouter(() => transport);
    await ua.start();
    this.#ua = ua;
    if (config.outbound.proxy && config.udp) {
      this.#proxyKeepAlive = OptionsKeepAlive.forTarget({ ua, target: config.outbound.proxy, intervalSeconds: config.keepAliveSeconds, logger: this.#logger });
      this.#proxyKeepAlive?.start();
    }
    this.#logger.info({ addresses: hub.addresses(), advertisedHost: this.#advertisedHost, domain: this.#domain }, 'SIP listening');
  }

  addresses(): ReturnType<SipTransportHub['addresses']> | undefined {
    return this.#hub?.addresses();
  }

  /** SIP over WebSocket on the gateway's HTTP server (RFC 7118). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    return this.#hub?.handleUpgrade(request, socket, head) ?? false;
  }

  /** Outbound: a web user calls `sip:` or `tel:`. */
  async createLeg(request: OutboundLegRequest): Promise<Leg> {
    const ua = this.#ua;
    if (!ua) throw new CallFailedError('unreachable', 'SIP is not running');
    const dialled = this.#targetUri(request.target);
    if (!this.#dialAllowed(dialled)) throw new CallFailedError('forbidden', `the dial policy does not allow ${dialled}`);
    // The core keeps no URI parameters, so `;transport=ws` is gone by now: a SIP-over-WebSocket
    // client is known by the flow it opened to us. Such clients are browsers (RFC 7118's use
    // case; RFC 8827 makes their media ICE + DTLS-SRTP): a WebRTC party, which relay mode can
    // reach end to end.
    const webSocket = request.target.host ? this.#hub?.webSocketClientTransport(request.target.host) : undefined;
    const uri = webSocket ? `${dialled};transport=${webSocket}` : dialled;
    const target = UserAgent.makeURI(uri);
    if (!target) throw new CallFailedError('not-found', `${uri} is not a valid SIP URI`);
    const webrtc = webSocket !== undefined;
    return new SipLeg(request.callId, parseAddress(uri), this.#logger, {
      webrtc,
      domain: this.#domain,
      ...(target.host && isIP(target.host) ? { signalingAddress: target.host } : {}),
      sessionTimerHeaders: this.#sessionTimerHeaders,
      outbound: {
        ua,
        target,
        register: (session, leg) => this.#track(session, leg),
        sessionTimer: { seconds: this.#options.config.sessionExpiresSeconds, minSeconds: this.#options.sessionTimerFloorSeconds ?? MIN_SESSION_EXPIRES_SECONDS },
      },
    });
  }

  /** A web user logged in: register their SIP account (from the login or the config) while they are online. */
  loggedIn(user: string, sessionId: string, credentials: LoginCredentials, report: (message: RegistrationMessage) => void): void {
    const account = credentials.sip ?? this.#options.config.accounts.find((a) => a.user === user);
    const previous = this.#registrations.get(user);
    this.#registrations.delete(user);
    if (previous) this.#stopLater(previous.registration);
    if (!account || !this.#hub) return;
    const bound = this.#hub.addresses();
    const registration = new SipRegistration({
      webUser: user,
      credentials: { aor: account.aor, password: account.password, ...(account.username ? { username: account.username } : {}), ...(account.registrar ? { registrar: account.registrar } : {}) },
      hub: this.#hub,
      advertisedHost: this.#advertisedHost,
      contactPort: bound.udp?.port ?? bound.tcp?.port,
      expiresSeconds: this.#options.config.registerExpiresSeconds,
      keepAliveSeconds: this.#options.config.udp ? this.#options.config.keepAliveSeconds : 0,
      logger: this.#logger.child({ user }),
      report,
    });
    this.#registrations.set(user, { sessionId, registration });
    registration.start().catch((error: unknown) => {
      this.#logger.warn({ err: error, user }, 'SIP registration failed to start');
      report({ type: 'registration', aor: account.aor, state: 'failed', reason: (error as Error).message });
    });
  }

  loggedOut(user: string, sessionId: string): void {
    const current = this.#registrations.get(user);
    if (!current || current.sessionId !== sessionId) return;
    this.#registrations.delete(user);
    this.#stopLater(current.registration);
  }

  #stopLater(registration: SipRegistration): void {
    const stopping = registration.stop().finally(() => this.#stopping.delete(stopping));
    this.#stopping.add(stopping);
  }

  async close(): Promise<void> {
    for (const { registration } of this.#registrations.values()) this.#stopLater(registration);
    this.#registrations.clear();
    await Promise.all([...this.#stopping]);
    this.#proxyKeepAlive?.stop();
    await this.#ua?.stop().catch(() => undefined);
    await this.#hub?.close();
  }

  #targetUri(target: Address): string {
    if (target.scheme === 'tel') return `sip:${target.user}@${this.#domain};user=phone`;
    return target.uri;
  }

  #onInvite(invitation: Invitation): void {
    guardAckTimeout(invitation, this.#logger);
    const request = invitation.request;
    // The hub adds received= (RFC 3261 section 18.2.1) when the source differs from the Via sent-by.
    const topVia = request.getHeader('via') ?? '';
    const source = /;\s*received=([^;,\s]+)/i.exec(topVia)?.[1] ?? request.via.host;
    if (this.#allowedSources && !(isIP(source) && this.#allowedSources.check(source, isIP(source) === 6 ? 'ipv6' : 'ipv4'))) {
      invitation.reject({ statusCode: 403, reasonPhrase: 'Source Not Allowed' }).catch(() => {});
      return;
    }
    if (!this.#takeInviteToken()) {
      invitation.reject({ statusCode: 503, reasonPhrase: 'Too Many Calls', extraHeaders: ['Retry-After: 5'] }).catch(() => {});
      return;
    }
    const contentType = request.getHeader('content-type') ?? '';
    // No body: a delayed offer, which the gateway makes in its 2xx (delayed-offer.ts). A body
    // that is not SDP: 415 with what the gateway accepts (RFC 3261 section 21.4.13).
    const delayedOffer = !invitation.body;
    if (!delayedOffer && !/^application\/sdp/i.test(contentType)) {
      invitation.reject({ statusCode: 415, reasonPhrase: 'Unsupported Media Type', extraHeaders: ['Accept: application/sdp'] }).catch(() => {});
      return;
    }
    const sessionTimer = parseSessionExpires(request.getHeader('session-expires') ?? request.getHeader('x'));
    if (sessionTimer && sessionTimer.seconds < MIN_SESSION_EXPIRES_SECONDS) {
      // RFC 4028 section 8.1: too brief an interval is refused with our minimum.
      invitation
        .reject({ statusCode: 422, reasonPhrase: 'Session Interval Too Small', extraHeaders: [`Min-SE: ${MIN_SESSION_EXPIRES_SECONDS}`] })
        .catch(() => {});
      return;
    }
    const requestUser = request.getHeader(REQUEST_USER_HEADER) ?? request.ruri?.user ?? '';
    const webUser = webUserFor(requestUser, this.#inboundRules, this.#options.config.inbound.defaultUser);
    if (!webUser) {
      invitation.reject({ statusCode: 404, reasonPhrase: 'No Such User' }).catch(() => {});
      return;
    }
    const from = request.from.uri;
    const callerAddress = parseAddress(`sip:${from.user ? `${from.user}@` : ''}${from.host}`);
    const callId = randomUUID();
    const leg = new SipLeg(callId, callerAddress, this.#logger.child({ callId }), {
      webrtc: !delayedOffer && isWebRtcOffer(invitation.body),
      domain: this.#domain,
      ...(sessionTimer ? { sessionTimer: answerSessionTimer(sessionTimer) } : {}),
      sessionTimerHeaders: this.#sessionTimerHeaders,
      ...(isIP(source) ? { signalingAddress: source } : {}),
    });
    leg.attachInvitation(invitation, { delayedOffer });
    this.#track(invitation, leg);
    const displayName = request.from.displayName;
    this.#options.calls
      .place({
        id: callId,
        caller: leg,
        target: parseAddress(`web:${webUser}`),
        sdp: delayedOffer ? delayedOfferPlaceholder() : invitation.body,
        ...(displayName ? { fromName: displayName } : {}),
      })
      .catch((error: unknown) => {
        const reason = error instanceof CallFailedError ? error.reason : error instanceof GatewayError && error.code === 'shutting-down' ? 'shutdown' : 'failed';
        if (!(error instanceof CallFailedError || error instanceof GatewayError)) this.#logger.error({ err: error }, 'inbound SIP call failed');
        invitation.reject(statusForEndReason(reason)).catch(() => {});
      });
  }

  #track(session: Session, leg: SipLeg): void {
    this.#legOfSession.set(session, leg);
    const callId = sipCallId(session);
    this.#legOfCallId.set(callId, leg);
    session.stateChange.addListener((state) => {
      if (state === SessionState.Terminated && this.#legOfCallId.get(callId) === leg) this.#legOfCallId.delete(callId);
    });
  }

  /**
   * UPDATE (RFC 3311), which sip.js 0.21 lacks: answered here for the leg
   * whose dialog it names (481 otherwise, RFC 3261 section 12.2.2). A 2xx to
   * UPDATE carries Contact, as UPDATE is a target refresh request (RFC 3311 section 5.2).
   */
  #onUpdate(ua: UserAgent, request: Core.IncomingRequestMessage): void {
    const reply = (options: Core.ResponseOptions) => ua.userAgentCore.replyStateless(request, options);
    const leg = this.#legOfCallId.get(request.callId);
    if (!request.toTag || !leg || !leg.hasDialog(request.callId + request.toTag + request.fromTag)) {
      reply({ statusCode: 481, reasonPhrase: 'Call/Transaction Does Not Exist' });
      return;
    }
    leg.receiveUpdate(request).then(
      (response) => {
        const contact = response.statusCode < 300 ? [`Contact: ${ua.contact.toString()}`] : [];
        reply({ ...response, extraHeaders: [...contact, ...(response.extraHeaders ?? [])] });
      },
      (error: unknown) => {
        this.#logger.warn({ err: error }, 'UPDATE failed');
        reply({ statusCode: 500, reasonPhrase: 'Server Internal Error' });
      },
    );
  }

  /** A token bucket shared by all sources: a flood of INVITEs cannot ring everyone. */
  #takeInviteToken(): boolean {
    const rate = this.#options.config.inbound.invitesPerSecond;
    const now = Date.now();
    this.#inviteTokens = Math.min(rate, this.#inviteTokens + ((now - this.#inviteRefillAt) / 1000) * rate);
    this.#inviteRefillAt = now;
    if (this.#inviteTokens < 1) return false;
    this.#inviteTokens -= 1;
    return true;
  }
}

function isWebRtcOffer(sdp: string): boolean {
  return /^a=fingerprint:/m.test(sdp) && /^a=ice-ufrag:/m.test(sdp);
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
