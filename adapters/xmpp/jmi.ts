import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import type { Logger } from '../../src/index.js';
import { NS_HINTS, NS_JINGLE, NS_JINGLE_RTP, NS_JMI, NS_RECEIPTS } from './jingle/namespaces.js';
import type { XmppLeg, XmppStanzaPort } from './xmpp-leg.js';

/** A JMI propose we answered with proceed and whose session-initiate we wait for. */
export interface Proposal {
  sid: string;
  /** The caller's full JID: the session-initiate must come from it. */
  peer: string;
  /** The web user rung: the resource the propose was addressed to. */
  user: string;
  /** `media` of the proposed `<description/>`s (XEP-0353 section 3.1). */
  media: string[];
  timer: NodeJS.Timeout;
}

export interface JmiHandlerOptions {
  port: XmppStanzaPort;
  /** The service account's bare JID. */
  serviceJid: string;
  logger: Logger;
  legFor: (sid: string) => XmppLeg | undefined;
}

/** A proceed the caller does not follow with session-initiate is forgotten after this. */
const PROPOSAL_TTL_MS = 60_000;

/**
 * XEP-0353 Jingle Message Initiation, callee side. On `<propose/>` we answer at once with
 * `<ringing/>` and `<proceed/>` (as cheogram-sip does, JINGLE.md section 3.9): the core needs the
 * caller's SDP offer to ring the web user, and that offer only comes in the session-initiate that
 * follows proceed. The web user is rung when session-initiate arrives; the caller sees "connecting"
 * until the web user answers (Monal's 15 s connect window after proceed is a known limit).
 */
export class JmiHandler {
  readonly #proposals = new Map<string, Proposal>();

  constructor(private readonly options: JmiHandlerOptions) {}

  onMessage(stanza: Element): void {
    const from = String(stanza.attrs.from ?? '');
    if (!from || bare(from) === this.options.serviceJid) return; // our own carbons / other devices
    if (stanza.attrs.type === 'error') {
      for (const proposal of this.#proposals.values()) if (proposal.peer === from) this.drop(proposal.sid, from);
      return;
    }
    const jmi = stanza.getChildElements().find((child) => child.attrs.xmlns === NS_JMI);
    const sid = jmi?.attrs.id as string | undefined;
    if (!jmi || !sid) return;
    switch (jmi.name) {
      case 'propose':
        this.#onPropose(stanza, jmi, from, sid);
        break;
      case 'retract': // XEP-0353 section 3.2: the caller gave up before the session started
        this.drop(sid, from);
        this.#legFrom(sid, from)?.remoteEnded('cancel');
        break;
      case 'finish': // XEP-0353 section 3.6
        this.#legFrom(sid, from)?.remoteEnded(firstCondition(jmi) ?? 'success');
        break;
      default:
        break; // ringing/proceed/reject/accept are for calls we place (not implemented yet)
    }
  }

  /** The proposal for `sid` from `from`, removed: its session-initiate arrived. */
  take(sid: string, from: string): Proposal | undefined {
    const proposal = this.#proposals.get(sid);
    if (!proposal || proposal.peer !== from) return undefined;
    clearTimeout(proposal.timer);
    this.#proposals.delete(sid);
    return proposal;
  }

  drop(sid: string, from: string): boolean {
    return this.take(sid, from) !== undefined;
  }

  #onPropose(stanza: Element, propose: Element, from: string, sid: string): void {
    const to = String(stanza.attrs.to ?? '');
    const slash = to.indexOf('/');
    const user = slash < 0 ? '' : to.slice(slash + 1);
    // XEP-0184 section 5.4: receipts for JMI show Conversations that a device got the propose.
    const request = stanza.getChild('request', NS_RECEIPTS);
    if (request && stanza.attrs.id) this.#send(from, xml('received', { xmlns: NS_RECEIPTS, id: stanza.attrs.id }));
    if (!user || this.#proposals.has(sid) || this.options.legFor(sid)) {
      // A propose to the bare service JID names no web user: decline (XEP-0353 section 3.3.2).
      this.#send(from, xml('reject', { xmlns: NS_JMI, id: sid }, xml('reason', { xmlns: NS_JINGLE }, xml(user ? 'busy' : 'gone'))));
      return;
    }
    const media = propose.getChildren('description', NS_JINGLE_RTP).map((d) => String(d.attrs.media ?? ''));
    const timer = setTimeout(() => this.#proposals.delete(sid), PROPOSAL_TTL_MS);
    timer.unref();
    this.#proposals.set(sid, { sid, peer: from, user, media, timer });
    this.options.logger.info({ sid, from, user }, 'jmi propose');
    this.#send(from, xml('ringing', { xmlns: NS_JMI, id: sid }));
    this.#send(from, xml('proceed', { xmlns: NS_JMI, id: sid }));
  }

  #legFrom(sid: string, from: string): XmppLeg | undefined {
    const leg = this.options.legFor(sid);
    return leg && leg.peer === from ? leg : undefined;
  }

  /** JMI messages are type chat with a store hint (XEP-0353 section 4; JINGLE.md section 1.2). */
  #send(to: string, payload: Element): void {
    const message = xml('message', { to, type: 'chat', id: `jm-${payload.name}-${String(payload.attrs.id ?? '')}` }, payload, xml('store', { xmlns: NS_HINTS }));
    this.options.port.send(message).catch((error: unknown) => this.options.logger.warn({ err: error }, 'jmi send failed'));
  }
}

function bare(jid: string): string {
  const slash = jid.indexOf('/');
  return slash < 0 ? jid : jid.slice(0, slash);
}

function firstCondition(el: Element): string | undefined {
  return el.getChild('reason')?.getChildElements().find((child) => child.name !== 'text')?.name;
}
