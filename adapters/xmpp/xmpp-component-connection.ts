import { component } from '@xmpp/component';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { GatewayError, TypedEmitter, type Logger, type PresenceSubscriptionStore } from '../../src/index.js';
import { capsElement, discoInfoResult, NS_DISCO_INFO } from './caps.js';
import { bareJid, jidLocal } from './jid.js';
import { flattenTooDeep } from './stanza-depth.js';
import { logStanzas } from './stanza-log.js';
import { assertXmlText } from './xml-text.js';
import type { XmppStanzaPort } from './jingle-leg.js';
import type { IqContext, IqSetHandler, XmppIdentity, XmppIdentityEvents } from './xmpp-identity.js';

/** What @xmpp/component (0.13, no type declarations of its own) gives us. */
interface ComponentEntity {
  on(event: 'online' | 'offline' | 'error' | 'stanza' | 'status' | 'element' | 'send', listener: (arg: never) => void): void;
  prependListener(event: 'element', listener: (stanza: Element) => void): void;
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  send(stanza: Element): Promise<void>;
  iqCaller: { request(iq: Element, timeoutMs?: number): Promise<Element> };
  iqCallee: { set(ns: string, name: string, handler: (ctx: IqContext) => unknown): void; get(ns: string, name: string, handler: (ctx: IqContext) => unknown): void };
  reconnect: { delay: number };
}

export interface XmppComponentConnectionOptions {
  /** `xmpp://host:port` of the server's component port (Prosody: `component_ports`, 5347). */
  server: string;
  /** The component's domain (`gateway.example.org`): every `user@domain` is ours. */
  domain: string;
  password: string;
  logger: Logger;
  /** The identity for a local part that has none yet (undefined: nobody may be reached there). */
  identityFor: (local: string) => ComponentIdentity | undefined;
  /** Where subscriptions survive a restart (a file, or Redis in a cluster); memory only without. */
  subscriptions?: PresenceSubscriptionStore;
  /** Subscriptions held at most, all users together (anyone on the federation may ask). */
  maxSubscriptions: number;
  /**
   * Whether a local part that is no web user is available to `subscriber` (a bare JID) anyway: a
   * phone or service behind `xmpp.inbound.rules` that this subscriber may call. Clients show a
   * call button only for an available contact with call caps (Conversations' RtpCapability, Dino).
   */
  availableTo?: (local: string, subscriber: string) => boolean;
}

/** The resource our component JIDs speak from (JINGLE.md section 7: a stable resource). */
export const COMPONENT_RESOURCE = 'switchboard';
const IQ_TIMEOUT_MS = 10_000;
const RECONNECT_MAX_MS = 30_000;

/**
 * An XMPP component (XEP-0114) for a domain of its own: every `alice@gateway.example.org` is an
 * address of the gateway, so XMPP users add web users to their roster under a bare JID and call
 * them as they call anyone (JMI to the bare JID). Stanzas are routed to a ComponentIdentity by
 * the local part of `to`. Components have no roster on the server, so presence subscriptions are
 * approved here, subscribers remembered and probes answered (RFC 6121 sections 3 and 4.3).
 */
export class XmppComponentConnection extends TypedEmitter<{ online: []; offline: []; listenererror: [event: string, error: unknown] }> {
  readonly #options: XmppComponentConnectionOptions;
  readonly #entity: ComponentEntity;
  readonly #identities = new Map<string, ComponentIdentity>();
  readonly #iqKeys = new Set<string>();
  /** Bare JIDs that asked for each local part's presence. */
  readonly #subscribers = new Map<string, Set<string>>();
  #subscriptionCount = 0;
  #subscriptionsLoaded = false;
  readonly #available = new Set<string>();
  #online = false;

