import type { Address, CallRegistry, ChatRouter, Logger, PresenceSubscriptionStore, RegistrationMessage } from '../../src/index.js';
import { webAddress } from '../../src/index.js';
import { xmppInboundTarget, type XmppInboundRules } from './inbound-routing.js';
import { unescapeJidLocal } from './jid-escaping.js';
import { XmppAccount } from './xmpp-account.js';
import { XmppComponentConnection } from './xmpp-component-connection.js';

/** Who is online in the whole cluster (the directory), for a component that speaks for every node's users. */
export interface ComponentPresenceSource {
  users(): Promise<string[]>;
  /** Calls `listener` on each change; returns the unsubscribe. */
  subscribe(listener: (user: string, online: boolean) => void): () => void;
}

export interface XmppComponentUsersOptions {
  server: string;
  domain: string;
  password: string;
  inbound: XmppInboundRules;
  mayReach: (from: string, target: Address) => boolean;
  calls: CallRegistry;
  chat: ChatRouter;
  logger: Logger;
  /**
   * In a cluster, the one node holding the component announces every node's users: their
   * presence comes from here, not from logins on this node.
   */
  presence?: ComponentPresenceSource;
  /** Where presence subscriptions survive a restart. */
  subscriptions?: PresenceSubscriptionStore;
  maxSubscriptions: number;
}

/** Identities made for local parts nobody logged in as (`+15551234@…`, callers' typos) are capped. */
const MAX_ON_DEMAND_IDENTITIES = 1_000;

/**
 * Component mode: one XMPP account per JID of the component's domain. A web user's JID
 * (`alice@gateway.example.org`) is available with caps while they are online; any other local
 * part is routed by `xmpp.inbound` on its XEP-0106-unescaped form when a stanza arrives for it.
 */
export class XmppComponentUsers {
  readonly #options: XmppComponentUsersOptions;
  readonly #connection: XmppComponentConnection;
  readonly #accounts = new Map<string, XmppAccount>();
  /** Online web users and their current session. */
  readonly #online = new Map<string, string>();
  #unsubscribe: (() => void) | undefined;

  constructor(options: XmppComponentUsersOptions) {
    this.#options = options;
    this.#connection = new XmppComponentConnection({
      server: options.server,
      domain: options.domain,
      password: options.password,
      logger: options.logger,
      ...(options.subscriptions ? { subscriptions: options.subscriptions } : {}),
      maxSubscriptions: options.maxSubscriptions,
      availableTo: (local, subscriber) => {
        // A phone, trunk or service the rules reach (not a web user: their presence is their login).
        const target = xmppInboundTarget(unescapeJidLocal(local), '\u0000', options.inbound);
        return target !== undefined && target.scheme !== 'web' && options.mayReach(subscriber, target);
      },
      identityFor: (local) => {
        if (this.#accounts.size >= MAX_ON_DEMAND_IDENTITIES) return undefined;
        this.#account(local);
        return this.#connection.identity(local);
      },
    });
  }

  get connection(): XmppComponentConnection {
    return this.#connection;
  }

  async start(): Promise<boolean> {
    const { presence } = this.#options;
    if (presence) {
      this.#unsubscribe = presence.subscribe((user, online) => this.#connection.setAvailable(user, online));
      for (const user of await presence.users()) this.#connection.setAvailable(user, true);
    }
    return this.#connection.start();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    for (const account of this.#accounts.values()) account.stop();
    this.#accounts.clear();
    await this.#connection.stop();
  }

  /** The account a web user calls and chats from. */
  accountFor(user: string): XmppAccount {
    return this.#account(user);
  }

  loggedIn(user: string, sessionId: string, report: (message: RegistrationMessage) => void): void {
    this.#online.set(user, sessionId);
    if (!this.#options.presence) this.#connection.setAvailable(user, true);
    this.#account(user);
    const aor = `xmpp:${user}@${this.#options.domain}`;
    if (this.#connection.online) return report({ type: 'registration', aor, state: 'registered' });
    report({ type: 'registration', aor, state: 'registering' });
    this.#connection.once('online', () => {
      if (this.#online.get(user) === sessionId) report({ type: 'registration', aor, state: 'registered' });
    });
  }

  /** The user's session ended; ignored when it is not their current one (they logged in again elsewhere). */
  loggedOut(user: string, sessionId: string): void {
    if (this.#online.get(user) !== sessionId) return;
    this.#online.delete(user);
    if (!this.#options.presence) this.#connection.setAvailable(user, false);
  }

  #account(local: string): XmppAccount {
    let account = this.#accounts.get(local);
    if (!account) {
      const { inbound, mayReach, calls, chat, logger } = this.#options;
      // Web users by name; other local parts through the rules (a name that is no web user stays undefined).
      const target = xmppInboundTarget(unescapeJidLocal(local), '\u0000', inbound) ?? webAddressOrUndefined(local);
      account = new XmppAccount({ connection: this.#connection.identity(local), calls, chat, logger, targetFor: () => target, mayReach });
      this.#accounts.set(local, account);
    }
    return account;
  }
}

function webAddressOrUndefined(local: string): Address | undefined {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(local) ? webAddress(local) : undefined;
}
