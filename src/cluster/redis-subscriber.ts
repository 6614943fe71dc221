import type { Logger } from '../logging/logger.js';
import { RedisConnection } from './redis-connection.js';

export type ChannelHandler = (message: string) => void;

/**
 * The one connection of a node in Redis's subscriber mode (a connection that SUBSCRIBEs can do
 * nothing else). Handlers are per channel; ioredis subscribes again by itself after a reconnect.
 * A handler that throws is logged and the others go on.
 */
export class RedisSubscriber {
  readonly connection: RedisConnection;
  readonly #handlers = new Map<string, ChannelHandler>();
  readonly #logger: Logger;

  constructor(options: { url: string; commandTimeoutMs: number; name: string; logger: Logger }) {
    this.#logger = options.logger;
    this.connection = new RedisConnection(options);
    this.connection.redis.on('message', (channel: string, message: string) => {
      const handler = this.#handlers.get(channel);
      if (!handler) return;
      try {
        handler(message);
      } catch (error) {
        this.#logger.error({ err: error, channel }, 'bus message handler failed');
      }
    });
  }

  async subscribe(channel: string, handler: ChannelHandler): Promise<void> {
    if (this.#handlers.has(channel)) throw new Error(`channel ${channel} already has a handler`);
    this.#handlers.set(channel, handler);
    await this.connection.redis.subscribe(channel);
  }

  close(): Promise<void> {
    this.#handlers.clear();
    return this.connection.close();
  }
}