  constructor(options: XmppComponentConnectionOptions) {
    super();
    this.#options = options;
    const entity = component({ service: options.server, domain: options.domain, password: options.password }) as unknown as ComponentEntity;
    this.#entity = entity;
    // Ahead of @xmpp/component's own middleware, which listens to the same event.
    entity.prependListener('element', flattenTooDeep);
    logStanzas(entity, options.logger, options.domain);
    entity.on('error', (error: unknown) => options.logger.warn({ err: error, domain: options.domain }, 'xmpp component error'));
    entity.on('online', () => {
      this.#online = true;
      entity.reconnect.delay = 1_000;
      options.logger.info({ domain: options.domain }, 'xmpp component online');
      this.safeEmit('online');
      for (const identity of this.#identities.values()) identity.connectionOnline();
      // Every subscriber hears where each user stands, including after a restart or a crash that
      // sent no unavailable: contacts see the truth without logging in again (RFC 6121 section 4.2).
      for (const local of this.#subscribers.keys()) this.#broadcast(local);
    });
    entity.on('status', (status: string) => {
      if (status !== 'disconnect' || !this.#online) return;
      this.#online = false;
      entity.reconnect.delay = Math.min(entity.reconnect.delay * 2, RECONNECT_MAX_MS);
      options.logger.warn({ domain: options.domain }, 'xmpp component connection lost; reconnecting');
      this.safeEmit('offline');
      for (const identity of this.#identities.values()) identity.connectionOffline();
    });
    entity.iqCallee.get(NS_DISCO_INFO, 'query', (ctx: IqContext) => discoInfoResult(ctx.element.attrs.node as string | undefined));
    entity.on('stanza', (stanza: Element) => this.#onStanza(stanza));
  }

  get online(): boolean {
    return this.#online;
  }

  get domain(): string {
    return this.#options.domain;
  }

  /** The identity of `local@domain`, made once. */
  identity(local: string): ComponentIdentity {
    let identity = this.#identities.get(local);
    if (!identity) {
      identity = new ComponentIdentity(this, `${local}@${this.#options.domain}`);
      this.#identities.set(local, identity);
    }
    return identity;
  }

  /** A web user came online or went: their JID's presence, with caps, to whoever subscribed. */
  setAvailable(local: string, available: boolean): void {
    if (available) this.#available.add(local);
    else this.#available.delete(local);
    if (this.#online) this.#broadcast(local);
  }

  async start(): Promise<boolean> {
    await this.#loadSubscriptions();
    try {
      await this.#entity.start();
      return true;
    } catch (error) {
      this.#options.logger.warn({ err: error, domain: this.#options.domain }, 'xmpp component login failed; retrying');
      return false;
    }
  }

  async stop(): Promise<void> {
    // Unavailable to whoever sees a JID available now (users online, phones behind the rules).
    for (const [local, subscribers] of this.#subscribers) {
      for (const subscriber of subscribers) if (this.#isAvailableTo(local, subscriber)) this.#presenceTo(local, subscriber, false);
    }
    this.#online = false;
    await this.#entity.stop().catch(() => {});
  }

  /** Sends from `from` (components must say who a stanza is from, XEP-0114 section 3). */
  async send(from: string, stanza: Element): Promise<void> {
    if (!this.#online) throw new GatewayError('invalid-state', 'the xmpp component is not connected');
    stanza.attrs.from = from;
    assertXmlText(stanza);
    return this.#entity.send(stanza);
  }

  async request(from: string, iq: Element): Promise<Element> {
    if (!this.#online) throw new GatewayError('invalid-state', 'the xmpp component is not connected');
    iq.attrs.from = from;
    assertXmlText(iq);
    return this.#entity.iqCaller.request(iq, IQ_TIMEOUT_MS);
  }

  /** IQ sets are registered once per element and dispatched to the identity `to` names. */
  registerIqSet(ns: string, name: string): void {
    const key = `${ns} ${name}`;
    if (this.#iqKeys.has(key)) return;
    this.#iqKeys.add(key);
    this.#entity.iqCallee.set(ns, name, (ctx: IqContext) => {
      const identity = this.#identityOf(String(ctx.stanza.attrs.to ?? ''));
      const handler = identity?.iqSetHandler(ns, name);
      return handler ? handler(ctx) : xml('error', { type: 'cancel' }, xml('service-unavailable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }));
    });
  }

  #identityOf(to: string): ComponentIdentity | undefined {
    const local = jidLocal(to);
    if (local === undefined) return undefined;
    return this.#identities.get(local) ?? this.#options.identityFor(local);
  }

  #onStanza(stanza: Element): void {
    const to = String(stanza.attrs.to ?? '');
    if (stanza.is('message')) this.#identityOf(to)?.deliver(stanza);
    else if (stanza.is('presence')) this.#onPresence(stanza, to);
  }

  #onPresence(stanza: Element, to: string): void {
    const local = jidLocal(to);
    const from = bareJid(String(stanza.attrs.from ?? ''));
    if (local === undefined || !from) return;
    const type = stanza.attrs.type as string | undefined;
    const reply = (attrs: Record<string, string>, ...children: Element[]) => this.send(`${local}@${this.#options.domain}`, xml('presence', { to: from, ...attrs }, ...children)).catch(() => {});
    if (type === 'subscribe') {
      if (!this.#subscribe(local, from)) {
        // RFC 6121 section 3.2: a refused subscription is answered unsubscribed.
        reply({ type: 'unsubscribed' });
        return;
      }
      reply({ type: 'subscribed' });
      reply({ type: 'subscribe' });
      this.#presenceTo(local, from);
    } else if (type === 'probe') {
      // A probe comes from the server of a contact that holds a subscription (RFC 6121 section
      // 4.3): one we may have lost, so it is kept again.
      this.#subscribe(local, from);
      this.#presenceTo(local, from);
    } else if (type === 'unsubscribe' || type === 'unsubscribed') {
      this.#unsubscribe(local, from);
    }
  }

  /** Reads the kept subscriptions once, before the first connection (up to the cap). */
  async #loadSubscriptions(): Promise<void> {
    const store = this.#options.subscriptions;
    if (!store || this.#subscriptionsLoaded) return;
    try {
      const kept = await store.load();
      for (const { owner, subscriber } of kept) this.#remember(owner, subscriber);
      this.#subscriptionsLoaded = true;
      this.#options.logger.info({ domain: this.#options.domain, subscriptions: this.#subscriptionCount }, 'xmpp component subscriptions loaded');
    } catch (error) {
      // Retried at the next start; until then contacts that probe or subscribe are learnt again.
      this.#options.logger.error({ err: error, domain: this.#options.domain }, 'could not read the kept xmpp subscriptions');
    }
  }

  /** False when the cap is reached and `subscriber` is new. */
  #subscribe(local: string, subscriber: string): boolean {
    if (this.#subscribers.get(local)?.has(subscriber)) return true;
    if (!this.#remember(local, subscriber)) {
      this.#options.logger.warn({ domain: this.#options.domain, max: this.#options.maxSubscriptions }, 'xmpp subscription refused: the component holds as many as xmpp.component.maxSubscriptions');
      return false;
    }
    this.#options.subscriptions?.add({ owner: local, subscriber }).catch((error: unknown) => this.#options.logger.warn({ err: error }, 'could not keep an xmpp subscription'));
    return true;
  }

  #unsubscribe(local: string, subscriber: string): void {
    const subscribers = this.#subscribers.get(local);
    if (!subscribers?.delete(subscriber)) return;
    this.#subscriptionCount -= 1;
    if (subscribers.size === 0) this.#subscribers.delete(local);
    this.#options.subscriptions?.remove({ owner: local, subscriber }).catch((error: unknown) => this.#options.logger.warn({ err: error }, 'could not drop a kept xmpp subscription'));
  }

  #remember(local: string, subscriber: string): boolean {
    let subscribers = this.#subscribers.get(local);
    if (subscribers?.has(subscriber)) return true;
    if (this.#subscriptionCount >= this.#options.maxSubscriptions) return false;
    if (!subscribers) {
      subscribers = new Set();
      this.#subscribers.set(local, subscribers);
    }
    subscribers.add(subscriber);
    this.#subscriptionCount += 1;
    return true;
  }

  /** A web user while online; a phone or service behind the rules for the subscribers that may call it. */
  #isAvailableTo(local: string, subscriber: string): boolean {
    return this.#available.has(local) || (this.#options.availableTo?.(local, subscriber) ?? false);
  }

  /** `local`'s presence to `to`: available with caps, or unavailable; `available` overrides (a stop). */
  #presenceTo(local: string, to: string, available = this.#isAvailableTo(local, to)): void {
    const from = `${local}@${this.#options.domain}/${COMPONENT_RESOURCE}`;
    const presence = available ? xml('presence', { to }, capsElement()) : xml('presence', { to, type: 'unavailable' });
    this.send(from, presence).catch(() => {});
  }

  #broadcast(local: string): void {
    for (const subscriber of this.#subscribers.get(local) ?? []) this.#presenceTo(local, subscriber);
  }
}

/** One JID of the component (`alice@gateway.example.org/switchboard`) as an XmppIdentity. */
export class ComponentIdentity extends TypedEmitter<XmppIdentityEvents> implements XmppIdentity {
  readonly jid: string;
  readonly bareJid: string;
  readonly #handlers = new Map<string, IqSetHandler>();

  constructor(
    private readonly connection: XmppComponentConnection,
    bare: string,
  ) {
    super();
    this.bareJid = bare;
    this.jid = `${bare}/${COMPONENT_RESOURCE}`;
  }

  get online(): boolean {
    return this.connection.online;
  }

  readonly port: XmppStanzaPort = {
    jid: () => this.jid,
    send: (stanza) => this.connection.send(this.jid, stanza),
    request: (iq) => this.connection.request(this.jid, iq),
  };

  onIqSet(ns: string, name: string, handler: IqSetHandler): void {
    this.#handlers.set(`${ns} ${name}`, handler);
    this.connection.registerIqSet(ns, name);
  }

  iqSetHandler(ns: string, name: string): IqSetHandler | undefined {
    return this.#handlers.get(`${ns} ${name}`);
  }

  whenOnline(timeoutMs: number): Promise<boolean> {
    if (this.online) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.once('online', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  deliver(stanza: Element): void {
    this.safeEmit('message', stanza);
  }

  connectionOnline(): void {
    this.safeEmit('online', this.jid);
  }

  connectionOffline(): void {
    this.safeEmit('offline');
  }
}
