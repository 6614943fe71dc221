import { xml } from '@xmpp/client';
import {
  CallFailedError,
  GatewayError,
  webAddress,
  type Address,
  type CallRegistry,
  type ChatDelivery,
  type ChatMessage,
  type ChatRouter,
  type GatewayConfig,
  type Leg,
  type LegFactory,
  type LoginCredentials,
  type Logger,
  type OutboundLegRequest,
  type RegistrationMessage,
  type UserRegistrar,
  type PartyIdentity,
  type WebIdentity,
  type Lease,
  type PresenceSubscriptionStore,
} from '../../src/index.js';
import { iceServerUrl, readExternalServices } from './external-services.js';
import { xmppCallerAllowed, xmppInboundTarget } from './inbound-routing.js';
import { NS_EXTDISCO } from './jingle/namespaces.js';
import { jidDomain, jidResource } from './jid.js';
import { XmppAccount } from './xmpp-account.js';
import { XmppComponentUsers, type ComponentPresenceSource } from './xmpp-component-users.js';
import { XmppConnection, type StreamResumptionOutcome } from './xmpp-connection.js';

export type XmppConfig = GatewayConfig['xmpp'];
export type { StreamResumptionOutcome } from './xmpp-connection.js';

/** How long a call or message right after login waits for the web user's own XMPP identity. */
const OWN_IDENTITY_WAIT_MS = 5_000;

export interface XmppAdapterOptions {
  config: XmppConfig;
  calls: CallRegistry;
  chat: ChatRouter;
  logger: Logger;
  /** STUN/TURN servers learned from the XMPP server (XEP-0215), for the media anchor. */
  onIceServers?: (servers: string[]) => void;
  /** A dropped client stream was resumed (XEP-0198), was not (a new session), or its calls stopped waiting (metrics). */
  onStreamResumption?: (outcome: StreamResumptionOutcome) => void;
  /** In a cluster: one node at a time runs the component (XEP-0114 allows one connection per domain). */
  cluster?: XmppClusterOptions;
  /** Where the component's presence subscriptions survive a restart (a file, or Redis in a cluster). */
  subscriptions?: PresenceSubscriptionStore;
}

/**
 * The component in a cluster: the node holding `lease` connects it and announces every node's
 * users (`presence`); calls and chat it receives for users of other nodes reach them like any
 * call (the core's cross-node legs). Other nodes send their users' calls and chat to XMPP through
 * the holder (`forwardLeg`, `forwardChat`); when the holder dies the lease expires and another
 * node takes the component over.
 */
export interface XmppClusterOptions {
  /** Held by the node that runs the component (with `xmpp.component`). */
  componentLease?: Lease;
  /**
   * Held by the node that binds the service account's own resource (with `xmpp.service`): a full
   * JID can be bound once, and a JMI propose to the bare JID must be answered by one node. The
   * per-user resources stay on each user's node.
   */
  serviceLease?: Lease;
  presence: ComponentPresenceSource;
  forwardLeg(request: OutboundLegRequest): Promise<Leg>;
  forwardChat(message: ChatMessage): Promise<void>;
}

/** A web user's own XMPP identity while online: a resource of the service account, or its own account. */
interface UserAccount {
  sessionId: string;
  account: XmppAccount;
  connection: XmppConnection;
  /** `xmpp:<jid>` for registration frames. */
  aor: string;
  /** The user's own account (per-user login), not a resource of the gateway's. */
  own: boolean;
}

/**
 * The XMPP adapter. Identities:
 * - the **service account's own resource** (`gateway@example.com/switchboard`): calls and chat to the
 *   bare JID or to resources of web users who are offline land here and go where `xmpp.inbound` says;
 * - **one resource per online web user** (`gateway@example.com/alice`, `service.userResources`), with
 *   presence and caps, so XMPP clients see who is reachable and JMI-less clients can call it directly;
 * - **per-user login** (`perUser`): the web user's own account, while online;
 * - **component** (`component`, XEP-0114): `alice@gateway.example.org` for web user alice, other
 *   local parts through `xmpp.inbound` (XmppComponentUsers).
 * Each identity is one XmppConnection with its own XmppAccount (calls and chat on it). Web users
 * calling `xmpp:` addresses and chatting go out through their own identity when they have one.
 */
