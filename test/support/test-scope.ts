import { afterEach } from 'vitest';
import type { ConfigInput } from '../../src/config/load-config.js';
import type { Gateway, GatewayOptions } from '../../src/gateway.js';
import { startTestGateway } from './test-gateway.js';

/**
 * What one test starts (a gateway, peers, clients), stopped after each test:
 * the cleanups last registered first, then the gateway; or the gateway first
 * when its shutdown still needs the peers (unregistering at a registrar).
 */
export class TestScope {
  gateway: Gateway | undefined;
  readonly #cleanups: (() => unknown)[] = [];

  constructor(private readonly order: 'peers-first' | 'gateway-first') {
    afterEach(() => this.#end());
  }

  /** Starts the test's gateway (loopback, free ports: see startTestGateway). */
  async start(overrides: ConfigInput = {}, options: Omit<GatewayOptions, 'logger'> = {}): Promise<Gateway> {
    this.gateway = await startTestGateway(overrides, options);
    return this.gateway;
  }

  /** Runs `cleanup` after the test (last registered, first run). */
  defer(cleanup: () => unknown): void {
    this.#cleanups.push(cleanup);
  }

  /** Registers `resource`'s cleanup and returns it, for one-line setups. */
  track<T>(resource: T, cleanup: (resource: T) => unknown): T {
    this.defer(() => cleanup(resource));
    return resource;
  }

  async #end(): Promise<void> {
    if (this.order === 'gateway-first') await this.#stopGateway();
    for (const cleanup of this.#cleanups.splice(0).reverse()) await cleanup();
    await this.#stopGateway();
  }

  async #stopGateway(): Promise<void> {
    const gateway = this.gateway;
    this.gateway = undefined;
    await gateway?.stop();
  }
}

/** A scope for the tests of one file: declare it at the top level. */
export function testScope(order: 'peers-first' | 'gateway-first' = 'peers-first'): TestScope {
  return new TestScope(order);
}
