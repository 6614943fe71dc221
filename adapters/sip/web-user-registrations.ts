import type { GatewayConfig, LoginCredentials, Logger, RegistrationMessage, SipCredentials, WebIdentity } from '../../src/index.js';
import { SipRegistrationPolicy } from './registration-policy.js';
import { SipRegistration } from './sip-registration.js';
import type { SipTransportHub } from './transport/index.js';

/**
 * Web users' SIP accounts (from the login or the config), each registered
 * while its user is online. The latest login session owns the registration,
 * so a stale session's logout is ignored. Accounts a login brings must pass
 * the registration policy (sip.registration.domains); configured ones are the
 * operator's own.
 */
export class WebUserRegistrations {
  readonly #policy: SipRegistrationPolicy;
  readonly #registrations = new Map<string, { sessionId: string; registration: SipRegistration }>();
  /** Unregistrations in flight, which close() waits for before the sockets go. */
  readonly #stopping = new Set<Promise<void>>();

  constructor(
    private readonly options: {
      config: GatewayConfig['sip'];
      /** The hub once SIP is running. */
      hub: () => SipTransportHub | undefined;
      advertisedHost: string;
      logger: Logger;
    },
  ) {
    this.#policy = new SipRegistrationPolicy(options.config.registration.domains);
  }

  /** A web user logged in: register their SIP account (from the login or the config) while they are online. */
  loggedIn(identity: WebIdentity, sessionId: string, credentials: LoginCredentials, report: (message: RegistrationMessage) => void): void {
    const { config } = this.options;
    const { user } = identity;
    const previous = this.#registrations.get(user);
    this.#registrations.delete(user);
    if (previous) this.#stopLater(previous.registration);
    const account = credentials.sip ? this.#admitted(credentials.sip, identity, report) : config.accounts.find((a) => a.user === user);
    const hub = this.options.hub();
    if (!account || !hub) return;
    const bound = hub.addresses();
    const registration = new SipRegistration({
      webUser: user,
      credentials: { aor: account.aor, password: account.password, ...(account.username ? { username: account.username } : {}), ...(account.registrar ? { registrar: account.registrar } : {}) },
      hub,
      advertisedHost: this.options.advertisedHost,
      contactPort: bound.udp?.port ?? bound.tcp?.port,
      expiresSeconds: config.registerExpiresSeconds,
      keepAliveSeconds: config.udp ? config.keepAliveSeconds : 0,
      logger: this.options.logger.child({ user }),
      report,
    });
    this.#registrations.set(user, { sessionId, registration });
    registration.start().catch((error: unknown) => {
      this.options.logger.warn({ err: error, user }, 'SIP registration failed to start');
      report({ type: 'registration', aor: account.aor, state: 'failed', reason: (error as Error).message });
    });
  }

  /** The login's account with the registrar the policy sets, or undefined (reported as failed) when refused. */
  #admitted(credentials: SipCredentials, identity: WebIdentity, report: (message: RegistrationMessage) => void): SipCredentials | undefined {
    const decision = this.#policy.decide(credentials, identity);
    if (decision.allowed) return { ...credentials, registrar: decision.registrar };
    this.options.logger.info({ user: identity.user, aor: credentials.aor, detail: decision.detail }, 'SIP registration refused');
    report({ type: 'registration', aor: credentials.aor, state: 'failed', code: 403, reason: decision.detail });
    return undefined;
  }

  loggedOut(user: string, sessionId: string): void {
    const current = this.#registrations.get(user);
    if (!current || current.sessionId !== sessionId) return;
    this.#registrations.delete(user);
    this.#stopLater(current.registration);
  }

  /** Unregisters every account and waits for all unregistrations in flight. */
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
