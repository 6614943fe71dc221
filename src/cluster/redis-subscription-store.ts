import type { Redis } from 'ioredis';
import type { PresenceSubscription, PresenceSubscriptionStore } from '../directory/presence-subscriptions.js';

/**
 * Subscriptions in one Redis set (`<p>xmpp-subscribers:<domain>`, members `[owner, subscriber]`
 * as JSON), for a cluster whose directory is on Redis: whichever node holds the XMPP component
 * next reads the lists the previous holder kept. Only the holder writes.
 */
export class RedisSubscriptionStore implements PresenceSubscriptionStore {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  async load(): Promise<PresenceSubscription[]> {
    const members = await this.redis.smembers(this.key);
    const loaded: PresenceSubscription[] = [];
    for (const member of members) {
      const pair = parseMember(member);
      if (pair) loaded.push(pair);
    }
    return loaded;
  }

  async add(subscription: PresenceSubscription): Promise<void> {
    await this.redis.sadd(this.key, member(subscription));
  }

  async remove(subscription: PresenceSubscription): Promise<void> {
    await this.redis.srem(this.key, member(subscription));
  }
}

function member({ owner, subscriber }: PresenceSubscription): string {
  return JSON.stringify([owner, subscriber]);
}

function parseMember(text: string): PresenceSubscription | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') return { owner: value[0], subscriber: value[1] };
  } catch {
    // not ours: skipped
  }
  return undefined;
}
