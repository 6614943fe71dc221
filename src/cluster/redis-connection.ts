import { Redis, type RedisOptions } from 'ioredis';
import { TypedEmitter } from '../events/typed-emitter.js';
import type { Logger } from '../logging/logger.js';

export interface RedisConnectionOptions {
  url: string;
  /** A command without a reply after this fails; the connection keeps reconnecting. */
  commandTimeoutMs: number;
  /** CLIENT SETNAME, so `CLIENT LIST` on Redis shows which node holds which connection. */
  name: string;
  logger: Logger;
}

export type RedisConnectionEvents = {
  /** Connected (again) and ready for commands; `again` after a loss. */
  ready: [again: boolean];
  /** The connection was lost; ioredis reconnects on its own. */
  lost: [];
  listenererror: [event: string, error: unknown];
};

/** The longest wait between two attempts to reach Redis again. */
export const REDIS_RECONNECT_MAX_MS = 2000;

/** Reconnect delays: 50 ms doubling to 2 s, with jitter so a cluster does not reconnect in step. */
export function redisRetryDelay(attempt: number): number {
  const base = Math.min(REDIS_RECONNECT_MAX_MS, 50 * 2 ** Math.min(attempt, 6));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/**
 * One ioredis connection with the settings every cluster part wants: reconnect for ever with
 * backoff and jitter; an offline queue, so a command issued during a short loss runs once the
 * connection is back; `commandTimeout`, so nothing waits longer than that for a Redis that is
 * gone (the caller gets an error and can say so). `ready` and `lost` are reported once per
 * change, which is what the directory's resync and the membership's grace period key off.
 */
export class RedisConnection extends TypedEmitter<RedisConnectionEvents> {
  readonly redis: Redis;
  #everReady = false;
  #up = false;
  #closing = false;

  constructor(options: RedisConnectionOptions, extra: Partial<RedisOptions> = {}) {
    super();
    const { logger } = options;
    this.redis = new Redis(options.url, {
      connectionName: options.name,
      commandTimeout: options.commandTimeoutMs,
      // null: queued commands wait for the connection (bounded by commandTimeout), not for a retry count.
      maxRetriesPerRequest: null,
      retryStrategy: (attempt) => (this.#closing ? null : redisRetryDelay(attempt)),
      connectTimeout: Math.max(1000, options.commandTimeoutMs),
      enableOfflineQueue: true,
      lazyConnect: true,
      ...extra,
    });
    this.redis.on('ready', () => {
      const again = this.#everReady;
      this.#everReady = true;
      this.#up = true;
      if (again) logger.info({ connection: options.name }, 'redis connection back');
      this.safeEmit('ready', again);
    });
    this.redis.on('close', () => {
      if (!this.#up) return;
      this.#up = false;
      if (!this.#closing) logger.warn({ connection: options.name }, 'redis connection lost; reconnecting');
      this.safeEmit('lost');
    });
    // ioredis reports every failed reconnect as an error; the state changes above are what matter.
    this.redis.on('error', (error: Error) => logger.debug({ err: error, connection: options.name }, 'redis error'));
  }

  /** Whether the connection is ready for commands right now. */
  get up(): boolean {
    return this.#up;
  }

  /** Connects; resolves once ready, or rejects after `timeoutMs` (the connection keeps trying). */
  async connect(timeoutMs: number): Promise<void> {
    this.redis.connect().catch(() => {});
    if (this.#up) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('ready', onReady);
        reject(new Error(`redis did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once('ready', onReady);
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    const wasUp = this.#up;
    this.#up = false;
    // QUIT lets commands already written finish; without a connection there is nothing to wait for.
    if (wasUp) await this.redis.quit().catch(() => undefined);
    this.redis.disconnect();
  }
}
