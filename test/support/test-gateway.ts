import { validateConfig, type ConfigInput } from '../../src/config/load-config.js';
import { Gateway, type GatewayOptions } from '../../src/gateway.js';
import { createSilentLogger } from '../../src/logging/logger.js';

export const LOOPBACK_NETWORKS = ['127.0.0.0/8', '::1'];

/**
 * Tests call SIP peers they start on loopback: their dial plan lets everyone (guests, and SIP
 * parties' REFERs from loopback) reach `sip:` URIs on 127.0.0.1. Tests of the dial plan set their own.
 */
export const LOOPBACK_SIP_DIAL_PLAN = [
  { match: '^sips?:([^@]+@)?127\\.0\\.0\\.1(:\\d+)?$', guests: true, sources: ['127.0.0.0/8'] },
];

/** The media anchor's RTP and ICE on loopback only (tests never touch other interfaces). */
export const ANCHOR_ON_LOOPBACK = {
  media: { rtpHost: '127.0.0.1', iceBindAddress: '127.0.0.1' },
} satisfies ConfigInput;

/**
 * A gateway on loopback with free ports. ICE candidates are limited to
 * loopback so no test traffic leaves the machine's lo interface.
 */
export async function startTestGateway(overrides: ConfigInput = {}, options: GatewayOptions = {}): Promise<Gateway> {
  const config = validateConfig({
    ...overrides,
    server: { host: '127.0.0.1', port: 0, ...overrides.server },
    stun: { host: '127.0.0.1', port: 0, ...overrides.stun },
    ice: { candidateNetworks: LOOPBACK_NETWORKS, ...overrides.ice },
    media: { rtpHost: '127.0.0.1', iceBindAddress: '127.0.0.1', ...overrides.media },
    // SIP only where a test asks for it (it would take UDP/TCP 5060 and the tel: scheme otherwise).
    sip: {
      enabled: false,
      host: '127.0.0.1',
      port: 0,
      advertisedHost: '127.0.0.1',
      ...overrides.sip,
      outbound: { dialPlan: LOOPBACK_SIP_DIAL_PLAN, ...overrides.sip?.outbound },
    },
    // SWITCHBOARD_TEST_LOG=debug shows the gateway's log while debugging a test.
    log: { level: (process.env.SWITCHBOARD_TEST_LOG as 'debug' | undefined) || 'silent', ...overrides.log },
  });
  // A test that reads the log passes its own logger.
  const gateway = new Gateway(config, { ...options, logger: options.logger ?? (process.env.SWITCHBOARD_TEST_LOG ? undefined : createSilentLogger()) });
  await gateway.start();
  return gateway;
}
