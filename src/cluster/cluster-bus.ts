import type { Redis } from 'ioredis';
import { TypedEmitter } from '../events/typed-emitter.js';
import type { Logger } from '../logging/logger.js';
import { BusMessageError, parseEnvelope, type BusMessage, type Envelope } from './bus-messages.js';
import type { ClusterKeys } from './cluster-keys.js';
import type { RedisSubscriber } from './redis-subscriber.js';

export type ClusterBusEvents = {
  message: [message: Envelope];
  listenererror: [event: string, error: unknown];
};

/**
 * Signaling between nodes over Redis pub/sub, one channel per node (`<prefix>bus:<node>`).
 *
 * Why pub/sub and not Streams: a call's signaling is only worth delivering now. Pub/sub adds no
 * storage, trimming or acknowledgements, costs one PUBLISH per message, and keeps order between
 * two nodes (one publishing connection, one subscribing connection, Redis handles commands one at
 * a time). What it does not give, delivery across a lost connection, Streams would give only to
 * replay stale SDP later; instead each call numbers its messages and ends (`node-lost`) when one
 * is missing, and a node whose heartbeat stops has its calls ended everywhere.
 */
export class ClusterBus extends TypedEmitter<ClusterBusEvents> {
  constructor(
    private readonly options: { nodeId: string; keys: ClusterKeys; publisher: Redis; subscriber: RedisSubscriber; logger: Logger },
  ) {
    super();
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  async start(): Promise<void> {
    const { subscriber, keys, nodeId, logger } = this.options;
    await subscriber.subscribe(keys.busChannel(nodeId), (text) => {
      let message: Envelope;
      try {
        message = parseEnvelope(text);
      } catch (error) {
        if (!(error instanceof BusMessageError)) throw error;
        logger.warn({ reason: error.message }, 'bus message dropped');
        return;
      }
      if (message.from === nodeId) return;
      this.safeEmit('message', message);
    });
  }

  /**
   * Publishes to node `to`; resolves with whether a node was listening there (PUBLISH counts the
   * subscribers: 0 means the node is gone or not started). Rejects when Redis cannot be reached.
   */
  async send(to: string, message: BusMessage): Promise<boolean> {
    const { publisher, keys, nodeId } = this.options;
    const receivers = await publisher.publish(keys.busChannel(to), JSON.stringify({ ...message, from: nodeId }));
    return receivers > 0;
  }
}