export class XmppAdapter implements LegFactory, UserRegistrar, ChatDelivery {
  readonly #options: XmppAdapterOptions;
  readonly #logger: Logger;
  #service: XmppAccount | undefined;
  #serviceConnection: XmppConnection | undefined;
  #component: XmppComponentUsers | undefined;
  readonly #users = new Map<string, UserAccount>();
  #closed = false;

  constructor(options: XmppAdapterOptions) {
    this.#options = options;
    this.#logger = options.logger;
  }

  /** Logs the service account and the component in; resolves even when the server is down (they keep retrying). */
  async start(): Promise<void> {
    const { service, component } = this.#options.config;
    const cluster = this.#options.cluster;
    if (component && cluster?.componentLease) {
      const lease = cluster.componentLease;
      lease.on('acquired', () => void this.#startComponent());
      lease.on('lost', () => void this.#stopComponent());
      lease.start();
    } else if (component) await this.#startComponent();
    if (service && cluster?.serviceLease) {
      const lease = cluster.serviceLease;
      lease.on('acquired', () => void this.#startService());
      lease.on('lost', () => void this.#stopService());
      lease.start();
    } else if (service) await this.#startService();
  }

  async #startService(): Promise<void> {
    const { service, inbound } = this.#options.config;
    if (!service || this.#serviceConnection || this.#closed) return;
    const connection = this.#connection(service.jid, service.password, service.resource, 0);
    this.#serviceConnection = connection;
    this.#service = this.#account(connection, (to) => xmppInboundTarget(this.#resourceOf(to, service.jid), service.resource, inbound), this.#servicePolicy);
    if (this.#options.config.externalServices) connection.on('online', () => void this.#discoverIceServers(connection));
    await connection.start();
  }

  async #stopService(): Promise<void> {
    const connection = this.#serviceConnection;
    this.#service?.stop();
    this.#service = undefined;
    this.#serviceConnection = undefined;
    await connection?.stop();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const users = [...this.#users.values()];
    this.#users.clear();
    for (const account of [...users.map((user) => user.account), ...(this.#service ? [this.#service] : [])]) account.stop();
    this.#service = undefined;
    await Promise.all([this.#options.cluster?.componentLease?.stop(), this.#options.cluster?.serviceLease?.stop()]);
    await Promise.all([...users.map((user) => user.connection.stop()), this.#serviceConnection?.stop(), this.#component?.stop()]);
  }

  /** The service account's connection (for tests and status). */
  get serviceJid(): string | undefined {
    return this.#serviceConnection?.jid;
  }

  /** Whether the service account's stream has XEP-0198 stream management. */
  get serviceStreamManagement(): boolean {
    return this.#serviceConnection?.streamManagement ?? false;
  }

  /** Whether this node runs the component (always, outside a cluster with a component). */
  get holdsComponent(): boolean {
    return this.#component !== undefined;
  }

  /** A web user calls an `xmpp:` address: through the user's own identity, else the service account. */
  async createLeg(request: OutboundLegRequest): Promise<Leg> {
    if (this.#forwardsToHolder(request.from)) return this.#options.cluster!.forwardLeg(request);
    return this.createLegHere(request);
  }

  /** createLeg without forwarding: what the holder of the component does for another node. */
  async createLegHere(request: OutboundLegRequest): Promise<Leg> {
    if (!this.#mayReachXmpp(request.caller, request.from)) throw new CallFailedError('forbidden', 'guests may not call XMPP addresses on this gateway (xmpp.outbound.guests)');
    const account = await this.#accountFor(request.from.scheme === 'web' ? request.from.user : undefined);
    if (!account) throw new CallFailedError('unreachable', 'no XMPP account is configured for calls');
    return account.createCalleeLeg(request.callId, request.target);
  }

  async deliver(message: ChatMessage): Promise<void> {
    if (this.#forwardsToHolder(message.from)) return this.#options.cluster!.forwardChat(message);
    return this.deliverHere(message);
  }

  /** deliver without forwarding: what the holder of the component does for another node. */
  async deliverHere(message: ChatMessage): Promise<void> {
    if (!this.#mayReachXmpp(message.sender, message.from)) throw new GatewayError('forbidden', 'guests may not message XMPP addresses on this gateway (xmpp.outbound.guests)');
    const account = await this.#accountFor(message.from.scheme === 'web' ? message.from.user : undefined);
    if (!account) throw new GatewayError('not-found', 'no XMPP account is configured for chat');
    await account.sendChat(message);
  }

  /**
   * Calls and chat leave under the gateway's XMPP identity, so an anonymous guest could use it to
   * spam the federation in the operator's name: guests only where the operator allows it, or from
   * an XMPP account of their own (per-user login), which speaks for itself.
   */
  #mayReachXmpp(who: PartyIdentity, from: Address): boolean {
    if (who.kind !== 'guest' || this.#options.config.outbound.guests) return true;
    return from.scheme === 'web' && this.#users.get(from.user)?.own === true;
  }

  /** A web user logged in: bind their resource of the service account, or log in to their own account. */
  loggedIn(identity: WebIdentity, sessionId: string, credentials: LoginCredentials, report: (message: RegistrationMessage) => void): void {
    if (this.#closed) return;
    const { user } = identity;
    const { config } = this.#options;
    const own = credentials.xmpp;
    if (own && !config.perUser.enabled) {
      report({ type: 'registration', aor: `xmpp:${own.jid}`, state: 'failed', reason: 'per-user XMPP login is not enabled on this gateway' });
      return;
    }
    if (!own && this.#component) return this.#component.loggedIn(user, sessionId, report);
    if (!own && config.component && this.#options.cluster?.componentLease) {
      // Another node holds the component and announces this user from the directory.
      report({ type: 'registration', aor: `xmpp:${user}@${config.component.domain}`, state: 'registered' });
      return;
    }
    if (!own && !config.service?.userResources) return;
    this.#drop(user);
    const jid = own ? own.jid : config.service!.jid;
    // A web user's resource of the service account is their name; their own account gets a resource of ours.
    const resource = own ? `switchboard-${sessionId.slice(0, 8)}` : user;
    const connection = this.#connection(jid, own ? own.password : config.service!.password, resource, own ? 0 : -1);
    // A user's own account: its roster and server decide who reaches it. Their resource of the service account: the service's policy.
    const account = this.#account(connection, () => webAddress(user), own ? () => true : this.#servicePolicy);
    const aor = `xmpp:${jid}${own ? '' : `/${user}`}`;
    this.#users.set(user, { sessionId, account, connection, aor, own: own !== undefined });
    report({ type: 'registration', aor, state: 'registering' });
    connection.on('online', () => report({ type: 'registration', aor, state: 'registered' }));
    connection.on('offline', () => report({ type: 'registration', aor, state: 'registering', reason: 'connection lost' }));
    // A resumed stream (XEP-0198) is the same session: no `online`, but the user is reachable again.
    connection.on('resumed', () => report({ type: 'registration', aor, state: 'registered' }));
    void connection.start().then((online) => {
      if (!online && own) {
        // Wrong credentials or an unreachable server: the user's own login is not retried for ever.
        this.#drop(user, sessionId);
        report({ type: 'registration', aor, state: 'failed', reason: 'XMPP login failed' });
      }
    });
  }

  loggedOut(user: string, sessionId: string): void {
    if (this.#users.has(user)) this.#drop(user, sessionId);
    else this.#component?.loggedOut(user, sessionId);
  }

  /**
   * The identity a web user calls and chats from: their own, waiting a little for it right after
   * login (so a call placed at once still comes from `gateway@…/alice`, not from the service
   * resource), else the service account's.
   */
  async #accountFor(user: string | undefined): Promise<XmppAccount | undefined> {
    const own = user ? (this.#users.get(user)?.account ?? this.#component?.accountFor(user)) : undefined;
    if (own && (await own.connection.whenOnline(OWN_IDENTITY_WAIT_MS))) return own;
    return this.#service ?? own;
  }

  /** In a cluster, calls and chat from web users go through the node holding the component, unless they have an account of their own. */
  #forwardsToHolder(from: Address): boolean {
    if (!this.#options.cluster?.componentLease || !this.#options.config.component || this.#component) return false;
    return !(from.scheme === 'web' && this.#users.get(from.user)?.own);
  }

  async #startComponent(): Promise<void> {
    const { component, inbound } = this.#options.config;
    if (!component || this.#component || this.#closed) return;
    const users = new XmppComponentUsers({
      ...component,
      inbound,
      mayReach: this.#servicePolicy,
      calls: this.#options.calls,
      chat: this.#options.chat,
      logger: this.#logger,
      ...(this.#options.cluster ? { presence: this.#options.cluster.presence } : {}),
      ...(this.#options.subscriptions ? { subscriptions: this.#options.subscriptions } : {}),
    });
    this.#component = users;
    await users.start();
  }

  async #stopComponent(): Promise<void> {
    const users = this.#component;
    this.#component = undefined;
    await users?.stop();
  }

  #drop(user: string, sessionId?: string): void {
    const entry = this.#users.get(user);
    if (!entry || (sessionId !== undefined && entry.sessionId !== sessionId)) return;
    this.#users.delete(user);
    entry.account.stop();
    void entry.connection.stop();
  }

  #connection(jid: string, password: string, resource: string, priority: number): XmppConnection {
    const onResumption = this.#options.onStreamResumption;
    return new XmppConnection({ server: this.#options.config.server, jid, password, resource, priority, logger: this.#logger, ...(onResumption ? { onResumption } : {}) });
  }

  #account(connection: XmppConnection, targetFor: (to: string) => ReturnType<typeof xmppInboundTarget>, mayReach: (from: string, target: Address) => boolean): XmppAccount {
    return new XmppAccount({ connection, calls: this.#options.calls, chat: this.#options.chat, logger: this.#logger, targetFor, mayReach, resumeGraceMs: this.#options.config.resumeGraceMs, onResumeTimeout: () => this.#options.onStreamResumption?.('timeout') });
  }

  readonly #servicePolicy = (from: string, target: Address): boolean => xmppCallerAllowed(from, target, this.#options.config.inbound.allowedCallers);

  /** The resource a stanza to the service account was sent to (undefined for the bare JID or another JID). */
  #resourceOf(to: string, serviceJid: string): string | undefined {
    return to.startsWith(`${serviceJid}/`) ? jidResource(to) : undefined;
  }

  /** XEP-0215 section 3.2: the server's STUN/TURN services, for the anchor's own ICE. */
  async #discoverIceServers(connection: XmppConnection): Promise<void> {
    try {
      const result = await connection.port.request(xml('iq', { type: 'get', to: jidDomain(connection.bareJid) }, xml('services', { xmlns: NS_EXTDISCO })));
      const servers = readExternalServices(result.getChild('services', NS_EXTDISCO) ?? (result.is('services') ? result : undefined)).map(iceServerUrl);
      this.#logger.info({ count: servers.length }, 'xmpp external services (XEP-0215)');
      this.#options.onIceServers?.(servers);
    } catch (error) {
      this.#logger.warn({ err: error }, 'xmpp external service discovery failed');
    }
  }
}
