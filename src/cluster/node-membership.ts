import type { Redis } from 'ioredis';
import { TypedEmitter } from '../events/typed-emitter.js';
import type { Logger } from '../logging/logger.js';
import type { ClusterKeys } from './cluster-keys.js';
import type { ClusterScripts } from './cluster-scripts.js';
import { REDIS_RECONNECT_MAX_MS, type RedisConnection } from './redis-connection.js';

export interface NodeInfo {
  nodeId: string;
  /** The node's internal address (`cluster.advertise`). */
  advertise: string;
  /** Unix ms of the node's start. */
  started: number;
}

function startedOf(beat: string | undefined): number {
  try {
    const started = (JSON.parse(beat ?? '{}') as { started?: unknown }).started;
    return typeof started === 'number' ? started : 0;
  } catch {
    return 0;
  }
}

export interface NodeMembershipOptions {
  info: NodeInfo;
  keys: ClusterKeys;
  scripts: ClusterScripts;
  connection: RedisConnection;
  heartbeatIntervalMs: number;
  nodeTimeoutMs: number;
  logger: Logger;
}

export type NodeMembershipEvents = {
  /** A node this one knew stopped writing its heartbeat: its calls are over. */
  nodelost: [nodeId: string];
  listenererror: [event: string, error: unknown];
};

/**
 * This node's heartbeat (a key with a TTL of `nodeTimeoutMs`, written every
 * `heartbeatIntervalMs`) and its view of the others. On each beat it also reaps nodes whose
 * heartbeat expired (REAP_LOST: their users leave the directory, announced offline) and reports
 * every node it knew that is gone, so calls through it end within about `nodeTimeoutMs`.
 *
 * Right after its own connection to Redis came back, a node decides nothing for a while: after a
 * Redis restart every heartbeat is gone until each node has reconnected and written its own again.
 */
export class NodeMembership extends TypedEmitter<NodeMembershipEvents> {
  readonly #options: NodeMembershipOptions;
  /** Nodes this one watches, with the start time of the incarnation it knows (0: not seen beating yet). */
  readonly #known = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #graceUntil = 0;
  #beating = false;

  constructor(options: NodeMembershipOptions) {
    super();
    this.#options = options;
  }

  get nodeId(): string {
    return this.#options.info.nodeId;
  }

  /** Nodes seen alive on the last beat (and those this node exchanged calls with since). */
  get knownNodes(): string[] {
    return [...this.#known.keys()];
  }

  start(): void {
    this.#timer = setInterval(() => void this.tick(), this.#options.heartbeatIntervalMs);
    this.#timer.unref();
  }

  /**
   * The connection is back: no node is judged lost until every node had time to reconnect too
   * (their retry delays are at most REDIS_RECONNECT_MAX_MS apart) and beat again.
   */
  reconnected(): void {
    this.#graceUntil = Date.now() + this.#options.nodeTimeoutMs + REDIS_RECONNECT_MAX_MS;
  }

  /** A node this one now has calls with: it is watched from now on, even before the next beat saw it. */
  watch(nodeId: string, started = 0): void {
    if (nodeId === this.nodeId) return;
    const known = this.#known.get(nodeId);
    if (known === undefined || known === 0) this.#known.set(nodeId, started);
  }

  /** Writes the heartbeat. */
  async beat(): Promise<void> {
    const { keys, info, connection, nodeTimeoutMs } = this.#options;
    const redis: Redis = connection.redis;
    await redis.multi().set(keys.node(info.nodeId), JSON.stringify(info), 'PX', nodeTimeoutMs).sadd(keys.nodes, info.nodeId).exec();
  }

  /** One beat: heartbeat, reap, report lost nodes. Skipped while Redis is unreachable. */
  async tick(): Promise<void> {
    const { connection, scripts, logger, info } = this.#options;
    if (!connection.up || this.#beating) return;
    this.#beating = true;
    try {
      await this.beat();
      const [alive, beats, reaped] = (await scripts.reapLost(info.nodeId)) as [string[], string[], string[]];
      if (reaped.length > 0) logger.warn({ nodes: reaped }, 'cluster nodes lost: their users left the directory');
      const live = new Map(alive.map((node, i) => [node, startedOf(beats[i])]));
      if (Date.now() >= this.#graceUntil) {
        for (const [node, started] of [...this.#known]) {
          const now = live.get(node);
          // Gone, or beating again after a restart under the same id: the calls it had are over either way.
          if (now !== undefined && (started === 0 || now === started)) continue;
          this.#known.delete(node);
          logger.warn({ node, restarted: now !== undefined }, 'cluster node lost');
          this.safeEmit('nodelost', node);
        }
      }
      for (const [node, started] of live) this.watch(node, started);
    } catch (error) {
      logger.debug({ err: error }, 'heartbeat failed');
    } finally {
      this.#beating = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
