/**
 * Who asked to see whose presence (RFC 6121 section 3), kept where it survives a restart. An XMPP
 * component has no roster on its server (XEP-0114), so the gateway itself must remember which
 * contacts subscribed to which of its users, or after a restart it announces its users to nobody
 * and contacts see them offline until they log in again. The adapter keeps the lists in memory
 * and bounds them; a store only persists them.
 */
export interface PresenceSubscription {
  /** The local user whose presence is watched (a local part: `alice`). */
  owner: string;
  /** The bare JID that subscribed. */
  subscriber: string;
}

export interface PresenceSubscriptionStore {
  /** Every kept subscription. Throws when the store cannot be read. */
  load(): Promise<PresenceSubscription[]>;
  /** Keeps one more; resolves once it is kept. */
  add(subscription: PresenceSubscription): Promise<void>;
  remove(subscription: PresenceSubscription): Promise<void>;
}
