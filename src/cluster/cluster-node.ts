import type { GatewayConfig } from '../config/config-schema.js';
import type { Logger } from '../logging/logger.js';
import { ClusterBus } from './cluster-bus.js';
import { ClusterKeys } from './cluster-keys.js';
import { ClusterScripts } from './cluster-scripts.js';
import { CrossNodeParties, type PartyHost } from './cross-node-parties.js';
import { NodeMembership } from './node-membership.js';
import { RedisConnection } from './redis-connection.js';
import { RedisDirectory } from './redis-directory.js';
import { RedisLease } from './redis-lease.js';
import { RedisSubscriptionStore } from './redis-subscription-store.js';
import type { PresenceSubscriptionStore } from '../directory/presence-subscriptions.js';
import type { Lease } from './lease.js';
import { RedisSubscriber } from './redis-subscriber.js';

export interface ClusterNodeOptions {
  directory: GatewayConfig['directory'];
  cluster: GatewayConfig['cluster'];
  nodeId: string;
  /** The node's internal address in its heartbeat. */
  advertise: string;
  host: PartyHost;
  logger: Logger;
}

/**
 * This process as a node of a cluster on Redis: two connections (commands and publishes; the
 * subscriber), the directory, the heartbeat and the bus. When the command connection comes back
 * after a loss, the node writes its heartbeat and its users again before anything else.
 */
export class ClusterNode {
  readonly directory: RedisDirectory;
  readonly membership: NodeMembership;
  readonly bus: ClusterBus;
  readonly parties: CrossNodeParties;
  readonly keys: ClusterKeys;
  readonly commands: RedisConnection;
  readonly #subscriber: RedisSubscriber;
  readonly #options: ClusterNodeOptions;
  #stopped = false;

  constructor(options: ClusterNodeOptions) {
    this.#options = options;
    const { directory, cluster, nodeId, logger } = options;
    const { url, keyPrefix, commandTimeoutMs } = directory.redis;
    this.keys = new ClusterKeys(keyPrefix);
    this.commands = new RedisConnection({ url, commandTimeoutMs, name: `switchboard:${nodeId}:commands`, logger });
    this.#subscriber = new RedisSubscriber({ url, commandTimeoutMs, name: `switchboard:${nodeId}:bus`, logger });
    const scripts = new ClusterScripts(this.commands.redis, keyPrefix);
    this.directory = new RedisDirectory({ nodeId, keys: this.keys, scripts, redis: this.commands.redis, subscriber: this.#subscriber, logger });
    this.membership = new NodeMembership({
      info: { nodeId, advertise: options.advertise, started: Date.now() },
      keys: this.keys,
      scripts,
      connection: this.commands,
      heartbeatIntervalMs: cluster.heartbeatIntervalMs,
      nodeTimeoutMs: cluster.nodeTimeoutMs,
      logger,
    });
    this.bus = new ClusterBus({ nodeId, keys: this.keys, publisher: this.commands.redis, subscriber: this.#subscriber, logger });
    this.parties = new CrossNodeParties({ bus: this.bus, membership: this.membership, host: options.host, requestTimeoutMs: cluster.requestTimeoutMs, logger });
    this.commands.on('ready', (again) => void this.#rejoin(again));
  }

  get nodeId(): string {
    return this.#options.nodeId;
  }

  /** The XMPP component `domain`'s presence subscriptions, kept in Redis for whichever node holds the component. */
  subscriptionStore(domain: string): PresenceSubscriptionStore {
    return new RedisSubscriptionStore(this.commands.redis, this.keys.xmppSubscribers(domain));
  }

  /** A lease only one node holds at a time; it expires `nodeTimeoutMs` after its holder stops renewing. */
  lease(name: string): Lease {
    const { cluster, nodeId, logger } = this.#options;
    return new RedisLease({ name, key: this.keys.lease(name), nodeId, redis: this.commands.redis, ttlMs: cluster.nodeTimeoutMs, intervalMs: cluster.heartbeatIntervalMs, logger });
  }

  /** Whether the node can reach Redis right now. */
  get connected(): boolean {
    return this.commands.up;
  }

  /**
   * Connects and joins. A Redis that is down does not stop the start: the node serves its own
   * users' calls meanwhile (logins wait for the directory) and joins once Redis answers.
   */
  async start(): Promise<void> {
    const { logger, directory } = this.#options;
    const wait = Math.max(2000, directory.redis.commandTimeoutMs);
    const connected = await Promise.allSettled([this.commands.connect(wait), this.#subscriber.connection.connect(wait)]);
    if (connected.some((result) => result.status === 'rejected')) {
      logger.warn({ url: redactUrl(directory.redis.url) }, 'redis is not reachable yet; the node joins the cluster once it is');
    }
    const subscribed = await Promise.allSettled([this.directory.start(), this.bus.start()]);
    for (const result of subscribed) if (result.status === 'rejected') logger.warn({ err: result.reason }, 'bus subscription pending');
    this.membership.start();
    logger.info({ nodeId: this.nodeId, url: redactUrl(directory.redis.url) }, 'cluster node started');
  }

  /** Leaves the cluster: calls hosted here end with `shutdown` at their owners, users go offline, connections close. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.membership.stop();
    this.parties.close();
    if (this.commands.up) await this.directory.leave().catch((error: unknown) => this.#options.logger.warn({ err: error }, 'leaving the directory failed'));
    await this.directory.close();
    await Promise.all([this.commands.close(), this.#subscriber.close()]);
  }

  async #rejoin(again: boolean): Promise<void> {
    if (this.#stopped) return;
    if (again) this.membership.reconnected();
    try {
      await this.membership.beat();
      await this.directory.resync();
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'rejoining the cluster failed; retried on the next reconnect');
    }
  }
}

/** The Redis URL without its password, for logs. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
