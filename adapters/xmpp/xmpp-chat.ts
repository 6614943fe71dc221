import { randomUUID } from 'node:crypto';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { EXTERNAL_PARTY, GatewayError, parseAddress, type Address, type ChatMessage, type ChatRouter, type PartyIdentity } from '../../src/index.js';
import { bareJid } from './jid.js';
import type { XmppStanzaPort } from './jingle-leg.js';
import { stanzaError, type StanzaErrorCondition, type StanzaErrorType } from './stanza-errors.js';

export interface XmppChatOptions {
  port: XmppStanzaPort;
  chat: ChatRouter;
  targetFor: (to: string) => Address | undefined;
  mayReach: (from: string, target: Address) => boolean;
}

/** How long an outbound chat message's id is kept to match a bounce to it. */
const SENT_MESSAGE_TTL_MS = 60_000;

/**
 * One-to-one chat on one XMPP identity (RFC 6121 section 5): `type='chat'` messages out for web
 * users, messages in delivered to the target web user, bounces both ways (RFC 6120 section 8.3).
 */
export class XmppChat {
  readonly #sent = new Map<string, { message: ChatMessage; timer: NodeJS.Timeout }>();

  constructor(private readonly options: XmppChatOptions) {}

  /** Sends `message`; a later bounce is reported to the sender through `message.undeliverable`. */
  async send(message: ChatMessage): Promise<void> {
    const { to } = message;
    const jid = `${to.user}@${to.host}${to.resource ? `/${to.resource}` : ''}`;
    try {
      await this.options.port.send(xml('message', { to: jid, type: 'chat', id: message.id }, xml('body', {}, message.body)));
    } catch (error) {
      if (error instanceof GatewayError && error.code === 'bad-message') throw error;
      throw new GatewayError('undeliverable', 'the XMPP connection is down');
    }
    const timer = setTimeout(() => this.#sent.delete(message.id), SENT_MESSAGE_TTL_MS);
    timer.unref();
    this.#sent.set(message.id, { message, timer });
  }

  /** A bounce of one of our messages: reported to its sender. False when the id is not ours. */
  bounced(stanza: Element): boolean {
    const id = String(stanza.attrs.id ?? '');
    const sent = this.#sent.get(id);
    if (!sent) return false;
    clearTimeout(sent.timer);
    this.#sent.delete(id);
    const condition = stanza.getChild('error')?.getChildElements()[0]?.name ?? 'undefined-condition';
    sent.message.undeliverable?.('undeliverable', `${sent.message.to.uri} did not take the message (${condition})`);
    return true;
  }

  /** A message with a body for one of our JIDs: to its web user, or an error stanza back. */
  received(stanza: Element, from: string, body: string): void {
    const target = this.options.targetFor(String(stanza.attrs.to ?? ''));
    const reply = (condition: StanzaErrorCondition, type: StanzaErrorType) =>
      this.options.port.send(xml('message', { to: from, type: 'error', ...(stanza.attrs.id ? { id: stanza.attrs.id } : {}) }, stanzaError(type, condition))).catch(() => {});
    if (!target) return void reply('service-unavailable', 'cancel');
    if (!this.options.mayReach(bareJid(from), target)) return void reply('forbidden', 'auth');
    let sender: Address;
    try {
      sender = parseAddress(`xmpp:${bareJid(from)}`);
    } catch {
      return void reply('not-acceptable', 'cancel');
    }
    // As for calls (xmpp-account.ts): a phone the contact was admitted to write to is the operator's rule's doing.
    const identity: PartyIdentity = target.scheme === 'web' ? EXTERNAL_PARTY : { kind: 'routed', by: 'xmpp.inbound' };
    // A destination that answers later (a SIP MESSAGE's final response) bounces the message back to the contact.
    const undeliverable = () => void reply('service-unavailable', 'cancel');
    this.options.chat.deliver({ id: String(stanza.attrs.id ?? randomUUID()), from: sender, sender: identity, to: target, body, undeliverable }).catch((error: unknown) => {
      // RFC 6120 section 8.3.3.13: the web user is not online now; try later.
      const offline = error instanceof GatewayError && error.code === 'offline';
      reply(offline ? 'recipient-unavailable' : 'service-unavailable', offline ? 'wait' : 'cancel');
    });
  }

  stop(): void {
    for (const { timer } of this.#sent.values()) clearTimeout(timer);
    this.#sent.clear();
  }
}
