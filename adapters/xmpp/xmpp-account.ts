import { randomUUID } from 'node:crypto';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import {
  CallFailedError,
  EXTERNAL_PARTY,
  GatewayError,
  parseAddress,
  type Address,
  type CallRegistry,
  type ChatMessage,
  type ChatRouter,
  type EndReason,
  type Leg,
  type Logger,
  type PartyIdentity,
} from '../../src/index.js';
import { JingleParseError } from './jingle/jingle-parse-error.js';
import { jingleImport } from './jingle/jingle-import.js';
import { NS_HINTS, NS_JINGLE, NS_JMI, NS_RECEIPTS } from './jingle/namespaces.js';
import { sdpExport } from './jingle/sdp-export.js';
import { bareJid } from './jid.js';
import type { JingleLeg } from './jingle-leg.js';
import { JmiProposals, jmiMessageId, jmiReason, PROPOSE_ID_PREFIX, readJmi, type JmiElement } from './jmi.js';
import { jingleError, stanzaError } from './stanza-errors.js';
import { XmppCalleeLeg } from './xmpp-callee-leg.js';
import { XmppChat } from './xmpp-chat.js';
import { XmppCallerLeg } from './xmpp-caller-leg.js';
import type { IqContext, XmppIdentity } from './xmpp-identity.js';

export interface XmppAccountOptions {
  connection: XmppIdentity;
  calls: CallRegistry;
  chat: ChatRouter;
  logger: Logger;
  /** Where a call or chat message addressed to `to` (one of our JIDs) goes; undefined: nobody here. */
  targetFor: (to: string) => Address | undefined;
  /** Whether the sender (bare JID) may call or message `target` through this identity (toll-fraud policy). */
  mayReach: (from: string, target: Address) => boolean;
  /** How long calls wait for a dropped stream to resume (XEP-0198) before they end; 0: they end at once. */
  resumeGraceMs?: number;
  /** The grace time ran out with calls waiting (metrics). */
  onResumeTimeout?: () => void;
}

/** Jingle actions we know but do not do (renegotiation, transport replacement): XEP-0166 section 6. */
const UNSUPPORTED_ACTIONS = new Set([
  'content-accept',
  'content-add',
  'content-modify',
  'content-reject',
  'content-remove',
  'description-info',
  'security-info',
  'transport-accept',
  'transport-reject',
  'transport-replace',
]);

/**
 * Calls and chat on one XMPP identity of the gateway (the service account's own resource, a web
 * user's resource of it, or a web user's own account): JMI and Jingle both ways, one-to-one chat.
 */
export class XmppAccount {
  readonly #options: XmppAccountOptions;
  readonly #legs = new Map<string, JingleLeg>();
  readonly #proposals: JmiProposals;
  readonly #chat: XmppChat;
  /** Set while the stream is down and may resume: when it fires, the calls kept up end. */
  #graceTimer: NodeJS.Timeout | undefined;
  /** Calls ended when the grace time ran out: their peers hear why once a new session is up. */
  #owedTerminates: JingleLeg[] = [];

