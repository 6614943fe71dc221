import { validateConfig, type ConfigInput } from '../../src/config/load-config.js';
import { Gateway } from '../../src/gateway.js';
import { createSilentLogger } from '../../src/logging/logger.js';

export const LOOPBACK_NETWORKS = ['127.0.0.0/8', '::1'];

/**
 * A gateway on loopback with free ports. ICE candidates are limited to
 * loopback so no test traffic leaves the machine's lo interface.
 */
export async function startTestGateway(overrides: ConfigInput = {}): Promise<Gateway> {
  const config = validateConfig({
    ...overrides,
    server: { host: '127.0.0.1', port: 0, ...overrides.server },
    stun: { host: '127.0.0.1', port: 0, ...overrides.stun },
    ice: { candidateNetworks: LOOPBACK_NETWORKS, ...overrides.ice },
    log: { level: 'silent', ...overrides.log },
  });
  const gateway = new Gateway(config, { logger: process.env.SWITCHBOARD_TEST_LOG ? undefined : createSilentLogger() });
  await gateway.start();
  return gateway;
}
