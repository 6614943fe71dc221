import { client, xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { GatewayError, TypedEmitter, type Logger } from '../../src/index.js';
import { capsElement, discoInfoResult, NS_DISCO_INFO } from './caps.js';
import type { XmppStanzaPort } from './jingle-leg.js';
import { bareJid, jidDomain } from './jid.js';
import { flattenTooDeep } from './stanza-depth.js';
import { logStanzas } from './stanza-log.js';
import { assertXmlText } from './xml-text.js';
import type { IqContext, IqSetHandler, XmppIdentity, XmppIdentityEvents } from './xmpp-identity.js';

export type { IqContext } from './xmpp-identity.js';

export interface XmppConnectionOptions {
  /** `xmpp://host:port` or `xmpps://host:port`. */
  server: string;
  /** Bare JID to log in as. */
  jid: string;
  password: string;
  resource: string;
  /**
   * RFC 6121 section 4.7.2.3 presence priority. Web users' resources of a service account use
   * -1, so messages to the bare JID are not fanned out to every one of them (section 8.5.2.1.1).
   */
  priority: number;
  logger: Logger;
}

/** IQ replies we wait for before the peer counts as gone (Conversations ends calls on IQ timeouts too). */
const IQ_TIMEOUT_MS = 10_000;
const RECONNECT_MIN_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;

/**
 * One client-to-server session (@xmpp/client: SASL, STARTTLS or direct TLS, resource binding,
 * stream management when offered) that stands for one XMPP identity of the gateway. It answers
 * disco#info, announces XEP-0115 caps in its presence, approves presence subscriptions and
 * subscribes back (so Conversations rings and sends receipts, JINGLE.md section 7), and
 * reconnects with a doubling delay.
 */
export class XmppConnection extends TypedEmitter<XmppIdentityEvents> implements XmppIdentity {
  readonly #options: XmppConnectionOptions;
  readonly #xmpp: Client;
  #online = false;
  #stopped = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelay = RECONNECT_MIN_MS;

  constructor(options: XmppConnectionOptions) {
    super();
    this.#options = options;
    const at = options.jid.indexOf('@');
    this.#xmpp = client({
      service: options.server,
      domain: jidDomain(options.jid),
      username: options.jid.slice(0, at),
      password: options.password,
      resource: options.resource,
    });
    const xmpp = this.#xmpp;
    // Ahead of @xmpp/client's own middleware, which listens to the same event.
    xmpp.prependListener('element', flattenTooDeep);
    logStanzas(xmpp, options.logger, options.jid);
    xmpp.on('error', (error: unknown) => options.logger.warn({ err: error, jid: options.jid }, 'xmpp connection error'));
    xmpp.on('online', (address) => {
      this.#online = true;
      this.#retryDelay = RECONNECT_MIN_MS;
      xmpp.reconnect.delay = RECONNECT_MIN_MS;
      options.logger.info({ jid: address.toString() }, 'xmpp online');
      // XEP-0115 section 4: caps in presence, so clients discover the call features without a query.
      // RFC 6121 section 2.2 / 3.1.3: subscription requests only reach resources that asked for the roster.
      xmpp.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' }))).catch(() => {});
      xmpp.send(xml('presence', {}, xml('priority', {}, String(options.priority)), capsElement())).catch(() => {});
      this.safeEmit('online', address.toString());
    });
    xmpp.on('status', (status: string) => {
      if (status !== 'disconnect' || !this.#online) return;
      this.#online = false;
      // @xmpp/reconnect tries again after `delay`; double it each time, as far as 30 s.
      xmpp.reconnect.delay = Math.min(xmpp.reconnect.delay * 2, RECONNECT_MAX_MS);
      options.logger.warn({ jid: options.jid }, 'xmpp connection lost; reconnecting');
      this.safeEmit('offline');
    });
    // XEP-0030 section 3.1 (also for `node#ver`, XEP-0115 section 6.2).
    xmpp.iqCallee.get(NS_DISCO_INFO, 'query', (ctx: IqContext) => discoInfoResult(ctx.element.attrs.node as string | undefined));
    xmpp.on('stanza', (stanza: Element) => {
      if (stanza.is('message')) this.safeEmit('message', stanza);
      else if (stanza.is('presence')) this.#onPresence(stanza);
    });
  }

  get online(): boolean {
    return this.#online;
  }

  /** Whether XEP-0198 stream management is on for this stream (@xmpp/client enables it when offered). */
  get streamManagement(): boolean {
    return Boolean((this.#xmpp.streamManagement as { enabled?: boolean } | undefined)?.enabled);
  }

  /** Resolves true once online (at once when it is), false after `timeoutMs`. */
  whenOnline(timeoutMs: number): Promise<boolean> {
    if (this.#online) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onOnline = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.off('online', onOnline);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      this.once('online', onOnline);
    });
  }

  /** Our full JID once bound (before that, the configured one with its resource). */
  get jid(): string {
    return this.#xmpp.jid?.toString() ?? `${this.#options.jid}/${this.#options.resource}`;
  }

  get bareJid(): string {
    return bareJid(this.#options.jid);
  }

  /** Handles Jingle (or any) IQ sets of one element; the handler's return is the reply. */
  onIqSet(ns: string, name: string, handler: IqSetHandler): void {
    this.#xmpp.iqCallee.set(ns, name, handler);
  }

  /**
   * Logs in. Resolves true once online; false when the first attempt failed, in which case it
   * keeps trying in the background (the gateway starts even while the XMPP server is down).
   */
  async start(): Promise<boolean> {
    try {
      await this.#xmpp.start();
      return true;
    } catch (error) {
      this.#options.logger.warn({ err: error, jid: this.#options.jid }, 'xmpp login failed; retrying');
      this.#scheduleRetry();
      return false;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    const wasOnline = this.#online;
    this.#online = false;
    if (wasOnline) await this.#xmpp.send(xml('presence', { type: 'unavailable' })).catch(() => {});
    await this.#xmpp.stop().catch(() => {});
  }

  readonly port: XmppStanzaPort = {
    jid: () => this.jid,
    send: async (stanza) => {
      if (!this.#online) throw new GatewayError('invalid-state', 'xmpp is not connected');
      assertXmlText(stanza);
      await this.#xmpp.send(stanza);
    },
    request: async (iq) => {
      if (!this.#online) throw new GatewayError('invalid-state', 'xmpp is not connected');
      assertXmlText(iq);
      return this.#xmpp.iqCaller.request(iq, IQ_TIMEOUT_MS);
    },
  };

  /** RFC 6121 section 3: approve subscription requests and subscribe back (as cheogram-sip does). */
  #onPresence(stanza: Element): void {
    const from = String(stanza.attrs.from ?? '');
    if (stanza.attrs.type === 'subscribe' && from) {
      this.#xmpp.send(xml('presence', { to: bareJid(from), type: 'subscribed' })).catch(() => {});
      this.#xmpp.send(xml('presence', { to: bareJid(from), type: 'subscribe' })).catch(() => {});
    }
    this.safeEmit('presence', stanza);
  }

  #scheduleRetry(): void {
    if (this.#stopped) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      if (this.#stopped) return;
      this.#xmpp.start().catch((error: unknown) => {
        this.#options.logger.debug({ err: error }, 'xmpp login retry failed');
        this.#retryDelay = Math.min(this.#retryDelay * 2, RECONNECT_MAX_MS);
        this.#scheduleRetry();
      });
    }, this.#retryDelay);
    this.#retryTimer.unref();
  }
}
