import { CallFailedError } from '../errors/gateway-error.js';
import type { PartyIdentity } from '../policy/party-identity.js';
import type { Address, AddressScheme } from './address.js';
import type { Leg } from './leg.js';

export interface OutboundLegRequest {
  callId: string;
  target: Address;
  from: Address;
  /** Who is calling, for the dial plan. */
  caller: PartyIdentity;
  /** Parties whose transfer this call follows: the call needs their permission too. */
  onBehalfOf: readonly PartyIdentity[];
}

/**
 * Creates the leg that reaches a target address. Each handler (web users,
 * services, the SIP and XMPP adapters) registers one for its schemes.
 * `createLeg` rejects with CallFailedError('not-found' | 'offline' | 'forbidden')
 * when the target cannot be a party at all.
 */
export interface LegFactory {
  createLeg(request: OutboundLegRequest): Promise<Leg>;
}

/** Picks the leg factory for an address by its scheme. */
export class Router {
  readonly #factories = new Map<AddressScheme, LegFactory>();

  register(schemes: AddressScheme[], factory: LegFactory): void {
    for (const scheme of schemes) {
      if (this.#factories.has(scheme)) throw new TypeError(`scheme "${scheme}" already has a handler`);
      this.#factories.set(scheme, factory);
    }
  }

  async createLeg(request: OutboundLegRequest): Promise<Leg> {
    const factory = this.#factories.get(request.target.scheme);
    if (!factory) {
      throw new CallFailedError('not-found', `no handler for ${request.target.scheme}: addresses on this gateway`);
    }
    return factory.createLeg(request);
  }

  get schemes(): AddressScheme[] {
    return [...this.#factories.keys()];
  }
}
