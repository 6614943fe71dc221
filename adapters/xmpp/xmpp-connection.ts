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
  /** Each dropped stream's fate once the reconnect got through: resumed (XEP-0198) or failed (a new session). */
  onResumption?: (outcome: StreamResumptionOutcome) => void;
}

export type StreamResumptionOutcome = 'resumed' | 'failed' | 'timeout';

/** IQ replies we wait for before the peer counts as gone (Conversations ends calls on IQ timeouts too). */
const IQ_TIMEOUT_MS = 10_000;
const RECONNECT_MIN_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;
/** Stanzas that may wait for a resumption at once (Jingle of the calls kept up); more fail at once. */
const MAX_HELD_STANZAS = 64;

/** The part of @xmpp/stream-management (0.14, index.js) read here: `id` is the resumable session. */
interface StreamManagement {
  enabled?: boolean;
  /** Set once `<enable/>` went out; cleared when the server refused it. */
  enableSent?: boolean;
  id?: string;
  max?: string | null;
  on(event: 'resumed', listener: () => void): void;
}

/** Longest wait for the server's `<enabled/>` before the session starts talking anyway. */
const STREAM_MANAGEMENT_ENABLE_WAIT_MS = 5000;

/**
 * Resolves once XEP-0198 is enabled, refused or not offered. @xmpp/client emits `online` inside
 * resource binding (@xmpp/resource-binding index.js, `entity._ready`), before the stream-management
 * feature sends `<enable/>` (@xmpp/stream-management stream-feature.js): stanzas the session sent
 * and received in that gap were counted against the server's tally, and Prosody (mod_smacks)
 * closed such streams with "Client acknowledged more stanzas than sent by server" (2 of ~14 lab
 * logins). Nothing is sent before the counting starts on both sides.
 */
async function streamManagementSettled(sm: StreamManagement): Promise<void> {
  // The feature sends `<enable/>` a few microtasks after the bind resolved.
  await new Promise((resolve) => setImmediate(resolve));
  const deadline = Date.now() + STREAM_MANAGEMENT_ENABLE_WAIT_MS;
  while (sm.enableSent && !sm.enabled && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

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
  /** Down, but XEP-0198 may resume the session: sends wait for `resumed` instead of failing. */
  #suspended = false;
  #held = 0;

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
    const sm = xmpp.streamManagement as unknown as StreamManagement;
    // @xmpp/stream-management's resumed() (index.js) resends its unacknowledged queue, emits
    // `resumed` on itself and sets the status to online without an `online` event: no new bind,
    // so no new presence or roster query either (the server kept both).
    sm.on('resumed', () => {
      this.#online = true;
      this.#suspended = false;
      this.#retryDelay = RECONNECT_MIN_MS;
      xmpp.reconnect.delay = RECONNECT_MIN_MS;
      options.logger.info({ jid: options.jid, event: 'xmpp-stream-resumed' }, 'xmpp stream resumed (XEP-0198)');
      options.onResumption?.('resumed');
      this.safeEmit('resumed');
    });
    xmpp.on('online', (address) => {
      // A failed resumption goes on with a new session and ends up here.
      if (this.#suspended) {
        options.logger.warn({ jid: options.jid, event: 'xmpp-resume-failed' }, 'xmpp stream resumption failed; new session');
        options.onResumption?.('failed');
      }
      this.#suspended = false;
      this.#online = true;
      this.#retryDelay = RECONNECT_MIN_MS;
      xmpp.reconnect.delay = RECONNECT_MIN_MS;
      options.logger.info({ jid: address.toString() }, 'xmpp online');
      void streamManagementSettled(sm).then(() => {
        if (!this.#online || this.#stopped) return;
        // XEP-0115 section 4: caps in presence, so clients discover the call features without a query.
        // RFC 6121 section 2.2 / 3.1.3: subscription requests only reach resources that asked for the roster.
        xmpp.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' }))).catch(() => {});
        xmpp.send(xml('presence', {}, xml('priority', {}, String(options.priority)), capsElement())).catch(() => {});
        this.safeEmit('online', address.toString());
      });
    });
    xmpp.on('status', (status: string) => {
      if (status !== 'disconnect' || !this.#online) return;
      this.#online = false;
      // @xmpp/reconnect tries again after `delay`; double it each time, as far as 30 s.
      xmpp.reconnect.delay = Math.min(xmpp.reconnect.delay * 2, RECONNECT_MAX_MS);
      // The stream-management plugin keeps `id` across a disconnect (it clears it on a failed
      // resume or an explicit stop): a set id is what the reconnect will try to resume.
      this.#suspended = Boolean(sm.id) && !this.#stopped;
      options.logger.warn({ jid: options.jid, resumable: this.#suspended }, 'xmpp connection lost; reconnecting');
      this.safeEmit('offline', this.#suspended);
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

  /** The server's XEP-0198 `max` (seconds in `<enabled/>`) in ms, when it gave one. */
  get resumeMaxMs(): number | undefined {
    const max = Number((this.#xmpp.streamManagement as unknown as StreamManagement | undefined)?.max);
    return Number.isFinite(max) && max > 0 ? max * 1000 : undefined;
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
      assertXmlText(stanza);
      await this.#whenSendable();
      await this.#xmpp.send(stanza);
    },
    request: async (iq) => {
      assertXmlText(iq);
      await this.#whenSendable();
      return this.#xmpp.iqCaller.request(iq, IQ_TIMEOUT_MS);
    },
  };

  /**
   * Online: at once. Suspended (the stream dropped and may resume): waits for the resumption, at
   * most IQ_TIMEOUT_MS and MAX_HELD_STANZAS stanzas at once, so a Jingle stanza of a kept call
   * (a hang-up) goes out in order on the resumed stream. Otherwise, or when it does not resume in
   * time, fails with `invalid-state`.
   */
  async #whenSendable(): Promise<void> {
    if (this.#online) return;
    if (!this.#suspended || this.#held >= MAX_HELD_STANZAS) throw new GatewayError('invalid-state', 'xmpp is not connected');
    this.#held += 1;
    try {
      const resumed = await new Promise<boolean>((resolve) => {
        const done = (value: boolean) => {
          clearTimeout(timer);
          this.off('resumed', onResumed);
          this.off('online', onOnline);
          resolve(value);
        };
        const onResumed = () => done(true);
        // A new session: the stanza belonged to calls that ended with the old one.
        const onOnline = () => done(false);
        const timer = setTimeout(() => done(false), IQ_TIMEOUT_MS);
        timer.unref();
        this.on('resumed', onResumed);
        this.on('online', onOnline);
      });
      if (!resumed) throw new GatewayError('invalid-state', 'xmpp is not connected (stream not resumed)');
    } finally {
      this.#held -= 1;
    }
  }

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
