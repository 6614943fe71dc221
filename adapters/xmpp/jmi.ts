import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import type { Address, Logger } from '../../src/index.js';
import { NS_HINTS, NS_JINGLE, NS_JINGLE_RTP, NS_JMI, NS_RECEIPTS } from './jingle/namespaces.js';
import type { XmppStanzaPort } from './jingle-leg.js';

/** A JMI propose we answered with proceed and whose session-initiate we wait for. */
export interface Proposal {
  sid: string;
  /** The caller's full JID: the session-initiate must come from it. */
  peer: string;
  /** Who is rung. */
  target: Address;
  /** `media` of the proposed `<description/>`s (XEP-0353 section 3.1). */
  media: string[];
  timer: NodeJS.Timeout;
}

/** A JMI element (XEP-0353) of a message, with its session id. */
export interface JmiElement {
  name: 'propose' | 'ringing' | 'proceed' | 'reject' | 'retract' | 'accept' | 'finish';
  sid: string;
  element: Element;
}

/** Our JMI messages' ids, `jm-<element>-<sid>` as Conversations names its own: receipts refer to them. */
export function jmiMessageId(name: string, sid: string): string {
  return `jm-${name}-${sid}`;
}

/** The id prefix of our proposes, whose receipts mean ringing. */
export const PROPOSE_ID_PREFIX = jmiMessageId('propose', '');

const JMI_NAMES = new Set(['propose', 'ringing', 'proceed', 'reject', 'retract', 'accept', 'finish']);

/** The JMI payload of a message, if it has one we know. */
export function readJmi(stanza: Element): JmiElement | undefined {
  const element = stanza.getChildElements().find((child) => child.attrs.xmlns === NS_JMI);
  const sid = element?.attrs.id as string | undefined;
  if (!element || !sid || !JMI_NAMES.has(element.name)) return undefined;
  return { name: element.name as JmiElement['name'], sid, element };
}

/** The first condition of a JMI element's `<reason/>` (`busy`, `decline`...). */
export function jmiReason(element: Element): string | undefined {
  return element.getChild('reason')?.getChildElements().find((child) => child.name !== 'text')?.name;
}

/** A proceed the caller does not follow with session-initiate is forgotten after this. */
const PROPOSAL_TTL_MS = 60_000;

/**
 * XEP-0353 Jingle Message Initiation, callee side. On `<propose/>` we answer at once with
 * `<ringing/>` and `<proceed/>` (as cheogram-sip does, JINGLE.md section 3.9): the core needs the
 * caller's SDP offer to ring its target, and that offer only comes in the session-initiate that
 * follows proceed. The target is rung when session-initiate arrives; the caller sees "connecting"
 * until it answers (Monal's 15 s connect window after proceed is a known limit).
 */
export class JmiProposals {
  readonly #proposals = new Map<string, Proposal>();
  /** Session ids whose proposal was retracted: a late session-initiate for one is refused. */
  readonly #retracted = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: { port: XmppStanzaPort; logger: Logger }) {}

  /**
   * A propose from `from` for `target`, or refused with a Jingle reason: `gone` (nobody here),
   * `decline` (this caller may not reach the target), `busy` (the sid is taken).
   */
  onPropose(stanza: Element, jmi: JmiElement, from: string, target: Address | undefined, refusal: 'gone' | 'decline' | 'busy' | undefined): void {
    // XEP-0184 section 5.4: receipts for JMI show Conversations that a device got the propose.
    if (stanza.getChild('request', NS_RECEIPTS) && stanza.attrs.id) this.#send(from, xml('received', { xmlns: NS_RECEIPTS, id: stanza.attrs.id }));
    const why = refusal ?? (!target ? 'gone' : this.#proposals.has(jmi.sid) ? 'busy' : undefined);
    if (why || !target) {
      // XEP-0353 section 3.3.2: decline, with why.
      this.#send(from, xml('reject', { xmlns: NS_JMI, id: jmi.sid }, xml('reason', { xmlns: NS_JINGLE }, xml(why ?? 'gone'))));
      return;
    }
    const media = jmi.element.getChildren('description', NS_JINGLE_RTP).map((d) => String(d.attrs.media ?? ''));
    const timer = setTimeout(() => this.#proposals.delete(jmi.sid), PROPOSAL_TTL_MS);
    timer.unref();
    this.#proposals.set(jmi.sid, { sid: jmi.sid, peer: from, target, media, timer });
    this.options.logger.info({ sid: jmi.sid, from, target: target.uri }, 'jmi propose');
    this.#send(from, xml('ringing', { xmlns: NS_JMI, id: jmi.sid }));
    this.#send(from, xml('proceed', { xmlns: NS_JMI, id: jmi.sid }));
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

  /** XEP-0353 section 3.2: the caller retracted; the session id cannot start a session any more. */
  retract(sid: string, from: string): void {
    if (!this.drop(sid, from) || this.#retracted.has(sid)) return;
    const timer = setTimeout(() => this.#retracted.delete(sid), PROPOSAL_TTL_MS);
    timer.unref();
    this.#retracted.set(sid, timer);
  }

  isRetracted(sid: string): boolean {
    return this.#retracted.has(sid);
  }

  /** A message error from `from`: its proposals are void. */
  dropFrom(from: string): void {
    for (const proposal of [...this.#proposals.values()]) if (proposal.peer === from) this.drop(proposal.sid, from);
  }

  clear(): void {
    for (const proposal of this.#proposals.values()) clearTimeout(proposal.timer);
    this.#proposals.clear();
    for (const timer of this.#retracted.values()) clearTimeout(timer);
    this.#retracted.clear();
  }

  /** JMI messages are type chat with a store hint (XEP-0353 section 4; JINGLE.md section 1.2). */
  #send(to: string, payload: Element): void {
    const message = xml('message', { to, type: 'chat', id: jmiMessageId(payload.name, String(payload.attrs.id ?? '')) }, payload, xml('store', { xmlns: NS_HINTS }));
    this.options.port.send(message).catch((error: unknown) => this.options.logger.warn({ err: error }, 'jmi send failed'));
  }
}
