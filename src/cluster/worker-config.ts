import type { GatewayConfig } from '../config/config-schema.js';

/** An inclusive port range cut into `count` equal slices; slice `index`. Even-sized, so RTP/RTCP pairs stay whole. */
export function portSlice(min: number, max: number, index: number, count: number): { min: number; max: number } {
  const size = Math.floor((max - min + 1) / count / 2) * 2;
  if (size < 2) throw new RangeError(`the range ${min}-${max} is too small for ${count} workers`);
  const start = min + index * size;
  return { min: start, max: start + size - 1 };
}

/**
 * The configuration of worker `index` of `count` on one machine (`switchboard --workers N`):
 * they share the HTTP/WebSocket port and the STUN port (Node's cluster module hands connections
 * and datagrams to any of them, which suits both: a browser's session lives where it landed, and
 * STUN is stateless); SIP needs a port each (a SIP transaction must come back to the process that
 * started it), `sip.port + 2 * index` (TLS: `sip.tls.port + 2 * index`), and each anchors media in its own slice of the RTP and ICE
 * ranges (or, with media.iceUdpMux, on its own mux port, `port + index`). Every worker is a node of its own in the cluster directory.
 */
export function workerConfig(config: GatewayConfig, index: number, count: number, baseNodeId: string): GatewayConfig {
  const rtp = portSlice(config.media.rtpPortMin, config.media.rtpPortMax, index, count);
  const ice =
    config.media.icePortMin !== undefined && config.media.icePortMax !== undefined
      ? portSlice(config.media.icePortMin, config.media.icePortMax, index, count)
      : undefined;
  // A stride of 2 keeps the default pair apart: worker i has SIP 5060 + 2i and SIP over TLS 5061 + 2i.
  const shift = (port: number) => (port === 0 ? 0 : port + 2 * index);
  return {
    ...config,
    cluster: { ...config.cluster, nodeId: `${baseNodeId}-w${index}` },
    sip: { ...config.sip, port: shift(config.sip.port), ...(config.sip.tls ? { tls: { ...config.sip.tls, port: shift(config.sip.tls.port) } } : {}) },
    media: {
      ...config.media,
      rtpPortMin: rtp.min,
      rtpPortMax: rtp.max,
      ...(ice ? { icePortMin: ice.min, icePortMax: ice.max } : {}),
      // A UDP port is one process's: each worker muxes on a port of its own.
      ...(config.media.iceUdpMux ? { iceUdpMux: { port: config.media.iceUdpMux.port + index } } : {}),
    },
  };
}
