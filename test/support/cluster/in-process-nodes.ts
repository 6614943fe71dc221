import type { ConfigInput } from '../../../src/config/load-config.js';
import type { Gateway } from '../../../src/gateway.js';
import type { TestRedis } from '../redis.js';
import { startTestGateway } from '../test-gateway.js';

let prefixes = 0;

/** Fast failure detection for tests: a beat every 200 ms, a node lost after 1 s of silence. */
export const FAST_CLUSTER = { heartbeatIntervalMs: 200, nodeTimeoutMs: 1000, requestTimeoutMs: 2000 };

/**
 * `count` gateway nodes in this process on one Redis (node-a, node-b...), under a key prefix of
 * their own so tests sharing a Redis do not see each other. `stop()` on each is the caller's.
 */
export async function startInProcessNodes(
  redis: TestRedis,
  count: number,
  overrides: ConfigInput = {},
  /** Configuration of node `index` on top of `overrides` (its SIP port...). */
  perNode: (index: number) => ConfigInput = () => ({}),
): Promise<Gateway[]> {
  const keyPrefix = `t${process.pid}-${++prefixes}:`;
  const nodes: Gateway[] = [];
  for (let i = 0; i < count; i++) {
    const own: ConfigInput = perNode(i) ?? {};
    nodes.push(
      await startTestGateway({
        ...overrides,
        ...own,
        sip: { ...overrides?.sip, ...own?.sip },
        directory: { kind: 'redis', redis: { url: redis.url, keyPrefix } },
        cluster: { nodeId: `node-${String.fromCharCode(97 + i)}`, ...FAST_CLUSTER, ...overrides.cluster },
      }),
    );
  }
  return nodes;
}