  constructor(options: XmppAccountOptions) {
    this.#options = options;
    const { connection } = options;
    this.#proposals = new JmiProposals({ port: connection.port, logger: options.logger });
    this.#chat = new XmppChat({ port: connection.port, chat: options.chat, targetFor: options.targetFor, mayReach: options.mayReach });
    connection.onIqSet(NS_JINGLE, 'jingle', (ctx: IqContext) => this.#onJingle(ctx.stanza, ctx.element));
    connection.on('message', (stanza) => this.#onMessage(stanza));
    connection.on('offline', (resumable) => this.#onOffline(resumable === true));
    connection.on('resumed', () => this.#onResumed());
    connection.on('online', () => this.#onNewSession());
  }

  /**
   * Calls cannot outlive their session: the peer's IQs and ours would go nowhere. A stream that
   * may resume (XEP-0198) keeps its session on the server, so the calls (whose media never went
   * over XMPP) wait for the resumption, at most the grace time or the server's `max`.
   */
  #onOffline(resumable: boolean): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    const configured = this.#options.resumeGraceMs ?? 0;
    const graceMs = Math.min(configured, this.connection.resumeMaxMs ?? configured);
    if (!resumable || graceMs <= 0 || this.#legs.size === 0) {
      this.#endAll('connection-lost', false);
      return;
    }
    this.#options.logger.warn({ jid: this.connection.bareJid, calls: this.#legs.size, graceMs }, 'xmpp stream lost; calls kept while it resumes');
    this.#graceTimer = setTimeout(() => {
      this.#graceTimer = undefined;
      this.#options.logger.warn({ jid: this.connection.bareJid, calls: this.#legs.size, event: 'xmpp-resume-timeout' }, 'xmpp stream not resumed in time; ending its calls');
      this.#options.onResumeTimeout?.();
      this.#owedTerminates = [...this.#legs.values()];
      this.#endAll('connection-lost', false);
    }, graceMs);
    this.#graceTimer.unref();
  }

  #onResumed(): void {
    // The resumed session is the one the peers knew: tell them now that their calls ended.
    if (!this.#sessionBack()) return;
    this.#options.logger.info({ jid: this.connection.bareJid, calls: this.#legs.size }, 'xmpp stream resumed; calls go on');
  }

  /** A session is up again: peers of calls that outlived the grace hear of it; true when calls were still waiting (the grace timer stops). */
  #sessionBack(): boolean {
    for (const leg of this.#owedTerminates.splice(0)) leg.notifyEndedLate('connection-lost');
    if (this.#graceTimer === undefined) return false;
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    return true;
  }

  /**
   * Online with a new session while calls waited: the resumption failed (the server dropped the
   * old session). The peers' sessions are dead; they hear why (XEP-0166 connectivity-error) from
   * the new session, which is the same bare JID.
   */
  #onNewSession(): void {
    if (!this.#sessionBack()) return;
    this.#options.logger.warn({ jid: this.connection.bareJid, calls: this.#legs.size }, 'xmpp stream resumption failed; ending its calls');
    this.#endAll('connection-lost', true);
  }

  get connection(): XmppIdentity {
    return this.#options.connection;
  }

  get callCount(): number {
    return this.#legs.size;
  }

  /** A leg that calls `target` (a bare JID: JMI; a full JID: direct session-initiate). */
  createCalleeLeg(callId: string, target: Address): Leg {
    if (!this.connection.online) throw new CallFailedError('unreachable', 'the XMPP connection is down');
    const jid = `${target.user}@${target.host}${target.resource ? `/${target.resource}` : ''}`;
    const sid = randomUUID();
    const leg = new XmppCalleeLeg({ id: callId, sid, target: jid, address: target, port: this.connection.port, logger: this.#options.logger, onReleased: (s) => this.#legs.delete(s) });
    this.#legs.set(sid, leg);
    return leg;
  }

  /** A chat message to an XMPP contact (RFC 6121 section 5); a later bounce is reported to the sender. */
  sendChat(message: ChatMessage): Promise<void> {
    return this.#chat.send(message);
  }

  #endAll(reason: EndReason, notifyPeers: boolean): void {
    for (const leg of [...this.#legs.values()]) leg.abort(reason, notifyPeers);
    this.#proposals.clear();
  }

  /** Ends this identity's calls (peers get session-terminate) and forgets pending messages. */
  stop(): void {
    this.#owedTerminates = [];
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.#endAll('shutdown', true);
    this.#chat.stop();
  }

  #onMessage(stanza: Element): void {
    const from = String(stanza.attrs.from ?? '');
    if (!from || bareJid(from) === this.connection.bareJid) return; // our own carbons and other devices
    if (stanza.attrs.type === 'error') return this.#onBounce(stanza, from);
    const jmi = readJmi(stanza);
    if (jmi) return this.#onJmi(stanza, jmi, from);
    const receipt = stanza.getChild('received', NS_RECEIPTS);
    if (receipt) return this.#onReceipt(String(receipt.attrs.id ?? ''), from);
    const body = stanza.getChildText('body');
    if (body !== null && stanza.attrs.type !== 'groupchat') this.#chat.received(stanza, from, body);
  }

  /**
   * XEP-0184 receipt for our propose message (`jm-propose-<sid>`): a device of the callee has it and
   * rings. Conversations before `<ringing/>` (2.12 and older) tells ringing only this way; its
   * JingleConnectionManager takes a receipt for a `jm-propose-` id as "ringing" too. Receipts for
   * anything else (chat) are not tracked.
   */
  #onReceipt(id: string, from: string): void {
    if (!id.startsWith(PROPOSE_ID_PREFIX)) return;
    const leg = this.#legs.get(id.slice(PROPOSE_ID_PREFIX.length));
    if (leg instanceof XmppCalleeLeg && leg.isCallee(from)) leg.remoteRinging();
  }

  #onJmi(stanza: Element, jmi: JmiElement, from: string): void {
    const leg = this.#legs.get(jmi.sid);
    switch (jmi.name) {
      case 'propose':
      {
        if (this.#tieBreak(jmi.sid, from)) return;
        const target = this.#options.targetFor(String(stanza.attrs.to ?? ''));
        const refusal = !target ? 'gone' : !this.#options.mayReach(bareJid(from), target) ? 'decline' : leg !== undefined ? 'busy' : undefined;
        if (refusal === 'decline') this.#options.logger.info({ from, target: target?.uri }, 'xmpp caller not allowed');
        return this.#proposals.onPropose(stanza, jmi, from, target, refusal);
      }
      case 'retract': // XEP-0353 section 3.2: the caller gave up before the session started
        this.#proposals.retract(jmi.sid, from);
        if (leg instanceof XmppCallerLeg && leg.peer === from) leg.remoteEnded('cancel');
        return;
      case 'finish': // XEP-0353 section 3.6
        if (leg && leg.peer === from) leg.remoteEnded(jmiReason(jmi.element) ?? 'success');
        return;
      default:
        break;
    }
    // Answers to a propose of ours, from any device of the called account.
    if (!(leg instanceof XmppCalleeLeg) || !leg.isCallee(from)) return;
    if (jmi.name === 'ringing') leg.remoteRinging();
    else if (jmi.name === 'proceed') leg.remoteProceed(from);
    else if (jmi.name === 'reject') leg.remoteReject(jmiReason(jmi.element));
  }

  /**
   * XEP-0353 tie-breaking: a propose from someone we are proposing to ourselves (both sides called
   * at once). The lower session id (octet order) wins. If ours wins, theirs is rejected with
   * `<tie-break/>`; if theirs wins, ours is retracted with `<tie-break/>` and theirs goes on.
   * Returns true when their propose was consumed.
   */
  #tieBreak(sid: string, from: string): boolean {
    const ours = [...this.#legs.values()].find((leg): leg is XmppCalleeLeg => leg instanceof XmppCalleeLeg && leg.peer === undefined && leg.isCallee(from));
    if (!ours) return false;
    if (Buffer.compare(Buffer.from(ours.sid), Buffer.from(sid)) < 0) {
      const reject = xml('reject', { xmlns: NS_JMI, id: sid }, xml('tie-break', { xmlns: NS_JMI }), xml('reason', { xmlns: NS_JINGLE }, xml('expired')));
      this.connection.port.send(xml('message', { to: from, type: 'chat', id: jmiMessageId('reject', sid) }, reject, xml('store', { xmlns: NS_HINTS }))).catch(() => {});
      return true;
    }
    ours.loseTieBreak();
    return false;
  }

  /** RFC 6120 section 8.3: a bounced message. Chat ones get reported; JMI ones void the call attempt. */
  #onBounce(stanza: Element, from: string): void {
    if (this.#chat.bounced(stanza)) return;
    const id = String(stanza.attrs.id ?? '');
    this.#proposals.dropFrom(from);
    // Only a bounce of this call's own JMI messages (ids `jm-<name>-<sid>`) ends it.
    for (const leg of [...this.#legs.values()]) {
      const party = leg.peer === from || (leg instanceof XmppCalleeLeg && leg.isCallee(from));
      if (party && id.endsWith(`-${leg.sid}`)) leg.remoteEnded('gone');
    }
  }

  /** A Jingle IQ set (XEP-0166 section 6): answered with a result or an error, never thrown. */
  #onJingle(iq: Element, jingle: Element): Element | true {
    const from = String(iq.attrs.from ?? '');
    const action = jingle.attrs.action as string | undefined;
    const sid = jingle.attrs.sid as string | undefined;
    if (!action || !sid) return stanzaError('modify', 'bad-request');
    if (action === 'session-initiate') return this.#onInitiate(iq, from, sid, jingle);
    const leg = this.#legs.get(sid);
    if (!leg || leg.peer !== from) {
      // XEP-0166 section 7.3: unknown-session. A terminate for a proposal we still hold drops it.
      if (action === 'session-terminate' && this.#proposals.drop(sid, from)) return true;
      return jingleError('cancel', 'item-not-found', 'unknown-session');
    }
    try {
      switch (action) {
        case 'session-accept':
          if (!(leg instanceof XmppCalleeLeg) || leg.answered) return jingleError('cancel', 'unexpected-request', 'out-of-order');
          this.#accept(leg, jingle);
          return true;
        case 'transport-info':
          leg.remoteTransportInfo(jingle);
          return true;
        case 'session-terminate':
          leg.remoteEnded(jingle.getChild('reason')?.getChildElements().find((c) => c.name !== 'text')?.name);
          return true;
        case 'session-info':
          leg.remoteSessionInfo(jingle);
          return true;
        default:
          return UNSUPPORTED_ACTIONS.has(action) ? stanzaError('cancel', 'feature-not-implemented') : stanzaError('modify', 'bad-request');
      }
    } catch (error) {
      if (error instanceof JingleParseError) return stanzaError('modify', 'bad-request');
      throw error;
    }
  }

  /** A malformed session-accept is refused and ends the call (the callee cannot fix it). */
  #accept(leg: XmppCalleeLeg, jingle: Element): void {
    try {
      leg.remoteAccept(jingle);
    } catch (error) {
      // XEP-0166 section 7.4: the party is told (it sent an answer it thinks is fine), the caller hears a failure.
      setImmediate(() => leg.fail('failed-application', 'media-failed', `malformed session-accept: ${(error as Error).message}`));
      throw error;
    }
  }

  /**
   * session-initiate after our JMI proceed (XEP-0353 section 3.3; JINGLE.md section 1.4 step 3),
   * or a direct one from a client without JMI (StanzaJS, JSXC: JINGLE.md pitfall 14).
   */
  #onInitiate(iq: Element, from: string, sid: string, jingle: Element): Element | true {
    if (this.#legs.has(sid)) return jingleError('cancel', 'unexpected-request', 'out-of-order');
    if (this.#proposals.isRetracted(sid)) return jingleError('cancel', 'item-not-found', 'unknown-session');
    const proposal = this.#proposals.take(sid, from);
    const target = proposal?.target ?? this.#options.targetFor(String(iq.attrs.to ?? ''));
    if (!target) return jingleError('cancel', 'item-not-found', 'unknown-session');
    // RFC 6120 section 8.3.3.6. A proposal was checked when it came.
    if (!proposal && !this.#options.mayReach(bareJid(from), target)) return stanzaError('auth', 'forbidden');
    let offer;
    let sdp: string;
    try {
      offer = jingleImport(jingle, { author: 'initiator' });
      sdp = sdpExport(offer);
    } catch (error) {
      this.#options.logger.info({ err: error, sid }, 'malformed session-initiate');
      return stanzaError('modify', 'bad-request');
    }
    let address: Address;
    try {
      address = parseAddress(`xmpp:${bareJid(from)}`);
    } catch {
      return stanzaError('modify', 'bad-request');
    }
    // The caller was admitted for this target (mayReach, now or at its proposal): a phone or trunk
    // it reaches is the operator's rule's doing, so the SIP dial plan lets it through.
    const identity: PartyIdentity = target.scheme === 'web' ? EXTERNAL_PARTY : { kind: 'routed', by: 'xmpp.inbound' };
    const leg = new XmppCallerLeg({ id: randomUUID(), sid, peer: from, address, offer, identity, port: this.connection.port, logger: this.#options.logger, onReleased: (s) => this.#legs.delete(s) });
    this.#legs.set(sid, leg);
    const media = offer.contents.map((c) => c.kind).sort().join(',');
    // Acknowledge first (XEP-0166 section 6.2), then ring: the result must not wait for the callee.
    setImmediate(() => {
      // JINGLE.md section 3.1: the initiated media must be the proposed media, or it is a security error.
      if (proposal && proposal.media.length > 0 && proposal.media.slice().sort().join(',') !== media) return leg.end('incompatible-media');
      this.#options.calls.place({ id: leg.id, caller: leg, target, sdp }).catch((error: unknown) => {
        const reason = error instanceof CallFailedError ? error.reason : error instanceof GatewayError && error.code === 'shutting-down' ? 'shutdown' : 'failed';
        if (!(error instanceof CallFailedError || error instanceof GatewayError)) this.#options.logger.error({ err: error }, 'inbound XMPP call failed');
        leg.end(reason);
      });
    });
    return true;
  }
}
