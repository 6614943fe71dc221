import type { Redis } from 'ioredis';
import { TypedEmitter } from '../events/typed-emitter.js';
import type { Logger } from '../logging/logger.js';
import type { Lease, LeaseEvents } from './lease.js';

/** Renews only a lease this node still holds (a lease that expired and was taken stays taken). */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * A lease in Redis: a key holding the node id, set only if absent (SET NX PX) and renewed while
 * held, so it expires `ttlMs` after its holder stops renewing (killed, cut off). Every node tries
 * to take it each `intervalMs`. A holder that cannot renew for `ttlMs` (Redis gone) gives it up
 * itself, so two nodes never both believe they hold it for long.
 */
export class RedisLease extends TypedEmitter<LeaseEvents> implements Lease {
  #held = false;
  #timer: NodeJS.Timeout | undefined;
  #lastRenewed = 0;
  #busy = false;

  constructor(
    private readonly options: { name: string; key: string; nodeId: string; redis: Redis; ttlMs: number; intervalMs: number; logger: Logger },
  ) {
    super();
  }

  get name(): string {
    return this.options.name;
  }

  get held(): boolean {
    return this.#held;
  }

  async holder(): Promise<string | undefined> {
    return (await this.options.redis.get(this.options.key)) ?? undefined;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.#tick(), this.options.intervalMs);
    this.#timer.unref();
    void this.#tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (!this.#held) return;
    this.#held = false;
    const { redis, key, nodeId } = this.options;
    await redis.eval(RELEASE, 1, key, nodeId).catch(() => undefined);
  }

  async #tick(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    const { redis, key, nodeId, ttlMs, name, logger } = this.options;
    try {
      if (this.#held) {
        const renewed = (await redis.eval(RENEW, 1, key, nodeId, String(ttlMs))) === 1;
        if (renewed) this.#lastRenewed = Date.now();
        else this.#lose('taken by another node');
      } else if ((await redis.set(key, nodeId, 'PX', ttlMs, 'NX')) === 'OK') {
        this.#held = true;
        this.#lastRenewed = Date.now();
        logger.info({ lease: name }, 'lease acquired');
        this.safeEmit('acquired');
      }
    } catch (error) {
      logger.debug({ err: error, lease: name }, 'lease step failed');
      if (this.#held && Date.now() - this.#lastRenewed >= ttlMs) this.#lose('could not be renewed in time');
    } finally {
      this.#busy = false;
    }
  }

  #lose(why: string): void {
    this.#held = false;
    this.options.logger.warn({ lease: this.options.name, why }, 'lease lost');
    this.safeEmit('lost');
  }
}
