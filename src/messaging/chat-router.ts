import type { Address, AddressScheme } from '../calls/address.js';
import { CallFailedError, GatewayError } from '../errors/gateway-error.js';
import type { PartyIdentity } from '../policy/party-identity.js';
import type { ErrorCode } from '../protocol/messages.js';

/** One one-to-one chat message between two addresses (a web user and an XMPP contact, two web users). */
export interface ChatMessage {
  /** The gateway's id for this message (XMPP `id`, the browser's `messageId`). */
  id: string;
  from: Address;
  /** Who sent it, for the destination's policy (a guest may not message everywhere a token user may). */
  sender: PartyIdentity;
  to: Address;
  body: string;
  /**
   * Called when the message was accepted for delivery but bounced later (an XMPP `type='error'`
   * reply to it). Senders that cannot be told later (an XMPP contact whose message was
   * delivered to the web) leave it out.
   */
  undeliverable?: (code: ErrorCode, text: string) => void;
}

/**
 * Takes chat messages for one kind of address. `deliver` resolves when the message was handed
 * on (written to the browser's socket, sent to the XMPP server) and rejects with a GatewayError
 * (`offline`, `not-found`, `forbidden`...) when it cannot be.
 */
export interface ChatDelivery {
  deliver(message: ChatMessage): Promise<void>;
}

/** Picks the chat delivery for a destination by its scheme, as the call Router does for legs. */
export class ChatRouter {
  readonly #deliveries = new Map<AddressScheme, ChatDelivery>();

  register(schemes: AddressScheme[], delivery: ChatDelivery): void {
    for (const scheme of schemes) {
      if (this.#deliveries.has(scheme)) throw new TypeError(`scheme "${scheme}" already has a chat delivery`);
      this.#deliveries.set(scheme, delivery);
    }
  }

  async deliver(message: ChatMessage): Promise<void> {
    const delivery = this.#deliveries.get(message.to.scheme);
    if (!delivery) throw new GatewayError('not-found', `${message.to.scheme}: addresses cannot take chat messages`);
    try {
      await delivery.deliver(message);
    } catch (error) {
      if (error instanceof CallFailedError) throw new GatewayError(error.reason === 'offline' ? 'offline' : 'not-found', error.message);
      throw error;
    }
  }
}
