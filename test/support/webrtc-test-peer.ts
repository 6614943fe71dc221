import type { Codec } from '../../src/media/codecs.js';
import { createSilentLogger } from '../../src/logging/logger.js';
import { WebRtcEndpoint } from '../../src/media/webrtc-endpoint.js';

export const PCMU: Codec = { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 };
export const TELEPHONE_EVENT_8K: Codec = { name: 'telephone-event', clockRate: 8000, channels: 1, payloadType: 101 };

/**
 * A WebRTC party made with the gateway's own node-datachannel endpoint, ICE
 * on loopback only: a browser stand-in where a test needs real ICE/DTLS but no
 * page. `cleanup` receives its close so the test's afterEach ends it.
 */
export function makeWebRtcTestPeer(name: string, cleanup: (close: () => void) => void): WebRtcEndpoint {
  const endpoint = new WebRtcEndpoint({
    name,
    ice: { bindAddress: '127.0.0.1', iceServers: [], gatherTimeoutMs: 2000 },
    logger: createSilentLogger(),
  });
  cleanup(() => endpoint.close());
  return endpoint;
}
