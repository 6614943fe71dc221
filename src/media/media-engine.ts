import { networkInterfaces } from 'node:os';
import type { Logger } from '../logging/logger.js';
import { announceAddress } from './announced-address.js';
import { PortAllocator } from './port-allocator.js';
import { RtpEndpoint } from './rtp-endpoint.js';
import { WebRtcEndpoint, type WebRtcIceOptions } from './webrtc-endpoint.js';

export interface MediaEngineOptions {
  /** Address RTP sockets bind to. */
  rtpHost: string;
  /** Address written into SDP and candidates: the public one behind NAT, else a local one. */
  announcedAddress: string | undefined;
  rtpPorts: { min: number; max: number };
  ice: WebRtcIceOptions;
  logger: Logger;
}

/**
 * Makes the anchor's media endpoints and owns what they share: the RTP port
 * range, the ICE settings and the address announced to parties.
 */
export class MediaEngine {
  readonly ports: PortAllocator;
  readonly announcedAddress: string;
  readonly #options: MediaEngineOptions;
  #endpointCount = 0;

  constructor(options: MediaEngineOptions) {
    this.#options = options;
    this.ports = new PortAllocator(options.rtpPorts);
    this.announcedAddress = options.announcedAddress ?? defaultAnnouncedAddress(options.rtpHost);
  }

  createWebRtcEndpoint(label: string): WebRtcEndpoint {
    this.#endpointCount += 1;
    return new WebRtcEndpoint({
      name: `${label}-${this.#endpointCount}`,
      ice: this.#options.ice,
      logger: this.#options.logger,
    });
  }

  createRtpEndpoint(clockRate = 8000): Promise<RtpEndpoint> {
    return RtpEndpoint.create({ host: this.#options.rtpHost, ports: this.ports, logger: this.#options.logger, clockRate });
  }

  /** The gateway's WebRTC SDP as parties must see it: with the announced address when one is configured. */
  announce(sdp: string): string {
    const announced = this.#options.announcedAddress;
    return announced ? announceAddress(sdp, announced) : sdp;
  }

}

/** A wildcard bind cannot go into SDP: use the first external IPv4 address, or loopback. */
function defaultAnnouncedAddress(host: string): string {
  if (host !== '0.0.0.0' && host !== '::') return host;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return '127.0.0.1';
}
