import { networkInterfaces } from 'node:os';
import type { Logger } from '../logging/logger.js';
import { CallFailedError } from '../errors/gateway-error.js';
import { announceAddress } from './announced-address.js';
import { MediaInactivityWatch, type InactivityLimits } from './media-inactivity-watch.js';
import { PortAllocator, PortRangeExhaustedError } from './port-allocator.js';
import { RtpEndpoint } from './rtp-endpoint.js';
import { WebRtcEndpoint, type WebRtcIceOptions } from './webrtc-endpoint.js';

export interface MediaEngineOptions {
  /** Address RTP sockets bind to. */
  rtpHost: string;
  /** Address written into SDP and candidates: the public one behind NAT, else a local one. */
  announcedAddress: string | undefined;
  rtpPorts: { min: number; max: number };
  ice: WebRtcIceOptions;
  /** When a silent plain-RTP party counts as gone (media.inactivityTimeoutMs); unset: never. */
  inactivity?: InactivityLimits;
  logger: Logger;
}

/**
 * Makes the anchor's media endpoints and owns what they share: the RTP port
 * range, the ICE settings and the address announced to parties.
 */
export class MediaEngine {
  readonly ports: PortAllocator;
  readonly announcedAddress: string;
  /** One sweep over the plain-RTP streams of every anchored call. */
  readonly inactivity: MediaInactivityWatch;
  readonly #options: MediaEngineOptions;
  #endpointCount = 0;
  #liveWebRtcEndpoints = 0;
  readonly #configuredIceServers: readonly string[];
  readonly #discovered = new Map<string, string[]>();

  constructor(options: MediaEngineOptions) {
    this.#options = { ...options };
    this.#configuredIceServers = [...options.ice.iceServers];
    this.ports = new PortAllocator(options.rtpPorts);
    this.announcedAddress = options.announcedAddress ?? defaultAnnouncedAddress(options.rtpHost);
    this.inactivity = new MediaInactivityWatch(options.inactivity ?? { timeoutMs: 0, holdTimeoutMs: 0 }, {
      onError: (error) => options.logger.error({ err: error }, 'ending a silent call failed'),
    });
  }

  /**
   * A WebRTC endpoint takes one UDP port of the ICE range (rtcp-mux, one
   * component). node-datachannel aborts the whole process when it finds no
   * free port, so a full range refuses the call here instead.
   */
  createWebRtcEndpoint(label: string, ssrc?: number): WebRtcEndpoint {
    const { portRangeBegin, portRangeEnd } = this.#options.ice;
    // With the mux, every endpoint shares the one port: ports are no limit (calls are capped elsewhere).
    const oneEach = !this.#options.ice.udpMux;
    if (oneEach && portRangeBegin !== undefined && portRangeEnd !== undefined && this.#liveWebRtcEndpoints >= portRangeEnd - portRangeBegin + 1) {
      throw new CallFailedError('overloaded', 'the media anchor has no free ICE port (media.icePortMin..icePortMax is full)');
    }
    this.#endpointCount += 1;
    this.#liveWebRtcEndpoints += 1;
    const endpoint = new WebRtcEndpoint({
      name: `${label}-${this.#endpointCount}`,
      ice: this.#options.ice,
      logger: this.#options.logger,
      ...(ssrc === undefined ? {} : { ssrc }),
    });
    endpoint.once('close', () => {
      this.#liveWebRtcEndpoints -= 1;
    });
    return endpoint;
  }

  /** The anchor's own STUN/TURN servers (node-datachannel URL form) that new endpoints use. */
  get iceServers(): readonly string[] {
    return this.#options.ice.iceServers;
  }

  /**
   * Replaces the STUN/TURN servers learned at run time (XEP-0215 from an XMPP server) for
   * endpoints created from now on; configured ones stay first.
   */
  setDiscoveredIceServers(source: string, servers: string[]): void {
    this.#discovered.set(source, servers);
    this.#options.ice = { ...this.#options.ice, iceServers: [...this.#configuredIceServers, ...[...this.#discovered.values()].flat()] };
  }

  /** WebRTC endpoints open now (each holds an ICE port). */
  get webRtcEndpoints(): number {
    return this.#liveWebRtcEndpoints;
  }

  /** A plain RTP endpoint on the next free pair of the RTP range; a full range refuses the call as `overloaded`. */
  async createRtpEndpoint(clockRate = 8000): Promise<RtpEndpoint> {
    try {
      return await RtpEndpoint.create({ host: this.#options.rtpHost, ports: this.ports, logger: this.#options.logger, clockRate });
    } catch (error) {
      if (error instanceof PortRangeExhaustedError) {
        throw new CallFailedError('overloaded', 'the media anchor has no free RTP port pair (media.rtpPortMin..rtpPortMax is full)');
      }
      throw error;
    }
  }

  /** Stops watching for silent parties (every call has ended). */
  close(): void {
    this.inactivity.close();
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
