import { randomUUID } from 'node:crypto';
import { client, xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { CallFailedError, GatewayError, parseAddress, type CallRegistry, type GatewayConfig, type Leg, type LegFactory, type Logger, type OutboundLegRequest } from '../../src/index.js';
import { capsElement, discoInfoResult, NS_DISCO_INFO } from './caps.js';
import { JingleParseError } from './jingle/jingle-parse-error.js';
import { jingleImport } from './jingle/jingle-import.js';
import { NS_JINGLE } from './jingle/namespaces.js';
import { sdpExport } from './jingle/sdp-export.js';
import { jingleError, stanzaError } from './stanza-errors.js';
import { JmiHandler, type Proposal } from './jmi.js';
import { XmppLeg, type XmppStanzaPort } from './xmpp-leg.js';

export type XmppConfig = GatewayConfig['xmpp'];

/** What @xmpp/iq's callee hands a handler: the IQ and its one child. */
interface IqContext {
  stanza: Element;
  element: Element;
}

export interface XmppAdapterOptions {
  config: XmppConfig;
  calls: CallRegistry;
  logger: Logger;
}

/** IQ replies we wait for before the peer counts as gone (Conversations ends calls on IQ timeouts too). */
const IQ_TIMEOUT_MS = 10_000;

/**
 * The XMPP adapter in service account mode: one login (`xmpp.service.jid`), and a web user is a
 * resource of that JID: a JMI propose to `gateway@example.com/alice` rings `web:alice`. The
 * gateway's own session binds `xmpp.service.resource`; Jingle runs between it and the caller.
 */
export class XmppAdapter implements LegFactory {
  readonly #options: XmppAdapterOptions;
  readonly #logger: Logger;
  readonly #legs = new Map<string, XmppLeg>();
  readonly #jmi: JmiHandler;
  #xmpp: Client | undefined;

  constructor(options: XmppAdapterOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#jmi = new JmiHandler({ port: this.#port, serviceJid: this.#service.jid, logger: this.#logger, legFor: (sid) => this.#legs.get(sid) });
  }

  get #service(): NonNullable<XmppConfig['service']> {
    const service = this.#options.config.service;
    if (!service) throw new GatewayError('internal', 'xmpp.service is required');
    return service;
  }

  /** Logs in; reconnects are @xmpp/client's (its reconnect plugin). Resolves once online. */
  async start(): Promise<void> {
    const { jid, password, resource } = this.#service;
    const [username, domain] = jid.split('@') as [string, string];
    const xmpp = client({ service: this.#options.config.server, domain, username, password, resource });
    this.#xmpp = xmpp;
    xmpp.on('error', (error: unknown) => this.#logger.warn({ err: error }, 'xmpp connection error'));
    xmpp.on('online', (address) => {
      this.#logger.info({ jid: address.toString() }, 'xmpp online');
      // XEP-0115 section 4: caps in presence, so clients discover the call features without a query.
      xmpp.send(xml('presence', {}, capsElement())).catch(() => {});
    });
    // XEP-0030 section 3.1 (also for `node#ver`, XEP-0115 section 6.2).
    xmpp.iqCallee.get(NS_DISCO_INFO, 'query', (ctx: IqContext) => discoInfoResult(ctx.element.attrs.node as string | undefined));
    xmpp.iqCallee.set(NS_JINGLE, 'jingle', (ctx: IqContext) => this.#onJingle(ctx.stanza, ctx.element));
    xmpp.on('stanza', (stanza: Element) => {
      if (stanza.is('message')) this.#jmi.onMessage(stanza);
    });
    await xmpp.start();
  }

  async close(): Promise<void> {
    for (const leg of [...this.#legs.values()]) leg.end('shutdown');
    const xmpp = this.#xmpp;
    this.#xmpp = undefined;
    await xmpp?.stop().catch(() => {});
  }

  /** Calls from web users to XMPP (JMI propose as caller) are the next slice. */
  createLeg(request: OutboundLegRequest): Promise<Leg> {
    return Promise.reject(new CallFailedError('unreachable', `calls to ${request.target.uri} are not implemented yet`));
  }

  readonly #port: XmppStanzaPort = {
    jid: () => this.#xmpp?.jid?.toString() ?? this.#service.jid,
    send: async (stanza) => {
      if (!this.#xmpp) throw new GatewayError('invalid-state', 'xmpp is not connected');
      await this.#xmpp.send(stanza);
    },
    request: async (iq) => {
      if (!this.#xmpp) throw new GatewayError('invalid-state', 'xmpp is not connected');
      return this.#xmpp.iqCaller.request(iq, IQ_TIMEOUT_MS);
    },
  };

  /** A Jingle IQ set (XEP-0166 section 6): answered with a result or an error, never thrown. */
  #onJingle(iq: Element, jingle: Element): Element | true {
    const from = String(iq.attrs.from ?? '');
    const action = jingle.attrs.action as string | undefined;
    const sid = jingle.attrs.sid as string | undefined;
    if (!action || !sid) return stanzaError('modify', 'bad-request');
    if (action === 'session-initiate') return this.#onInitiate(from, sid, jingle);
    const leg = this.#legs.get(sid);
    if (!leg || leg.peer !== from) {
      // XEP-0166 section 6.1 / 7.3: unknown-session. A terminate for a proposal we still hold drops it.
      if (action === 'session-terminate' && this.#jmi.drop(sid, from)) return true;
      return jingleError('cancel', 'item-not-found', 'unknown-session');
    }
    try {
      switch (action) {
        case 'transport-info':
          leg.remoteTransportInfo(jingle);
          return true;
        case 'session-terminate':
          leg.remoteEnded(jingle.getChild('reason')?.getChildElements().find((c) => c.name !== 'text')?.name);
          return true;
        case 'session-info':
          return true; // XEP-0167 section 7: ringing/mute/hold are informational; an empty one is a ping.
        default:
          return stanzaError('cancel', 'feature-not-implemented');
      }
    } catch (error) {
      if (error instanceof JingleParseError) return stanzaError('modify', 'bad-request');
      throw error;
    }
  }

  /** session-initiate after our JMI proceed (XEP-0353 section 3.3; JINGLE.md section 1.4 step 3). */
  #onInitiate(from: string, sid: string, jingle: Element): Element | true {
    if (this.#legs.has(sid)) return jingleError('cancel', 'conflict', 'out-of-order');
    const proposal = this.#jmi.take(sid, from);
    if (!proposal) return jingleError('cancel', 'item-not-found', 'unknown-session');
    let sdp: string;
    let offer;
    try {
      offer = jingleImport(jingle, { author: 'initiator' });
      sdp = sdpExport(offer);
    } catch (error) {
      this.#logger.info({ err: error, sid }, 'malformed session-initiate');
      return stanzaError('modify', 'bad-request');
    }
    const media = offer.contents.map((c) => c.kind).sort().join(',');
    const callId = randomUUID();
    const leg = new XmppLeg({
      id: callId,
      sid,
      peer: from,
      address: parseAddress(`xmpp:${from.split('/')[0]!}`),
      offer,
      port: this.#port,
      logger: this.#logger,
      onReleased: (released) => this.#legs.delete(released),
    });
    this.#legs.set(sid, leg);
    // Acknowledge first (XEP-0166 section 6.2), then ring: the result must not wait for the web user.
    setImmediate(() => this.#place(leg, proposal, media, sdp));
    return true;
  }

  #place(leg: XmppLeg, proposal: Proposal, media: string, sdp: string): void {
    // JINGLE.md section 3.1: the initiated media must be the proposed media, or it is a security error.
    if (proposal.media.length > 0 && proposal.media.slice().sort().join(',') !== media) {
      leg.end('incompatible-media');
      return;
    }
    let target;
    try {
      target = parseAddress(`web:${proposal.user}`);
    } catch {
      leg.end('not-found');
      return;
    }
    this.#options.calls.place({ id: leg.id, caller: leg, target, sdp }).catch((error: unknown) => {
      const reason = error instanceof CallFailedError ? error.reason : error instanceof GatewayError && error.code === 'shutting-down' ? 'shutdown' : 'failed';
      if (!(error instanceof CallFailedError || error instanceof GatewayError)) this.#logger.error({ err: error }, 'inbound XMPP call failed');
      leg.end(reason);
    });
  }
}
