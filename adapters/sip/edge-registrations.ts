import type { GatewayConfig, Logger, RegistrationMessage, WebIdentity } from '../../src/index.js';
import { SipRegistration } from './sip-registration.js';
import type { SipTransportHub } from './transport/index.js';

export type SipEdgeConfig = NonNullable<GatewayConfig['sip']['edge']>;

/**
 * A cluster behind a SIP edge proxy (Kamailio): while a web user is online on this node, their
 * address at the edge (`sip:<user>@<edge domain>`) is registered with this node's Contact
 * (`sip:<user>@<this node>`), so the edge's location lookup sends their calls here. When the user
 * moves to another node, that node registers its own Contact; the edge config keeps one Contact
 * per address from the nodes (registrar `save` flag 0x04), so the newest login wins at once.
 * No credentials: the edge trusts its nodes by address (its dispatcher list).
 */
export class EdgeRegistrations {
  readonly #registrations = new Map<string, { sessionId: string; registration: SipRegistration }>();
  readonly #stopping = new Set<Promise<void>>();

  constructor(
    private readonly options: {
      edge: SipEdgeConfig;
      hub: () => SipTransportHub | undefined;
      advertisedHost: string;
      logger: Logger;
    },
  ) {}

  loggedIn(identity: WebIdentity, sessionId: string, report: (message: RegistrationMessage) => void): void {
    const { edge } = this.options;
    const { user } = identity;
    const previous = this.#registrations.get(user);
    if (previous) {
      // A new session of a user already here: same Contact, so the registration carries on (an
      // unregistration of the old one would remove the very binding the new one needs).
      previous.sessionId = sessionId;
      return;
    }
    const hub = this.options.hub();
    if (!hub) return;
    const bound = hub.addresses();
    const registration = new SipRegistration({
      webUser: user,
      credentials: { aor: `sip:${user}@${edge.domain}`, password: '', registrar: edge.registrar },
      hub,
      advertisedHost: this.options.advertisedHost,
      contactPort: bound.udp?.port ?? bound.tcp?.port,
      expiresSeconds: edge.expiresSeconds,
      keepAliveSeconds: 0,
      logger: this.options.logger.child({ user, edge: true }),
      report,
    });
    this.#registrations.set(user, { sessionId, registration });
    registration.start().catch((error: unknown) => {
      this.options.logger.warn({ err: error, user }, 'registration at the SIP edge failed to start');
    });
  }

  loggedOut(user: string, sessionId: string): void {
    const current = this.#registrations.get(user);
    if (!current || current.sessionId !== sessionId) return;
    this.#registrations.delete(user);
    this.#stopLater(current.registration);
  }

  async close(): Promise<void> {
    for (const { registration } of this.#registrations.values()) this.#stopLater(registration);
    this.#registrations.clear();
    await Promise.all([...this.#stopping]);
  }

  #stopLater(registration: SipRegistration): void {
    const stopping = registration.stop().finally(() => this.#stopping.delete(stopping));
    this.#stopping.add(stopping);
  }
}
